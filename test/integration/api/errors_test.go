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
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const (
	kib = 1024
	mib = 1024 * kib
	// maxBody is the API server's request body limit.
	maxBody = 3 * mib
)

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

// expectInvalid is harness.ExpectInvalid for the MPIJob name: the details
// also name its group, kind and name.
func expectInvalid(t testing.TB, r harness.Response, name, field string) {
	t.Helper()
	s := harness.ExpectInvalid(t, r, field)
	if s.Details == nil {
		t.Fatalf("422 without details: %s", r.Body)
	}
	if s.Details.Group != "kubeflow.org" || s.Details.Kind != "MPIJob" || s.Details.Name != name {
		t.Errorf("details group/kind/name = %q/%q/%q, want kubeflow.org/MPIJob/%s", s.Details.Group, s.Details.Kind, s.Details.Name, name)
	}
}

func testErrors(t *testing.T, e *env) {
	t.Run("MalformedBody", func(t *testing.T) {
		const ns = "err-malformed"
		e.create(t, harness.SeedJobForTest(t, ns, "exists"))
		before := e.etcdGet(t, ns, "exists")
		for _, body := range []string{`{"apiVersion":`, `not json`, `["a list"]`} {
			r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: body})
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
			r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "exists"), Body: body})
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
			r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "exists") + "/status", Body: body})
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
			for _, ct := range []string{contentMerge, contentSMP, contentJSONP} {
				r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "exists"), Body: body, ContentType: ct})
				harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
			}
		}
		// A field of the wrong type.
		o := harness.SeedJobForTest(t, ns, "wrong-type")
		set(t, o, "two", "spec", "slotsPerWorker")
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "slotsPerWorker")
		e.expectEtcdUnchanged(t, ns, "exists", before)
		if names := e.etcdNames(t, ns); strings.Join(names, ",") != "exists" {
			t.Errorf("etcd holds %v, want only exists", names)
		}
	})

	t.Run("UnsupportedMediaType", func(t *testing.T) {
		const ns = "err-media"
		e.create(t, harness.SeedJobForTest(t, ns, "exists"))
		before := e.etcdGet(t, ns, "exists")
		body, _ := json.Marshal(harness.SeedJobForTest(t, ns, "text"))
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: body, ContentType: "text/plain"})
		harness.ExpectStatus(t, r, http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType, "unknown format", "application/json")
		e.expectNotInEtcd(t, ns, "text")
		// application/json is not a patch type.
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "exists"), Body: `{"spec":{"slotsPerWorker":2}}`, ContentType: contentJSON})
		harness.ExpectStatus(t, r, http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType)
		e.expectEtcdUnchanged(t, ns, "exists", before)
	})

	// Without apiVersion and kind the body is taken as the URL's kind, as
	// kube-apiserver does.
	t.Run("TypeMetaFromURL", func(t *testing.T) {
		const ns = "err-typemeta"
		o := harness.SeedJobForTest(t, ns, "untyped")
		delete(o, "apiVersion")
		delete(o, "kind")
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
		harness.ExpectCode(t, r, http.StatusCreated)
		if got := r.Object(t); got["kind"] != "MPIJob" || got["apiVersion"] != "kubeflow.org/v1alpha2" {
			t.Errorf("kind/apiVersion = %v/%v", got["kind"], got["apiVersion"])
		}
	})

	t.Run("WrongKindOrVersion", func(t *testing.T) {
		const ns = "err-kind"
		e.create(t, harness.SeedJobForTest(t, ns, "exists"))
		before := e.etcdGet(t, ns, "exists")
		cases := []struct{ apiVersion, kind, mentions string }{
			{"v1", "Pod", "Pod"},
			{"v1", "Status", "v1"},
			{"kubeflow.org/v1", "MPIJob", "kubeflow.org/v1"},
			{"kubeflow.org/v1alpha2", "TFJob", "TFJob"},
			{"batch/v1", "Job", "Job"},
		}
		for _, c := range cases {
			o := harness.SeedJobForTest(t, ns, "wrong")
			o["apiVersion"], o["kind"] = c.apiVersion, c.kind
			r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, c.mentions)
			u := e.read(t, ns, "exists")
			u["apiVersion"], u["kind"] = c.apiVersion, c.kind
			r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "exists"), Body: u})
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, c.mentions)
		}
		e.expectNotInEtcd(t, ns, "wrong")
		e.expectEtcdUnchanged(t, ns, "exists", before)
	})

	t.Run("InvalidObject", func(t *testing.T) {
		const ns = "err-invalid"
		e.create(t, harness.SeedJobForTest(t, ns, "valid"))
		before := e.etcdGet(t, ns, "valid")
		for _, c := range invalidCases {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				o := harness.SeedJobForTest(t, ns, "bad")
				c.mutate(t, o)
				r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
				expectInvalid(t, r, "bad", c.field)
				e.expectNotInEtcd(t, ns, "bad")

				u := e.read(t, ns, "valid")
				c.mutate(t, u)
				r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "valid"), Body: u})
				expectInvalid(t, r, "valid", c.field)
				e.expectEtcdUnchanged(t, ns, "valid", before)

				// The same through a JSON patch replacing the whole spec.
				patch, _ := json.Marshal([]obj{{"op": "replace", "path": "/spec", "value": u["spec"]}})
				r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "valid"), Body: patch, ContentType: contentJSONP})
				expectInvalid(t, r, "valid", c.field)
				e.expectEtcdUnchanged(t, ns, "valid", before)
			})
		}
		t.Run("metadata.name", func(t *testing.T) {
			o := harness.SeedJobForTest(t, ns, "Not_A_DNS_Name")
			r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
			expectInvalid(t, r, "Not_A_DNS_Name", "metadata.name")
			if names := e.etcdNames(t, ns); strings.Join(names, ",") != "valid" {
				t.Errorf("etcd holds %v", names)
			}
		})
		t.Run("several errors at once", func(t *testing.T) {
			o := harness.SeedJobForTest(t, ns, "bad")
			set(t, o, float64(0), "spec", "slotsPerWorker")
			set(t, o, "Sometimes", "spec", "cleanPodPolicy")
			r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
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
				r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "valid") + "/status", Body: u})
				expectInvalid(t, r, "valid", c.field)
				patch, _ := json.Marshal(obj{"status": st})
				r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "valid") + "/status", Body: patch, ContentType: contentMerge})
				expectInvalid(t, r, "valid", c.field)
				e.expectEtcdUnchanged(t, ns, "valid", before)
			}
		})
	})

	t.Run("NameAndNamespaceMismatch", func(t *testing.T) {
		const ns = "err-mismatch"
		e.create(t, harness.SeedJobForTest(t, ns, "a"))
		before := e.etcdGet(t, ns, "a")

		u := e.read(t, ns, "a")
		set(t, u, "b", "metadata", "name")
		r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "a"), Body: u})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "(b)", "(a)")
		r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "a") + "/status", Body: u})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "(b)", "(a)")
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "a"), Body: `{"metadata":{"name":"b"}}`, ContentType: contentMerge})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "(b)", "(a)")

		o := harness.SeedJobForTest(t, "elsewhere", "c")
		r = e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "namespace")
		u = e.read(t, ns, "a")
		set(t, u, "elsewhere", "metadata", "namespace")
		r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "a"), Body: u})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "namespace")
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "a"), Body: `{"metadata":{"namespace":"elsewhere"}}`, ContentType: contentMerge})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "namespace")

		e.expectEtcdUnchanged(t, ns, "a", before)
		e.expectNotInEtcd(t, ns, "b")
		e.expectNotInEtcd(t, ns, "c")
		if names := e.etcdNames(t, "elsewhere"); len(names) != 0 {
			t.Errorf("etcd holds %v in namespace elsewhere", names)
		}
	})

	t.Run("AlreadyExists", func(t *testing.T) {
		const ns = "err-dup"
		e.create(t, harness.SeedJobForTest(t, ns, "dup"))
		before := e.etcdGet(t, ns, "dup")
		o := harness.SeedJobForTest(t, ns, "dup")
		set(t, o, float64(5), "spec", "slotsPerWorker")
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
		s := harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonAlreadyExists, `mpijobs.kubeflow.org "dup" already exists`)
		if s.Details == nil || s.Details.Name != "dup" || s.Details.Group != "kubeflow.org" || s.Details.Kind != "mpijobs" {
			t.Errorf("details = %+v, want name dup, group kubeflow.org, kind mpijobs", s.Details)
		}
		e.expectEtcdUnchanged(t, ns, "dup", before)
	})

	t.Run("StaleResourceVersion", func(t *testing.T) {
		const ns = "err-stale"
		e.create(t, harness.SeedJobForTest(t, ns, "x"))
		stale := e.read(t, ns, "x")
		// Someone else updates it.
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "x"), Body: `{"metadata":{"labels":{"first":"writer"}}}`, ContentType: contentMerge})
		harness.ExpectCode(t, r, http.StatusOK)
		before := e.etcdGet(t, ns, "x")

		u := deepCopy(stale)
		set(t, u, float64(6), "spec", "slotsPerWorker")
		const msg = "the object has been modified; please apply your changes to the latest version and try again"
		r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "x"), Body: u})
		harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict, `mpijobs.kubeflow.org "x"`, msg)
		u = deepCopy(stale)
		u["status"] = seedStatus(t)
		r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "x") + "/status", Body: u})
		harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict, msg)
		p := `{"metadata":{"resourceVersion":"` + metaString(t, stale, "resourceVersion") + `"},"spec":{"slotsPerWorker":6}}`
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "x"), Body: p, ContentType: contentMerge})
		harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict, msg)
		// A delete precondition on the old resourceVersion.
		r = e.do(t, harness.Request{Method: "DELETE", URL: objPath(ns, "x"), Body: obj{"kind": "DeleteOptions", "apiVersion": "v1",
			"preconditions": obj{"resourceVersion": metaString(t, stale, "resourceVersion")}}})
		harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict)
		e.expectEtcdUnchanged(t, ns, "x", before)
	})

	t.Run("NotFound", func(t *testing.T) {
		const ns = "err-missing"
		const msg = `mpijobs.kubeflow.org "nope" not found`
		o := harness.SeedJobForTest(t, ns, "nope")
		o["status"] = seedStatus(t)
		for _, r := range []harness.Response{
			e.do(t, harness.Request{Method: "GET", URL: objPath(ns, "nope")}),
			e.do(t, harness.Request{Method: "GET", URL: objPath(ns, "nope") + "/status"}),
			e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "nope"), Body: o}),
			e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "nope") + "/status", Body: o}),
			e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "nope"), Body: `{"spec":{"slotsPerWorker":2}}`, ContentType: contentMerge}),
			e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "nope"), Body: `[{"op":"replace","path":"/spec/slotsPerWorker","value":2}]`, ContentType: contentJSONP}),
			e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "nope") + "/status", Body: `{"status":{"startTime":"2020-01-01T00:00:00Z"}}`, ContentType: contentMerge}),
			e.do(t, harness.Request{Method: "DELETE", URL: objPath(ns, "nope")}),
		} {
			s := harness.ExpectStatus(t, r, http.StatusNotFound, metav1.StatusReasonNotFound, msg)
			if s.Details == nil || s.Details.Name != "nope" || s.Details.Kind != "mpijobs" {
				t.Errorf("%s: details = %+v", r.Request, s.Details)
			}
		}
		e.expectNotInEtcd(t, ns, "nope")
		// An apply to the status of a missing object does not create it.
		st := obj{"apiVersion": "kubeflow.org/v1alpha2", "kind": "MPIJob",
			"metadata": obj{"name": "nope", "namespace": ns}, "status": seedStatus(t)}
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "nope") + "/status?fieldManager=op", Body: st, ContentType: contentApply})
		harness.ExpectStatus(t, r, http.StatusNotFound, metav1.StatusReasonNotFound, msg)
		e.expectNotInEtcd(t, ns, "nope")
	})

	t.Run("BodyTooLarge", func(t *testing.T) {
		const ns = "err-large"
		o := harness.SizedSeedJobForTest(t, ns, "huge", maxBody+100*kib)
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
		harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
		e.expectNotInEtcd(t, ns, "huge")

		e.create(t, harness.SeedJobForTest(t, ns, "small"))
		before := e.etcdGet(t, ns, "small")
		u := harness.SizedSeedJobForTest(t, ns, "small", maxBody+100*kib)
		set(t, u, metaString(t, e.read(t, ns, "small"), "resourceVersion"), "metadata", "resourceVersion")
		r = e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "small"), Body: u})
		harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
		patch, _ := json.Marshal(obj{"spec": u["spec"]})
		r = e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "small"), Body: patch, ContentType: contentMerge})
		harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
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
			o := harness.SizedSeedJobForTest(t, ns, "1-7mib", 1700*kib)
			r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o})
			harness.ExpectCode(t, r, http.StatusCreated)
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
				r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: harness.SizedSeedJobForTest(t, ns, c.name, c.size)})
				harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
				e.expectNotInEtcd(t, ns, c.name)
			})
		}
		t.Run("update-to-2-9mib", func(t *testing.T) {
			e.create(t, harness.SeedJobForTest(t, ns, "grow"))
			before := e.etcdGet(t, ns, "grow")
			r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "grow"), Body: harness.SizedSeedJobForTest(t, ns, "grow", 2900*kib)})
			harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
			e.expectEtcdUnchanged(t, ns, "grow", before)
		})
	})
}
