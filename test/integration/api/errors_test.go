package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	kib = 1024
	mib = 1024 * kib
	// maxBody is the API server's request body limit.
	maxBody = 3 * mib
)

// bigJob is a valid job whose JSON encoding is size bytes (±1 KiB): the
// Worker container gets as many long args as it takes.
func bigJob(t testing.TB, ns, name string, size int) obj {
	t.Helper()
	o := job(t, ns, name)
	base, _ := json.Marshal(o)
	const chunk = 1000
	arg := strings.Repeat("a", chunk)
	n := (size - len(base)) / (chunk + 3)
	args := make([]interface{}, 0, n)
	for i := 0; i < n; i++ {
		args = append(args, arg)
	}
	set(t, o, args, "spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers", 0, "args")
	data, _ := json.Marshal(o)
	if d := len(data) - size; d > kib || d < -kib {
		t.Fatalf("bigJob: %d bytes, want %d", len(data), size)
	}
	return o
}

// invalidCases are representative validation rules with the field path the
// 422 must name.
var invalidCases = []struct {
	name   string
	mutate func(t testing.TB, o obj)
	field  string
}{
	{"slotsPerWorker 0", func(t testing.TB, o obj) { set(t, o, float64(0), "spec", "slotsPerWorker") },
		"spec.slotsPerWorker"},
	{"Launcher replicas 2", func(t testing.TB, o obj) {
		set(t, o, float64(2), "spec", "mpiReplicaSpecs", "Launcher", "replicas")
	}, "spec.mpiReplicaSpecs[Launcher].replicas"},
	{"Worker replicas 0", func(t testing.TB, o obj) {
		set(t, o, float64(0), "spec", "mpiReplicaSpecs", "Worker", "replicas")
	}, "spec.mpiReplicaSpecs[Worker].replicas"},
	{"missing Worker", func(t testing.TB, o obj) { del(t, o, "spec", "mpiReplicaSpecs", "Worker") },
		"spec.mpiReplicaSpecs[Worker]"},
	{"unknown replica key", func(t testing.TB, o obj) {
		set(t, o, mustGet(t, deepCopy(o), "spec", "mpiReplicaSpecs", "Worker"), "spec", "mpiReplicaSpecs", "PS")
	}, "spec.mpiReplicaSpecs[PS]"},
	{"container without image", func(t testing.TB, o obj) {
		del(t, o, "spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers", 0, "image")
	}, "spec.mpiReplicaSpecs[Worker].template.spec.containers[0].image"},
	{"bad cleanPodPolicy", func(t testing.TB, o obj) { set(t, o, "Sometimes", "spec", "cleanPodPolicy") },
		"spec.cleanPodPolicy"},
	{"bad restartPolicy", func(t testing.TB, o obj) {
		set(t, o, "Sometimes", "spec", "mpiReplicaSpecs", "Worker", "restartPolicy")
	}, "spec.mpiReplicaSpecs[Worker].restartPolicy"},
}

// expectInvalid checks a 422 naming the field in the message and causes.
func expectInvalid(t testing.TB, r response, name, field string) {
	t.Helper()
	s := expectStatus(t, r, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, field)
	if s.Details == nil {
		t.Fatalf("422 without details: %s", r.Body)
	}
	if s.Details.Group != "kubeflow.org" || s.Details.Kind != "MPIJob" || s.Details.Name != name {
		t.Errorf("details group/kind/name = %q/%q/%q, want kubeflow.org/MPIJob/%s", s.Details.Group, s.Details.Kind, s.Details.Name, name)
	}
	found := false
	for _, c := range s.Details.Causes {
		if c.Field == field {
			found = true
		}
	}
	if !found {
		t.Errorf("no cause for field %s: %+v", field, s.Details.Causes)
	}
}

func testErrors(t *testing.T, e *env) {
	t.Run("MalformedBody", func(t *testing.T) {
		const ns = "err-malformed"
		e.create(t, job(t, ns, "exists"))
		before := e.etcdGet(t, ns, "exists")
		for _, body := range []string{`{"apiVersion":`, `not json`, `["a list"]`} {
			r := e.do(t, req{method: "POST", path: nsPath(ns), body: body})
			expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
			r = e.do(t, req{method: "PUT", path: objPath(ns, "exists"), body: body})
			expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
			r = e.do(t, req{method: "PUT", path: objPath(ns, "exists") + "/status", body: body})
			expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
			for _, ct := range []string{contentMerge, contentSMP, contentJSONP} {
				r = e.do(t, req{method: "PATCH", path: objPath(ns, "exists"), body: body, contentType: ct})
				expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
			}
		}
		// A field of the wrong type.
		o := job(t, ns, "wrong-type")
		set(t, o, "two", "spec", "slotsPerWorker")
		r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
		expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "slotsPerWorker")
		e.expectEtcdUnchanged(t, ns, "exists", before)
		if names := e.etcdNames(t, ns); strings.Join(names, ",") != "exists" {
			t.Errorf("etcd holds %v, want only exists", names)
		}
	})

	t.Run("UnsupportedMediaType", func(t *testing.T) {
		const ns = "err-media"
		e.create(t, job(t, ns, "exists"))
		before := e.etcdGet(t, ns, "exists")
		body, _ := json.Marshal(job(t, ns, "text"))
		r := e.do(t, req{method: "POST", path: nsPath(ns), body: body, contentType: "text/plain"})
		expectStatus(t, r, http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType, "unknown format", "application/json")
		e.expectNotInEtcd(t, ns, "text")
		// application/json is not a patch type.
		r = e.do(t, req{method: "PATCH", path: objPath(ns, "exists"), body: `{"spec":{"slotsPerWorker":2}}`, contentType: contentJSON})
		expectStatus(t, r, http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType)
		e.expectEtcdUnchanged(t, ns, "exists", before)
	})

	// Without apiVersion and kind the body is taken as the URL's kind, as
	// kube-apiserver does.
	t.Run("TypeMetaFromURL", func(t *testing.T) {
		const ns = "err-typemeta"
		o := job(t, ns, "untyped")
		delete(o, "apiVersion")
		delete(o, "kind")
		r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
		expect(t, r, http.StatusCreated)
		if got := r.object(t); got["kind"] != "MPIJob" || got["apiVersion"] != "kubeflow.org/v1alpha2" {
			t.Errorf("kind/apiVersion = %v/%v", got["kind"], got["apiVersion"])
		}
	})

	t.Run("WrongKindOrVersion", func(t *testing.T) {
		const ns = "err-kind"
		e.create(t, job(t, ns, "exists"))
		before := e.etcdGet(t, ns, "exists")
		cases := []struct{ apiVersion, kind, mentions string }{
			{"v1", "Pod", "Pod"},
			{"v1", "Status", "v1"},
			{"kubeflow.org/v1", "MPIJob", "kubeflow.org/v1"},
			{"kubeflow.org/v1alpha2", "TFJob", "TFJob"},
			{"batch/v1", "Job", "Job"},
		}
		for _, c := range cases {
			o := job(t, ns, "wrong")
			o["apiVersion"], o["kind"] = c.apiVersion, c.kind
			r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
			expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, c.mentions)
			u := e.read(t, ns, "exists")
			u["apiVersion"], u["kind"] = c.apiVersion, c.kind
			r = e.do(t, req{method: "PUT", path: objPath(ns, "exists"), body: u})
			expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, c.mentions)
		}
		e.expectNotInEtcd(t, ns, "wrong")
		e.expectEtcdUnchanged(t, ns, "exists", before)
	})

	t.Run("InvalidObject", func(t *testing.T) {
		const ns = "err-invalid"
		e.create(t, job(t, ns, "valid"))
		before := e.etcdGet(t, ns, "valid")
		for _, c := range invalidCases {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				o := job(t, ns, "bad")
				c.mutate(t, o)
				r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
				expectInvalid(t, r, "bad", c.field)
				e.expectNotInEtcd(t, ns, "bad")

				u := e.read(t, ns, "valid")
				c.mutate(t, u)
				r = e.do(t, req{method: "PUT", path: objPath(ns, "valid"), body: u})
				expectInvalid(t, r, "valid", c.field)
				e.expectEtcdUnchanged(t, ns, "valid", before)

				// The same through a JSON patch replacing the whole spec.
				patch, _ := json.Marshal([]obj{{"op": "replace", "path": "/spec", "value": u["spec"]}})
				r = e.do(t, req{method: "PATCH", path: objPath(ns, "valid"), body: patch, contentType: contentJSONP})
				expectInvalid(t, r, "valid", c.field)
				e.expectEtcdUnchanged(t, ns, "valid", before)
			})
		}
		t.Run("metadata.name", func(t *testing.T) {
			o := job(t, ns, "Not_A_DNS_Name")
			r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
			expectInvalid(t, r, "Not_A_DNS_Name", "metadata.name")
			if names := e.etcdNames(t, ns); strings.Join(names, ",") != "valid" {
				t.Errorf("etcd holds %v", names)
			}
		})
		t.Run("several errors at once", func(t *testing.T) {
			o := job(t, ns, "bad")
			set(t, o, float64(0), "spec", "slotsPerWorker")
			set(t, o, "Sometimes", "spec", "cleanPodPolicy")
			r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
			expectInvalid(t, r, "bad", "spec.slotsPerWorker")
			expectInvalid(t, r, "bad", "spec.cleanPodPolicy")
		})
		t.Run("status", func(t *testing.T) {
			statusCases := []struct {
				name   string
				mutate func(st obj)
				field  string
			}{
				{"condition type", func(st obj) { set(t, st, "Bogus", "conditions", 0, "type") }, "status.conditions[0].type"},
				{"condition status", func(st obj) { set(t, st, "Maybe", "conditions", 1, "status") }, "status.conditions[1].status"},
				{"replica status key", func(st obj) { set(t, st, obj{}, "replicaStatuses", "PS") }, "status.replicaStatuses[PS]"},
				{"negative count", func(st obj) { set(t, st, float64(-1), "replicaStatuses", "Launcher", "succeeded") }, "status.replicaStatuses[Launcher].succeeded"},
			}
			for _, c := range statusCases {
				u := e.read(t, ns, "valid")
				st := seedStatus(t)
				c.mutate(st)
				u["status"] = st
				r := e.do(t, req{method: "PUT", path: objPath(ns, "valid") + "/status", body: u})
				expectInvalid(t, r, "valid", c.field)
				patch, _ := json.Marshal(obj{"status": st})
				r = e.do(t, req{method: "PATCH", path: objPath(ns, "valid") + "/status", body: patch, contentType: contentMerge})
				expectInvalid(t, r, "valid", c.field)
				e.expectEtcdUnchanged(t, ns, "valid", before)
			}
		})
	})

	t.Run("NameAndNamespaceMismatch", func(t *testing.T) {
		const ns = "err-mismatch"
		e.create(t, job(t, ns, "a"))
		before := e.etcdGet(t, ns, "a")

		u := e.read(t, ns, "a")
		set(t, u, "b", "metadata", "name")
		r := e.do(t, req{method: "PUT", path: objPath(ns, "a"), body: u})
		expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "(b)", "(a)")
		r = e.do(t, req{method: "PUT", path: objPath(ns, "a") + "/status", body: u})
		expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "(b)", "(a)")
		r = e.do(t, req{method: "PATCH", path: objPath(ns, "a"), body: `{"metadata":{"name":"b"}}`, contentType: contentMerge})
		expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "(b)", "(a)")

		o := job(t, "elsewhere", "c")
		r = e.do(t, req{method: "POST", path: nsPath(ns), body: o})
		expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "namespace")
		u = e.read(t, ns, "a")
		set(t, u, "elsewhere", "metadata", "namespace")
		r = e.do(t, req{method: "PUT", path: objPath(ns, "a"), body: u})
		expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "namespace")
		r = e.do(t, req{method: "PATCH", path: objPath(ns, "a"), body: `{"metadata":{"namespace":"elsewhere"}}`, contentType: contentMerge})
		expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "namespace")

		e.expectEtcdUnchanged(t, ns, "a", before)
		e.expectNotInEtcd(t, ns, "b")
		e.expectNotInEtcd(t, ns, "c")
		if names := e.etcdNames(t, "elsewhere"); len(names) != 0 {
			t.Errorf("etcd holds %v in namespace elsewhere", names)
		}
	})

	t.Run("AlreadyExists", func(t *testing.T) {
		const ns = "err-dup"
		e.create(t, job(t, ns, "dup"))
		before := e.etcdGet(t, ns, "dup")
		o := job(t, ns, "dup")
		set(t, o, float64(5), "spec", "slotsPerWorker")
		r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
		s := expectStatus(t, r, http.StatusConflict, metav1.StatusReasonAlreadyExists, `mpijobs.kubeflow.org "dup" already exists`)
		if s.Details == nil || s.Details.Name != "dup" || s.Details.Group != "kubeflow.org" || s.Details.Kind != "mpijobs" {
			t.Errorf("details = %+v, want name dup, group kubeflow.org, kind mpijobs", s.Details)
		}
		e.expectEtcdUnchanged(t, ns, "dup", before)
	})

	t.Run("StaleResourceVersion", func(t *testing.T) {
		const ns = "err-stale"
		e.create(t, job(t, ns, "x"))
		stale := e.read(t, ns, "x")
		// Someone else updates it.
		r := e.do(t, req{method: "PATCH", path: objPath(ns, "x"), body: `{"metadata":{"labels":{"first":"writer"}}}`, contentType: contentMerge})
		expect(t, r, http.StatusOK)
		before := e.etcdGet(t, ns, "x")

		u := deepCopy(stale)
		set(t, u, float64(6), "spec", "slotsPerWorker")
		const msg = "the object has been modified; please apply your changes to the latest version and try again"
		r = e.do(t, req{method: "PUT", path: objPath(ns, "x"), body: u})
		expectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict, `mpijobs.kubeflow.org "x"`, msg)
		u = deepCopy(stale)
		u["status"] = seedStatus(t)
		r = e.do(t, req{method: "PUT", path: objPath(ns, "x") + "/status", body: u})
		expectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict, msg)
		p := `{"metadata":{"resourceVersion":"` + metaString(t, stale, "resourceVersion") + `"},"spec":{"slotsPerWorker":6}}`
		r = e.do(t, req{method: "PATCH", path: objPath(ns, "x"), body: p, contentType: contentMerge})
		expectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict, msg)
		// A delete precondition on the old resourceVersion.
		r = e.do(t, req{method: "DELETE", path: objPath(ns, "x"), body: obj{"kind": "DeleteOptions", "apiVersion": "v1",
			"preconditions": obj{"resourceVersion": metaString(t, stale, "resourceVersion")}}})
		expectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict)
		e.expectEtcdUnchanged(t, ns, "x", before)
	})

	t.Run("NotFound", func(t *testing.T) {
		const ns = "err-missing"
		const msg = `mpijobs.kubeflow.org "nope" not found`
		o := job(t, ns, "nope")
		o["status"] = seedStatus(t)
		for _, r := range []response{
			e.do(t, req{method: "GET", path: objPath(ns, "nope")}),
			e.do(t, req{method: "GET", path: objPath(ns, "nope") + "/status"}),
			e.do(t, req{method: "PUT", path: objPath(ns, "nope"), body: o}),
			e.do(t, req{method: "PUT", path: objPath(ns, "nope") + "/status", body: o}),
			e.do(t, req{method: "PATCH", path: objPath(ns, "nope"), body: `{"spec":{"slotsPerWorker":2}}`, contentType: contentMerge}),
			e.do(t, req{method: "PATCH", path: objPath(ns, "nope"), body: `[{"op":"replace","path":"/spec/slotsPerWorker","value":2}]`, contentType: contentJSONP}),
			e.do(t, req{method: "PATCH", path: objPath(ns, "nope") + "/status", body: `{"status":{"startTime":"2020-01-01T00:00:00Z"}}`, contentType: contentMerge}),
			e.do(t, req{method: "DELETE", path: objPath(ns, "nope")}),
		} {
			s := expectStatus(t, r, http.StatusNotFound, metav1.StatusReasonNotFound, msg)
			if s.Details == nil || s.Details.Name != "nope" || s.Details.Kind != "mpijobs" {
				t.Errorf("%s: details = %+v", r.req, s.Details)
			}
		}
		e.expectNotInEtcd(t, ns, "nope")
		// An apply to the status of a missing object does not create it.
		st := obj{"apiVersion": "kubeflow.org/v1alpha2", "kind": "MPIJob",
			"metadata": obj{"name": "nope", "namespace": ns}, "status": seedStatus(t)}
		r := e.do(t, req{method: "PATCH", path: objPath(ns, "nope") + "/status?fieldManager=op", body: st, contentType: contentApply})
		expectStatus(t, r, http.StatusNotFound, metav1.StatusReasonNotFound, msg)
		e.expectNotInEtcd(t, ns, "nope")
	})

	t.Run("BodyTooLarge", func(t *testing.T) {
		const ns = "err-large"
		o := bigJob(t, ns, "huge", maxBody+100*kib)
		r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
		expectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
		e.expectNotInEtcd(t, ns, "huge")

		e.create(t, job(t, ns, "small"))
		before := e.etcdGet(t, ns, "small")
		u := bigJob(t, ns, "small", maxBody+100*kib)
		set(t, u, metaString(t, e.read(t, ns, "small"), "resourceVersion"), "metadata", "resourceVersion")
		r = e.do(t, req{method: "PUT", path: objPath(ns, "small"), body: u})
		expectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
		patch, _ := json.Marshal(obj{"spec": u["spec"]})
		r = e.do(t, req{method: "PATCH", path: objPath(ns, "small"), body: patch, contentType: contentMerge})
		expectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
		e.expectEtcdUnchanged(t, ns, "small", before)
	})

	// Bodies above etcd's default request limit (1.5 MiB) but within the API's
	// 3 MiB. The embedded etcd takes up to 4 MiB, so a 1.7 MiB object is
	// stored. The API server's own etcd client sends at most 2 MiB (etcd's
	// client default; k8s.io/apiserver has no setting for it), so larger
	// bodies are refused as kube-apiserver refuses them: 413, not 500, and
	// nothing is written.
	t.Run("LargeButLegalBody", func(t *testing.T) {
		const ns = "err-large-ok"
		t.Run("1-7mib", func(t *testing.T) {
			o := bigJob(t, ns, "1-7mib", 1700*kib)
			r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
			expect(t, r, http.StatusCreated)
			got := e.read(t, ns, "1-7mib")
			if d := diff(mustGet(t, o, "spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers", 0, "args"),
				mustGet(t, got, "spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers", 0, "args")); d != "" {
				t.Errorf("args read back differ")
			}
			if raw := e.etcdGet(t, ns, "1-7mib"); len(raw) < 1690*kib {
				t.Errorf("etcd holds %d bytes, want about 1.7 MiB", len(raw))
			}
		})
		for _, c := range []struct {
			name string
			size int
		}{
			{"2-2mib", 2200 * kib},
			{"2-9mib", 2900 * kib},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.do(t, req{method: "POST", path: nsPath(ns), body: bigJob(t, ns, c.name, c.size)})
				expectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
				e.expectNotInEtcd(t, ns, c.name)
			})
		}
		t.Run("update-to-2-9mib", func(t *testing.T) {
			e.create(t, job(t, ns, "grow"))
			before := e.etcdGet(t, ns, "grow")
			r := e.do(t, req{method: "PUT", path: objPath(ns, "grow"), body: bigJob(t, ns, "grow", 2900*kib)})
			expectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
			e.expectEtcdUnchanged(t, ns, "grow", before)
		})
	})
}
