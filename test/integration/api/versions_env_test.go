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
	"bytes"
	"net/http"
	"testing"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// The two served versions of one resource.
const (
	alpha = "v1alpha2"
	beta  = "v2beta1"
)

var bothVersions = []string{alpha, beta}

// TestVersions runs the tests of what a client sees of one job through
// v1alpha2 and v2beta1, on a server of its own: each group works in its own
// namespaces.
func TestVersions(t *testing.T) {
	e := newEnv(t, inprocess.Start(t))
	t.Run("ReadAcross", func(t *testing.T) { testVersionsReadAcross(t, e) })
	t.Run("ServerSideApply", func(t *testing.T) { testVersionsServerSideApply(t, e) })
	t.Run("FieldSelectors", func(t *testing.T) { testVersionsFieldSelectors(t, e) })
	t.Run("OpenAPI", func(t *testing.T) { testVersionsOpenAPI(t, e) })
	t.Run("BadInput", func(t *testing.T) { testVersionsBadInput(t, e) })
}

func versionNSPath(version, ns string) string {
	return "/apis/kubeflow.org/" + version + "/namespaces/" + ns + "/mpijobs"
}

func versionObjPath(version, ns, name string) string {
	return versionNSPath(version, ns) + "/" + name
}

// replicaSpecs is a launcher and two workers, one container each, as JSON
// numbers decode.
func replicaSpecs() obj {
	template := func(image string) obj {
		return obj{"spec": obj{"containers": []any{obj{"name": "mpi", "image": image}}}}
	}
	return deepCopy(obj{
		"Launcher": obj{"replicas": 1, "template": template("launcher:1")},
		"Worker":   obj{"replicas": 2, "template": template("worker:1")},
	})
}

// versionJob is a job body for version; spec gets replicaSpecs unless it
// has mpiReplicaSpecs.
func versionJob(version, ns, name string, spec obj) obj {
	spec = deepCopy(spec)
	if _, ok := spec["mpiReplicaSpecs"]; !ok {
		spec["mpiReplicaSpecs"] = replicaSpecs()
	}
	return obj{
		"apiVersion": "kubeflow.org/" + version,
		"kind":       "MPIJob",
		"metadata":   obj{"namespace": ns, "name": name},
		"spec":       spec,
	}
}

func (e *env) createIn(t testing.TB, version string, o obj) obj {
	t.Helper()
	ns := o["metadata"].(obj)["namespace"].(string)
	r := e.do(t, harness.Request{Method: http.MethodPost, URL: versionNSPath(version, ns), Body: o})
	expectNoReserved(t, r)
	return harness.ExpectObject(t, r, http.StatusCreated)
}

func (e *env) readIn(t testing.TB, version, ns, name string) obj {
	t.Helper()
	r := e.do(t, harness.Request{URL: versionObjPath(version, ns, name)})
	expectNoReserved(t, r)
	o := harness.ExpectObject(t, r, http.StatusOK)
	if got := o["apiVersion"]; got != "kubeflow.org/"+version {
		t.Errorf("GET %s: apiVersion %v", versionObjPath(version, ns, name), got)
	}
	return o
}

// listIn returns the items of the namespace's list in version.
func (e *env) listIn(t testing.TB, version, ns, query string) []obj {
	t.Helper()
	r := e.do(t, harness.Request{URL: versionNSPath(version, ns) + query})
	expectNoReserved(t, r)
	l := harness.ExpectObject(t, r, http.StatusOK)
	if l["apiVersion"] != "kubeflow.org/"+version || l["kind"] != "MPIJobList" {
		t.Errorf("%s: apiVersion %v kind %v", r.Request, l["apiVersion"], l["kind"])
	}
	var items []obj
	for _, it := range l["items"].([]any) {
		items = append(items, it.(obj))
	}
	return items
}

// expectNoReserved fails when the answer's bytes, whatever their encoding,
// carry the annotation the server keeps to itself.
func expectNoReserved(t testing.TB, r harness.Response) {
	t.Helper()
	if bytes.Contains(r.Body, []byte(carryover.Annotation)) {
		t.Errorf("%s: the answer shows the reserved annotation %s: %s", r.Request, carryover.Annotation, r)
	}
}
