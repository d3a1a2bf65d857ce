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
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

func containerNames(t testing.TB, o obj, replica string) []string {
	t.Helper()
	var names []string
	for _, c := range mustGet(t, o, "spec", "mpiReplicaSpecs", replica, "template", "spec", "containers").([]interface{}) {
		names = append(names, c.(obj)["name"].(string))
	}
	return names
}

func testPatch(t *testing.T, e *env) {
	const ns = "patch-ns"

	t.Run("JSONPatch", func(t *testing.T) {
		const name = "json"
		e.create(t, harness.SeedJobForTest(t, ns, name))
		p := `[{"op":"replace","path":"/spec/slotsPerWorker","value":3},` +
			`{"op":"add","path":"/metadata/labels","value":{"via":"json-patch"}},` +
			`{"op":"replace","path":"/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/image","value":"busybox:2"}]`
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), Body: p, ContentType: contentJSONP})
		harness.ExpectCode(t, r, http.StatusOK)
		got := e.read(t, ns, name)
		if v, _ := get(got, "spec", "slotsPerWorker"); v != float64(3) {
			t.Errorf("slotsPerWorker = %v, want 3", v)
		}
		if v, _ := get(got, "metadata", "labels", "via"); v != "json-patch" {
			t.Errorf("label via = %v", v)
		}
		if v, _ := get(got, "spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers", 0, "image"); v != "busybox:2" {
			t.Errorf("Worker image = %v, want busybox:2", v)
		}
		if v, _ := get(e.etcdObject(t, ns, name), "spec", "slotsPerWorker"); v != float64(3) {
			t.Errorf("stored slotsPerWorker = %v, want 3", v)
		}
		// A failing test operation writes nothing.
		before := e.etcdGet(t, ns, name)
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), ContentType: contentJSONP,
			Body: `[{"op":"test","path":"/spec/slotsPerWorker","value":99},{"op":"replace","path":"/spec/slotsPerWorker","value":5}]`})
		if r.Code < 400 || r.Code >= 500 {
			t.Errorf("failed JSON patch test op: want a 4xx, got %s", r)
		}
		e.expectEtcdUnchanged(t, ns, name, before)
	})

	t.Run("MergePatch", func(t *testing.T) {
		const name = "merge"
		e.create(t, harness.SeedJobForTest(t, ns, name))
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), ContentType: contentMerge,
			Body: `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":4}},"activeDeadlineSeconds":600}}`})
		harness.ExpectCode(t, r, http.StatusOK)
		got := r.Object(t)
		if v, _ := get(got, "spec", "mpiReplicaSpecs", "Worker", "replicas"); v != float64(4) {
			t.Errorf("Worker replicas = %v, want 4", v)
		}
		// Everything else is kept.
		want := expectedSpec(t)
		set(t, want, float64(4), "mpiReplicaSpecs", "Worker", "replicas")
		want["activeDeadlineSeconds"] = float64(600)
		if d := diff(want, got["spec"]); d != "" {
			t.Errorf("merge patch result (-want +got):\n%s", d)
		}
		// A merge patch replaces lists whole.
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), ContentType: contentMerge,
			Body: `{"spec":{"mpiReplicaSpecs":{"Worker":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}}}`})
		harness.ExpectCode(t, r, http.StatusOK)
		if names := containerNames(t, r.Object(t), "Worker"); strings.Join(names, ",") != "sidecar" {
			t.Errorf("after a merge patch of the list, containers = %v, want [sidecar]", names)
		}
		// null removes a field.
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), ContentType: contentMerge,
			Body: `{"spec":{"slotsPerWorker":null}}`})
		harness.ExpectCode(t, r, http.StatusOK)
		if v, ok := get(r.Object(t), "spec", "slotsPerWorker"); ok {
			t.Errorf("slotsPerWorker = %v after patching it to null", v)
		}
		if _, ok := get(e.etcdObject(t, ns, name), "spec", "slotsPerWorker"); ok {
			t.Errorf("stored slotsPerWorker after patching it to null")
		}
	})

	t.Run("StrategicMergePatchScalar", func(t *testing.T) {
		const name = "smp-scalar"
		e.create(t, harness.SeedJobForTest(t, ns, name))
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), ContentType: contentSMP,
			Body: `{"metadata":{"labels":{"a":"b"}},"spec":{"slotsPerWorker":2,"cleanPodPolicy":"Running"}}`})
		harness.ExpectCode(t, r, http.StatusOK)
		stored := e.etcdObject(t, ns, name)
		if v, _ := get(stored, "spec", "slotsPerWorker"); v != float64(2) {
			t.Errorf("stored slotsPerWorker = %v, want 2", v)
		}
	})

	// kubectl patch's default type: scaling the workers as a user would
	// (kubectl patch mj x -p '{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":3}}}}').
	t.Run("StrategicMergePatchScaleWorkers", func(t *testing.T) {
		const name = "smp-scale"
		e.create(t, harness.SeedJobForTest(t, ns, name))
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), ContentType: contentSMP,
			Body: `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":3}}}}`})
		harness.ExpectCode(t, r, http.StatusOK)
		if v, _ := get(e.etcdObject(t, ns, name), "spec", "mpiReplicaSpecs", "Worker", "replicas"); v != float64(3) {
			t.Errorf("stored Worker replicas = %v, want 3", v)
		}
	})

	t.Run("StrategicMergePatchStatusReplicaStatuses", func(t *testing.T) {
		const name = "smp-status"
		e.create(t, harness.SeedJobForTest(t, ns, name))
		cur := e.read(t, ns, name)
		cur["status"] = seedStatus(t) // Launcher {succeeded: 1}, Worker {}
		harness.ExpectCode(t, e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name) + "/status", Body: cur}), http.StatusOK)
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + "/status", ContentType: contentSMP,
			Body: `{"status":{"replicaStatuses":{"Worker":{"active":2}}}}`})
		harness.ExpectCode(t, r, http.StatusOK)
		want := obj{"Launcher": obj{"succeeded": float64(1)}, "Worker": obj{"active": float64(2)}}
		if d := diff(want, mustGet(t, e.etcdObject(t, ns, name), "status", "replicaStatuses")); d != "" {
			t.Errorf("stored replicaStatuses (-want +got):\n%s", d)
		}
	})

	t.Run("StrategicMergePatch", func(t *testing.T) {
		const name = "smp"
		e.create(t, harness.SeedJobForTest(t, ns, name))
		// Containers merge by name: a new name is added...
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), ContentType: contentSMP,
			Body: `{"spec":{"mpiReplicaSpecs":{"Worker":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}}}`})
		harness.ExpectCode(t, r, http.StatusOK)
		got := r.Object(t)
		if names := containerNames(t, got, "Worker"); strings.Join(names, ",") != "mpi,sidecar" && strings.Join(names, ",") != "sidecar,mpi" {
			t.Errorf("containers after a strategic merge patch = %v, want mpi and sidecar", names)
		}
		// ...an existing name is merged into.
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), ContentType: contentSMP,
			Body: `{"spec":{"mpiReplicaSpecs":{"Launcher":{"template":{"spec":{"containers":[{"name":"mpi","image":"horovod:new"}]}}}}}}`})
		harness.ExpectCode(t, r, http.StatusOK)
		got = r.Object(t)
		l := mustGet(t, got, "spec", "mpiReplicaSpecs", "Launcher", "template", "spec", "containers").([]interface{})
		if len(l) != 1 {
			t.Fatalf("Launcher containers = %v, want the one mpi container", l)
		}
		c := l[0].(obj)
		if c["image"] != "horovod:new" {
			t.Errorf("Launcher image = %v, want horovod:new", c["image"])
		}
		if d := diff(mustGet(t, expectedSpec(t), "mpiReplicaSpecs", "Launcher", "template", "spec", "containers", 0, "args"), c["args"]); d != "" {
			t.Errorf("Launcher args lost by the merge (-want +got):\n%s", d)
		}
		// $patch: delete removes by name.
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), ContentType: contentSMP,
			Body: `{"spec":{"mpiReplicaSpecs":{"Worker":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}}}`})
		harness.ExpectCode(t, r, http.StatusOK)
		if names := containerNames(t, r.Object(t), "Worker"); strings.Join(names, ",") != "mpi" {
			t.Errorf("containers after $patch: delete = %v, want [mpi]", names)
		}
		stored := e.etcdObject(t, ns, name)
		if v, _ := get(stored, "spec", "mpiReplicaSpecs", "Launcher", "template", "spec", "containers", 0, "image"); v != "horovod:new" {
			t.Errorf("stored Launcher image = %v", v)
		}
	})

	t.Run("ApplyConflictsAndForce", func(t *testing.T) {
		const name = "apply"
		alice := harness.SeedJobForTest(t, ns, name)
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + "?fieldManager=alice", Body: alice, ContentType: contentApply})
		harness.ExpectCode(t, r, http.StatusCreated)
		if d := diff(expectedSpec(t), r.Object(t)["spec"]); d != "" {
			t.Errorf("applied spec (-want +got):\n%s", d)
		}
		// Apply is YAML too.
		yamlBody := "apiVersion: kubeflow.org/v1alpha2\nkind: MPIJob\nmetadata:\n  name: apply\n  namespace: patch-ns\n  labels:\n    owner: carol\n"
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + "?fieldManager=carol", Body: yamlBody, ContentType: contentApply})
		harness.ExpectCode(t, r, http.StatusOK)
		if v, _ := get(r.Object(t), "metadata", "labels", "owner"); v != "carol" {
			t.Errorf("YAML apply did not set the label: %v", r.Object(t)["metadata"])
		}

		before := e.etcdGet(t, ns, name)
		bob := obj{
			"apiVersion": "kubeflow.org/v1alpha2", "kind": "MPIJob",
			"metadata": obj{"name": name, "namespace": ns},
			"spec":     obj{"slotsPerWorker": float64(2)},
		}
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + "?fieldManager=bob", Body: bob, ContentType: contentApply})
		s := harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict, "alice", ".spec.slotsPerWorker")
		if s.Details == nil || len(s.Details.Causes) == 0 {
			t.Errorf("conflict has no causes: %s", r.Body)
		} else if s.Details.Causes[0].Type != metav1.CauseTypeFieldManagerConflict {
			t.Errorf("conflict cause type = %q, want %q", s.Details.Causes[0].Type, metav1.CauseTypeFieldManagerConflict)
		}
		e.expectEtcdUnchanged(t, ns, name, before)

		// The same value is shared ownership, not a conflict.
		bob["spec"] = obj{"slotsPerWorker": float64(1)}
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + "?fieldManager=bob", Body: bob, ContentType: contentApply})
		harness.ExpectCode(t, r, http.StatusOK)

		bob["spec"] = obj{"slotsPerWorker": float64(2)}
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + "?fieldManager=bob&force=true", Body: bob, ContentType: contentApply})
		harness.ExpectCode(t, r, http.StatusOK)
		got := r.Object(t)
		if v, _ := get(got, "spec", "slotsPerWorker"); v != float64(2) {
			t.Errorf("forced apply: slotsPerWorker = %v, want 2", v)
		}
		if mf := managedFieldsOf(t, got, "alice"); len(mf) != 1 || strings.Contains(mustJSON(mf[0]["fieldsV1"]), "f:slotsPerWorker") {
			t.Errorf("alice still owns slotsPerWorker after bob forced it: %v", mf)
		}
		if mf := managedFieldsOf(t, got, "bob"); len(mf) != 1 || !strings.Contains(mustJSON(mf[0]["fieldsV1"]), "f:slotsPerWorker") {
			t.Errorf("bob does not own slotsPerWorker after forcing it: %v", mf)
		}
		if v, _ := get(e.etcdObject(t, ns, name), "spec", "slotsPerWorker"); v != float64(2) {
			t.Errorf("stored slotsPerWorker = %v, want 2", v)
		}

		// An update (PUT) by another manager takes ownership of what it changes.
		cur := e.read(t, ns, name)
		set(t, cur, float64(3), "spec", "mpiReplicaSpecs", "Worker", "replicas")
		r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name) + "?fieldManager=dave", Body: cur})
		harness.ExpectCode(t, r, http.StatusOK)
		if mf := managedFieldsOf(t, r.Object(t), "dave"); len(mf) != 1 || mf[0]["operation"] != "Update" {
			t.Errorf("dave's managedFields = %v, want one Update entry", mf)
		}

		// Apply requires a field manager: kube-apiserver's PatchOptions
		// validation, a 422.
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), Body: bob, ContentType: contentApply})
		harness.ExpectStatus(t, r, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, "fieldManager")
	})
}
