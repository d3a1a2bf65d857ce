package api

import (
	"net/http"
	"strings"
	"testing"
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
		o := job(t, ns, "create-with-status")
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
	e.create(t, job(t, ns, name))
	cur := e.read(t, ns, name)
	cur["status"] = someStatus()
	r := e.do(t, req{method: "PUT", path: objPath(ns, name) + "/status", body: cur})
	expect(t, r, http.StatusOK)
	status := r.object(t)["status"]
	if d := diff(someStatus(), status); d != "" {
		t.Fatalf("PUT /status did not set the status (-want +got):\n%s", d)
	}

	t.Run("PutMainIgnoresStatus", func(t *testing.T) {
		cur := e.read(t, ns, name)
		cur["status"] = seedStatus(t)
		set(t, cur, float64(3), "spec", "slotsPerWorker")
		r := e.do(t, req{method: "PUT", path: objPath(ns, name), body: cur})
		expect(t, r, http.StatusOK)
		got := r.object(t)
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
			r := e.do(t, req{method: "PATCH", path: objPath(ns, name), body: patch, contentType: ct})
			expect(t, r, http.StatusOK)
			if d := diff(someStatus(), r.object(t)["status"]); d != "" {
				t.Errorf("%s PATCH on the main resource changed the status (-want +got):\n%s", ct, d)
			}
		}
		jp := `[{"op":"replace","path":"/status/startTime","value":"2020-01-01T00:00:00Z"}]`
		r := e.do(t, req{method: "PATCH", path: objPath(ns, name), body: jp, contentType: contentJSONP})
		expect(t, r, http.StatusOK)
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
		r := e.do(t, req{method: "PUT", path: objPath(ns, name) + "/status", body: upd})
		expect(t, r, http.StatusOK)
		got := r.object(t)
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
		r = e.do(t, req{method: "PATCH", path: objPath(ns, name) + "/status", body: p, contentType: contentMerge})
		expect(t, r, http.StatusOK)
		got = r.object(t)
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
		created := e.create(t, job(t, ns, gname))
		if g := generation(t, created); g != 1 {
			t.Fatalf("generation after create = %d, want 1", g)
		}
		step := func(what string, r response, want int64) {
			t.Helper()
			expect(t, r, http.StatusOK)
			if g := generation(t, r.object(t)); g != want {
				t.Errorf("%s: generation = %d, want %d", what, g, want)
			}
			if g := generation(t, e.etcdObject(t, ns, gname)); g != want {
				t.Errorf("%s: stored generation = %d, want %d", what, g, want)
			}
		}
		cur := e.read(t, ns, gname)
		set(t, cur, obj{"team": "a"}, "metadata", "labels")
		step("PUT changing a label", e.do(t, req{method: "PUT", path: objPath(ns, gname), body: cur}), 1)
		step("merge patch of an annotation", e.do(t, req{method: "PATCH", path: objPath(ns, gname),
			body: `{"metadata":{"annotations":{"a":"b"}}}`, contentType: contentMerge}), 1)
		cur = e.read(t, ns, gname)
		cur["status"] = someStatus()
		step("PUT /status", e.do(t, req{method: "PUT", path: objPath(ns, gname) + "/status", body: cur}), 1)
		cur = e.read(t, ns, gname)
		set(t, cur, float64(4), "spec", "mpiReplicaSpecs", "Worker", "replicas")
		step("PUT changing the spec", e.do(t, req{method: "PUT", path: objPath(ns, gname), body: cur}), 2)
		step("merge patch of the spec", e.do(t, req{method: "PATCH", path: objPath(ns, gname),
			body: `{"spec":{"slotsPerWorker":2}}`, contentType: contentMerge}), 3)
		step("a no-op merge patch of the spec", e.do(t, req{method: "PATCH", path: objPath(ns, gname),
			body: `{"spec":{"slotsPerWorker":2}}`, contentType: contentMerge}), 3)
		step("JSON patch of the spec", e.do(t, req{method: "PATCH", path: objPath(ns, gname),
			body: `[{"op":"replace","path":"/spec/cleanPodPolicy","value":"Running"}]`, contentType: contentJSONP}), 4)
		// A client that sends the generation cannot move it.
		cur = e.read(t, ns, gname)
		set(t, cur, float64(100), "metadata", "generation")
		step("PUT with a made-up generation", e.do(t, req{method: "PUT", path: objPath(ns, gname), body: cur}), 4)
	})

	t.Run("ServerSideApplyResetFields", func(t *testing.T) {
		const aname = "ssa-status"
		applied := job(t, ns, aname)
		applied["status"] = someStatus()
		r := e.do(t, req{method: "PATCH", path: objPath(ns, aname) + "?fieldManager=alice",
			body: applied, contentType: contentApply})
		expect(t, r, http.StatusCreated)
		got := r.object(t)
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
		r = e.do(t, req{method: "PATCH", path: objPath(ns, aname) + "?fieldManager=alice",
			body: applied, contentType: contentApply})
		expect(t, r, http.StatusOK)

		// The operator applies the status through /status.
		st := obj{
			"apiVersion": "kubeflow.org/v1alpha2", "kind": "MPIJob",
			"metadata": obj{"name": aname, "namespace": ns},
			"status":   someStatus(),
		}
		r = e.do(t, req{method: "PATCH", path: objPath(ns, aname) + "/status?fieldManager=operator",
			body: st, contentType: contentApply})
		expect(t, r, http.StatusOK)
		got = r.object(t)
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
		r = e.do(t, req{method: "PATCH", path: objPath(ns, aname) + "/status?fieldManager=operator",
			body: st, contentType: contentApply})
		expect(t, r, http.StatusOK)
		if v, _ := get(r.object(t), "spec", "slotsPerWorker"); v != float64(1) {
			t.Errorf("apply on /status changed spec.slotsPerWorker to %v", v)
		}
	})
}
