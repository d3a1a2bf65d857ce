/*
Copyright The mpijob-apiserver Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package api

import (
	"net/http"
	"testing"

	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestVersionsReapply: a manager that re-applies its unchanged v2beta1
// config, beside a manager that applied in v1alpha2, writes nothing and
// keeps its v2beta1-only values.
func TestVersionsReapply(t *testing.T) {
	e := newEnv(t, inprocess.Start(t))
	const ns, name = "versions-reapply", "reapply"
	apply := func(version, manager string, spec obj) harness.Response {
		body := obj{"apiVersion": "kubeflow.org/" + version, "kind": "MPIJob",
			"metadata": obj{"namespace": ns, "name": name}, "spec": deepCopy(spec)}
		return e.do(t, harness.Request{Method: http.MethodPatch, URL: versionObjPath(version, ns, name) + "?fieldManager=" + manager,
			ContentType: contentApply, Body: body})
	}
	harness.ExpectCode(t, apply(alpha, "a", obj{"cleanPodPolicy": "Running", "mpiReplicaSpecs": replicaSpecs()}), http.StatusCreated)
	b := obj{"sshAuthMountPath": "/home/mpi/.ssh", "runPolicy": obj{"backoffLimit": 4, "suspend": true}}
	first := harness.ExpectObject(t, apply(beta, "b", b), http.StatusOK)
	again := harness.ExpectObject(t, apply(beta, "b", b), http.StatusOK)
	if metaString(t, first, "resourceVersion") != metaString(t, again, "resourceVersion") {
		t.Errorf("re-applying an unchanged config wrote the job (-first +again):\n%s", diff(first, again))
	}
	if d := diff(deepCopy(obj{"ssh": "/home/mpi/.ssh", "suspend": true}),
		obj{"ssh": mustGet(t, again, "spec", "sshAuthMountPath"), "suspend": mustGet(t, again, "spec", "runPolicy", "suspend")}); d != "" {
		t.Errorf("B's v2beta1-only values after its re-apply (-applied +got):\n%s", d)
	}
}
