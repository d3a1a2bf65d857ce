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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// testVersionsServerSideApply: two managers apply one job, one in each
// version. Fields are owned across versions: no conflict where they differ,
// a conflict where both set what is one field of the stored object, none
// when a manager re-applies what it applied, and managedFields name each
// manager's version.
func testVersionsServerSideApply(t *testing.T, e *env) {
	const ns, name = "versions-ssa", "ssa"
	apply := func(t *testing.T, version, manager string, body obj, query string) harness.Response {
		t.Helper()
		body["apiVersion"], body["kind"] = "kubeflow.org/"+version, "MPIJob"
		md, _ := body["metadata"].(obj)
		if md == nil {
			md = obj{}
			body["metadata"] = md
		}
		md["namespace"], md["name"] = ns, name
		r := e.do(t, harness.Request{Method: http.MethodPatch, URL: versionObjPath(version, ns, name) + "?fieldManager=" + manager + query,
			ContentType: contentApply, Body: body})
		expectNoReserved(t, r)
		return r
	}
	// A, in v1alpha2: the whole job, with the top-level cleanPodPolicy.
	aConfig := func() obj {
		return deepCopy(obj{
			"metadata": obj{"labels": obj{"owner-a": "1"}},
			"spec":     obj{"cleanPodPolicy": "Running", "slotsPerWorker": 1, "mpiReplicaSpecs": replicaSpecs()},
		})
	}
	// B, in v2beta1: fields A did not set, two of them v2beta1-only.
	bConfig := func() obj {
		return deepCopy(obj{
			"metadata": obj{"labels": obj{"owner-b": "1"}},
			"spec":     obj{"sshAuthMountPath": "/home/mpi/.ssh", "runPolicy": obj{"backoffLimit": 4, "suspend": true}},
		})
	}
	harness.ExpectCode(t, apply(t, alpha, "a", aConfig(), ""), http.StatusCreated)

	t.Run("different fields", func(t *testing.T) {
		got := harness.ExpectObject(t, apply(t, beta, "b", bConfig(), ""), http.StatusOK)
		if v := mustGet(t, got, "spec", "sshAuthMountPath"); v != "/home/mpi/.ssh" {
			t.Errorf("sshAuthMountPath %v", v)
		}
		alphaRead := e.readIn(t, alpha, ns, name)
		if d := diff(obj{"owner-a": "1", "owner-b": "1"}, mustGet(t, alphaRead, "metadata", "labels")); d != "" {
			t.Errorf("labels (-want +got):\n%s", d)
		}
		if d := diff(deepCopy(obj{"backoffLimit": 4}), mustGet(t, alphaRead, "spec", "runPolicy")); d != "" {
			t.Errorf("runPolicy read in v1alpha2 (-want +got):\n%s", d)
		}
	})
	t.Run("managedFields", func(t *testing.T) {
		for _, v := range bothVersions {
			got := e.readIn(t, v, ns, name)
			for manager, version := range map[string]string{"a": alpha, "b": beta} {
				entries := managedFieldsOf(t, got, manager)
				if len(entries) != 1 || entries[0]["apiVersion"] != "kubeflow.org/"+version || entries[0]["operation"] != "Apply" {
					t.Errorf("read in %s: managedFields of %s: %v, want one Apply entry with apiVersion kubeflow.org/%s", v, manager, entries, version)
				}
			}
		}
	})
	// A's second apply in v1alpha2 leaves B's fields to B.
	a := aConfig()
	a["metadata"].(obj)["labels"].(obj)["round"] = "2"
	harness.ExpectCode(t, apply(t, alpha, "a", a, ""), http.StatusOK)
	got := e.readIn(t, beta, ns, name)
	if mustGet(t, got, "spec", "sshAuthMountPath") != "/home/mpi/.ssh" || mustGet(t, got, "spec", "runPolicy", "suspend") != true {
		t.Errorf("after A's second apply in v1alpha2, B's v2beta1 fields changed: %v", got["spec"])
	}
	t.Run("conflicts", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			spec  obj
			field string // as the conflict names it, in A's version
		}{
			{"worker replicas", obj{"mpiReplicaSpecs": obj{"Worker": obj{"replicas": 5}}}, ".spec.mpiReplicaSpecs.Worker.replicas"},
			{"cleanPodPolicy", obj{"runPolicy": obj{"cleanPodPolicy": "All"}}, ".spec.cleanPodPolicy"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.readIn(t, alpha, ns, name)
				r := apply(t, beta, "b2", obj{"spec": deepCopy(c.spec)}, "")
				harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict, `conflict with "a"`, c.field)
				if d := diff(before, e.readIn(t, alpha, ns, name)); d != "" {
					t.Errorf("a refused apply changed the job (-before +after):\n%s", d)
				}
			})
		}
	})
	t.Run("status in one version, spec in the other", func(t *testing.T) {
		status := obj{"status": obj{"conditions": []any{obj{"type": "Created", "status": "True", "reason": "MPIJobCreated",
			"lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"}}}}
		body := deepCopy(status)
		body["apiVersion"], body["kind"] = "kubeflow.org/"+beta, "MPIJob"
		body["metadata"] = obj{"namespace": ns, "name": name}
		r := e.do(t, harness.Request{Method: http.MethodPatch, URL: versionObjPath(beta, ns, name) + "/status?fieldManager=s",
			ContentType: contentApply, Body: body})
		harness.ExpectCode(t, r, http.StatusOK)
		got := e.readIn(t, alpha, ns, name)
		if d := diff(mustGet(t, deepCopy(status), "status", "conditions"), mustGet(t, got, "status", "conditions")); d != "" {
			t.Errorf("status applied in v2beta1, read in v1alpha2 (-want +got):\n%s", d)
		}
		entries := managedFieldsOf(t, got, "s")
		if len(entries) != 1 || entries[0]["apiVersion"] != "kubeflow.org/v2beta1" || entries[0]["subresource"] != "status" {
			t.Errorf("managedFields of s: %v, want one v2beta1 entry for the status subresource", entries)
		}
		// A re-applies its spec in v1alpha2: the status stays.
		a := aConfig()
		a["metadata"].(obj)["labels"].(obj)["round"] = "3"
		got = harness.ExpectObject(t, apply(t, alpha, "a", a, ""), http.StatusOK)
		if d := diff(mustGet(t, deepCopy(status), "status", "conditions"), mustGet(t, got, "status", "conditions")); d != "" {
			t.Errorf("status after A's apply (-want +got):\n%s", d)
		}
	})
	t.Run("status is reset on the main resource", func(t *testing.T) {
		for _, v := range bothVersions {
			before := e.readIn(t, v, ns, name)
			body := obj{"status": obj{"conditions": []any{obj{"type": "Failed", "status": "True", "reason": "Ignored"}}}}
			r := apply(t, v, "status-on-main-"+v, body, "")
			harness.ExpectCode(t, r, http.StatusOK)
			after := e.readIn(t, v, ns, name)
			if d := diff(before["status"], after["status"]); d != "" {
				t.Errorf("status applied to the main resource in %s changed the status (-before +after):\n%s", v, d)
			}
			if entries := managedFieldsOf(t, after, "status-on-main-"+v); len(entries) != 0 {
				t.Errorf("in %s: managedFields %v for a manager whose only field was reset", v, entries)
			}
		}
	})
}
