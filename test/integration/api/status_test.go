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

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// someStatus is a status the operator could write, different from the seed's.
func someStatus() obj {
	return obj{
		"conditions": []interface{}{
			obj{
				"type": "Created", "status": "True", "reason": "MPIJobCreated",
				"message":            "MPIJob status-ns/x is created.",
				"lastUpdateTime":     "2024-01-02T03:04:05Z",
				"lastTransitionTime": "2024-01-02T03:04:05Z",
			},
		},
		"replicaStatuses": obj{"Launcher": obj{"active": float64(1)}, "Worker": obj{}},
		"startTime":       "2024-01-02T03:04:05Z",
	}
}

func testStatusSubresource(t *testing.T, e *env) {
	const ns = "status-ns"

	t.Run("CreateIgnoresStatus", func(t *testing.T) {
		o := harness.SeedJobForTest(t, ns, "create-with-status")
		o["status"] = someStatus()
		created := e.create(t, o)
		if c, _ := get(created, "status", "conditions"); c != nil {
			t.Errorf("POST response status.conditions = %v, want none", c)
		}
		if rs, _ := get(created, "status", "replicaStatuses"); rs != nil {
			t.Errorf("POST response status.replicaStatuses = %v, want none", rs)
		}
		stored := e.etcdObject(t, ns, "create-with-status")
		if c, _ := get(stored, "status", "conditions"); c != nil {
			t.Errorf("stored status.conditions = %v, want none", c)
		}
		if st, _ := get(stored, "status", "startTime"); st != nil {
			t.Errorf("stored status.startTime = %v, want none", st)
		}
	})

	// One object with a status written through /status.
	const name = "sub"
	e.create(t, harness.SeedJobForTest(t, ns, name))
	cur := e.read(t, ns, name)
	cur["status"] = someStatus()
	r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name) + "/status", Body: cur})
	harness.ExpectCode(t, r, http.StatusOK)
	status := r.Object(t)["status"]
	if d := diff(someStatus(), status); d != "" {
		t.Fatalf("PUT /status did not set the status (-want +got):\n%s", d)
	}

	t.Run("PutMainIgnoresStatus", func(t *testing.T) {
		cur := e.read(t, ns, name)
		cur["status"] = seedStatus(t)
		set(t, cur, float64(3), "spec", "slotsPerWorker")
		r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name), Body: cur})
		harness.ExpectCode(t, r, http.StatusOK)
		got := r.Object(t)
		if d := diff(someStatus(), got["status"]); d != "" {
			t.Errorf("PUT on the main resource changed the status (-want +got):\n%s", d)
		}
		if v, _ := get(got, "spec", "slotsPerWorker"); v != float64(3) {
			t.Errorf("spec.slotsPerWorker = %v, want the PUT's 3", v)
		}
		if d := diff(someStatus(), e.etcdObject(t, ns, name)["status"]); d != "" {
			t.Errorf("stored status changed by PUT on the main resource (-want +got):\n%s", d)
		}
	})

	t.Run("PatchMainIgnoresStatus", func(t *testing.T) {
		patch := `{"status":{"conditions":[{"type":"Failed","status":"True"}],"startTime":"2020-01-01T00:00:00Z"}}`
		for _, ct := range []string{contentMerge, contentSMP} {
			r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), Body: patch, ContentType: ct})
			harness.ExpectCode(t, r, http.StatusOK)
			if d := diff(someStatus(), r.Object(t)["status"]); d != "" {
				t.Errorf("%s PATCH on the main resource changed the status (-want +got):\n%s", ct, d)
			}
		}
		jp := `[{"op":"replace","path":"/status/startTime","value":"2020-01-01T00:00:00Z"}]`
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name), Body: jp, ContentType: contentJSONP})
		harness.ExpectCode(t, r, http.StatusOK)
		if d := diff(someStatus(), e.read(t, ns, name)["status"]); d != "" {
			t.Errorf("JSON PATCH on the main resource changed the status (-want +got):\n%s", d)
		}
	})

	t.Run("StatusIgnoresSpecAndMetadata", func(t *testing.T) {
		before := e.read(t, ns, name)
		gen := generation(t, before)
		upd := deepCopy(before)
		set(t, upd, float64(9), "spec", "slotsPerWorker")
		set(t, upd, float64(5), "spec", "mpiReplicaSpecs", "Worker", "replicas")
		set(t, upd, obj{"added": "by-status"}, "metadata", "labels")
		set(t, upd, obj{"added": "by-status"}, "metadata", "annotations")
		newStatus := someStatus()
		set(t, newStatus, obj{"active": float64(2)}, "replicaStatuses", "Worker")
		upd["status"] = newStatus
		r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name) + "/status", Body: upd})
		harness.ExpectCode(t, r, http.StatusOK)
		got := r.Object(t)
		if d := diff(before["spec"], got["spec"]); d != "" {
			t.Errorf("PUT /status changed the spec (-want +got):\n%s", d)
		}
		if l, ok := get(got, "metadata", "labels"); ok {
			t.Errorf("PUT /status set labels %v", l)
		}
		if a, ok := get(got, "metadata", "annotations"); ok {
			t.Errorf("PUT /status set annotations %v", a)
		}
		if d := diff(newStatus, got["status"]); d != "" {
			t.Errorf("PUT /status did not set the status (-want +got):\n%s", d)
		}
		if g := generation(t, got); g != gen {
			t.Errorf("generation moved %d -> %d on a status write", gen, g)
		}
		if metaString(t, got, "resourceVersion") == metaString(t, before, "resourceVersion") {
			t.Errorf("resourceVersion did not move on a status write")
		}
		stored := e.etcdObject(t, ns, name)
		if d := diff(before["spec"], stored["spec"]); d != "" {
			t.Errorf("stored spec changed by /status (-want +got):\n%s", d)
		}
		if l, ok := get(stored, "metadata", "labels"); ok {
			t.Errorf("stored labels %v set through /status", l)
		}

		// A merge patch of /status likewise.
		p := `{"metadata":{"labels":{"patched":"yes"}},"spec":{"slotsPerWorker":7},"status":{"completionTime":"2024-01-02T04:00:00Z"}}`
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + "/status", Body: p, ContentType: contentMerge})
		harness.ExpectCode(t, r, http.StatusOK)
		got = r.Object(t)
		if d := diff(before["spec"], got["spec"]); d != "" {
			t.Errorf("PATCH /status changed the spec (-want +got):\n%s", d)
		}
		if l, ok := get(got, "metadata", "labels"); ok {
			t.Errorf("PATCH /status set labels %v", l)
		}
		if v, _ := get(got, "status", "completionTime"); v != "2024-01-02T04:00:00Z" {
			t.Errorf("PATCH /status did not set status.completionTime: %v", got["status"])
		}
		if g := generation(t, got); g != gen {
			t.Errorf("generation moved %d -> %d on a status patch", gen, g)
		}
	})

	t.Run("GenerationOnlyOnSpecChange", func(t *testing.T) {
		const gname = "gen"
		created := e.create(t, harness.SeedJobForTest(t, ns, gname))
		if g := generation(t, created); g != 1 {
			t.Fatalf("generation after create = %d, want 1", g)
		}
		step := func(what string, r harness.Response, want int64) {
			t.Helper()
			harness.ExpectCode(t, r, http.StatusOK)
			if g := generation(t, r.Object(t)); g != want {
				t.Errorf("%s: generation = %d, want %d", what, g, want)
			}
			if g := generation(t, e.etcdObject(t, ns, gname)); g != want {
				t.Errorf("%s: stored generation = %d, want %d", what, g, want)
			}
		}
		cur := e.read(t, ns, gname)
		set(t, cur, obj{"team": "a"}, "metadata", "labels")
		step("PUT changing a label", e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, gname), Body: cur}), 1)
		step("merge patch of an annotation", e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, gname),
			Body: `{"metadata":{"annotations":{"a":"b"}}}`, ContentType: contentMerge}), 1)
		cur = e.read(t, ns, gname)
		cur["status"] = someStatus()
		step("PUT /status", e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, gname) + "/status", Body: cur}), 1)
		cur = e.read(t, ns, gname)
		set(t, cur, float64(4), "spec", "mpiReplicaSpecs", "Worker", "replicas")
		step("PUT changing the spec", e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, gname), Body: cur}), 2)
		step("merge patch of the spec", e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, gname),
			Body: `{"spec":{"slotsPerWorker":2}}`, ContentType: contentMerge}), 3)
		step("a no-op merge patch of the spec", e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, gname),
			Body: `{"spec":{"slotsPerWorker":2}}`, ContentType: contentMerge}), 3)
		step("JSON patch of the spec", e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, gname),
			Body: `[{"op":"replace","path":"/spec/cleanPodPolicy","value":"Running"}]`, ContentType: contentJSONP}), 4)
		// A client that sends the generation cannot move it.
		cur = e.read(t, ns, gname)
		set(t, cur, float64(100), "metadata", "generation")
		step("PUT with a made-up generation", e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, gname), Body: cur}), 4)
	})

	t.Run("ServerSideApplyResetFields", func(t *testing.T) {
		const aname = "ssa-status"
		applied := harness.SeedJobForTest(t, ns, aname)
		applied["status"] = someStatus()
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, aname) + "?fieldManager=alice",
			Body: applied, ContentType: contentApply})
		harness.ExpectCode(t, r, http.StatusCreated)
		got := r.Object(t)
		if c, _ := get(got, "status", "conditions"); c != nil {
			t.Errorf("apply on the main resource set status.conditions = %v", c)
		}
		alice := managedFieldsOf(t, got, "alice")
		if len(alice) != 1 {
			t.Fatalf("want one managedFields entry of alice, got %v", got["metadata"])
		}
		if fields := mustJSON(alice[0]["fieldsV1"]); strings.Contains(fields, `"f:status"`) {
			t.Errorf("alice's managedFields claim the status: %s", fields)
		} else if !strings.Contains(fields, `"f:spec"`) {
			t.Errorf("alice's managedFields do not claim the spec: %s", fields)
		}
		if alice[0]["operation"] != "Apply" {
			t.Errorf("alice's operation = %v, want Apply", alice[0]["operation"])
		}
		if sub, ok := alice[0]["subresource"]; ok {
			t.Errorf("alice's entry has subresource %v", sub)
		}
		// Applying again with the status is a no-op, not a conflict.
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, aname) + "?fieldManager=alice",
			Body: applied, ContentType: contentApply})
		harness.ExpectCode(t, r, http.StatusOK)

		// The operator applies the status through /status.
		st := obj{
			"apiVersion": "kubeflow.org/v1alpha2", "kind": "MPIJob",
			"metadata": obj{"name": aname, "namespace": ns},
			"status":   someStatus(),
		}
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, aname) + "/status?fieldManager=operator",
			Body: st, ContentType: contentApply})
		harness.ExpectCode(t, r, http.StatusOK)
		got = r.Object(t)
		if d := diff(someStatus(), got["status"]); d != "" {
			t.Errorf("apply on /status did not set the status (-want +got):\n%s", d)
		}
		if d := diff(expectedSpec(t), got["spec"]); d != "" {
			t.Errorf("apply on /status changed the spec (-want +got):\n%s", d)
		}
		op := managedFieldsOf(t, got, "operator")
		if len(op) != 1 {
			t.Fatalf("want one managedFields entry of operator, got %v", got["metadata"])
		}
		if op[0]["subresource"] != "status" {
			t.Errorf("operator's entry subresource = %v, want status", op[0]["subresource"])
		}
		fields := mustJSON(op[0]["fieldsV1"])
		if !strings.Contains(fields, `"f:status"`) || strings.Contains(fields, `"f:spec"`) {
			t.Errorf("operator's managedFields = %s, want the status only", fields)
		}
		if d := diff(someStatus(), e.etcdObject(t, ns, aname)["status"]); d != "" {
			t.Errorf("stored status differs (-want +got):\n%s", d)
		}

		// Applying a spec through /status changes nothing of the spec.
		st["spec"] = obj{"slotsPerWorker": float64(8)}
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, aname) + "/status?fieldManager=operator",
			Body: st, ContentType: contentApply})
		harness.ExpectCode(t, r, http.StatusOK)
		if v, _ := get(r.Object(t), "spec", "slotsPerWorker"); v != float64(1) {
			t.Errorf("apply on /status changed spec.slotsPerWorker to %v", v)
		}
	})
}
