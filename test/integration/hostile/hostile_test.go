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

package hostile

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestHostileInput runs every case on one server, one after the other (the
// store checks compare etcd's revision, so nothing else may write meanwhile).
// Each case states what kube-apiserver v1.37 answers for a built-in type, with
// the k8s.io/apiserver v0.37.2 / k8s.io/apimachinery v0.37.2 code that
// decides it.
func TestHostileInput(t *testing.T) {
	e := newEnv(t)
	const ns = "hostile"
	// An object already stored, for the updates and for the store checks to
	// have content to compare.
	harness.ExpectObject(t, e.do(t, "POST", nsPath(ns), harness.SeedJobForTest(t, ns, "existing")), http.StatusCreated)

	// kube-apiserver: 413 RequestEntityTooLarge "limit is 3145728". The
	// handlers read the body through limitedReadBody
	// (endpoints/handlers/rest.go), whose limit is MaxRequestBodyBytes, 3 MiB
	// by default; above it the request is refused before decoding.
	t.Run("BodyOver3MiB", func(t *testing.T) {
		before := e.snapshot(t)
		r := e.do(t, "POST", nsPath(ns), harness.SizedSeedJobForTest(t, ns, "huge", 3*mib+100*kib))
		harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, "limit is 3145728")
		r = e.do(t, "PUT", objPath(ns, "existing"), harness.SizedSeedJobForTest(t, ns, "existing", 3*mib+100*kib))
		harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, "limit is 3145728")
		e.expectUnchanged(t, before)
	})

	// Between etcd's default --max-request-bytes (1.5 MiB) and the 3 MiB body
	// limit, kube-apiserver passes the object to etcd; what happens depends on
	// the etcd it runs with:
	//   - 1.7 MiB: 201 when etcd's --max-request-bytes is raised (as the
	//     embedded etcd here is, to 4 MiB); against a stock etcd, 500 with the
	//     bare "etcdserver: request is too large" (create.go retries once
	//     without managedFields, isTooLargeError in rest.go, then the storage
	//     error becomes an InternalError). Here: 201, the object intact.
	//   - 2.5 MiB: above the 2 MiB send limit of the etcd client (etcd's
	//     client default; k8s.io/apiserver has no setting for it), the client
	//     refuses with gRPC ResourceExhausted "trying to send message larger
	//     than max", which kube-apiserver answers with a 500 for a custom
	//     resource. This server answers 413 (issue 2 §5:
	//     pkg/registry/mpijob/toolarge.go), never a 500, nothing written.
	t.Run("BodyBetweenEtcdLimitAnd3MiB", func(t *testing.T) {
		t.Run("1.7MiB", func(t *testing.T) {
			o := harness.SizedSeedJobForTest(t, ns, "big-1-7", 1700*kib)
			created := harness.ExpectObject(t, e.do(t, "POST", nsPath(ns), o), http.StatusCreated)
			got := harness.ExpectObject(t, e.do(t, "GET", objPath(ns, "big-1-7"), nil), http.StatusOK)
			for _, g := range []obj{created, got} {
				if !reflect.DeepEqual(workerContainer(g)["args"], workerContainer(o)["args"]) {
					t.Errorf("the 1.7 MiB of args did not come back intact")
				}
			}
			// Delete it again: the later store checks need not carry 1.7 MiB.
			harness.ExpectObject(t, e.do(t, "DELETE", objPath(ns, "big-1-7"), nil), http.StatusOK)
		})
		t.Run("2.5MiB", func(t *testing.T) {
			before := e.snapshot(t)
			r := e.do(t, "POST", nsPath(ns), harness.SizedSeedJobForTest(t, ns, "big-2-5", 2500*kib))
			harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
			r = e.do(t, "PUT", objPath(ns, "existing"), harness.SizedSeedJobForTest(t, ns, "existing", 2500*kib))
			harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
			e.expectUnchanged(t, before)
		})
	})

	// kube-apiserver: 400 BadRequest. JSON nested deeper than 10,000 levels is
	// a syntax error ("exceeded max depth") of Go's JSON scanner, which both
	// the serializer's kind sniffing (runtime/serializer/json/meta.go,
	// encoding/json) and its decoder (sigs.k8s.io/json, maxNestingDepth
	// 10000) use; the create handler turns the decode error into a
	// BadRequest (transformDecodeError in endpoints/handlers/rest.go),
	// whether the nesting is in an unknown field or a known one.
	t.Run("DeeplyNestedJSON", func(t *testing.T) {
		deep := []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))
		unknown := harness.SeedJobForTest(t, ns, "deep-unknown")
		unknown["spec"].(obj)["bogus"] = "DEEP"
		known := harness.SeedJobForTest(t, ns, "deep-known")
		workerContainer(known)["args"] = "DEEP"
		before := e.snapshot(t)
		for _, o := range []obj{unknown, known} {
			body := bytes.Replace(mustJSON(t, o), []byte(`"DEEP"`), deep, 1)
			r := e.do(t, "POST", nsPath(ns), body)
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "exceeded max depth")
			r = e.do(t, "POST", nsPath(ns)+"?fieldValidation=Strict", body)
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "exceeded max depth")
		}
		e.expectUnchanged(t, before)
	})

	// kube-apiserver: 201. Labels have no count limit: ValidateLabels
	// (apimachinery/pkg/apis/meta/v1/validation) checks each key (qualified
	// name) and value (label value) only, so 10,000 valid labels in a body
	// under 3 MiB are stored. Here: 201, every label read back.
	t.Run("TenThousandLabels", func(t *testing.T) {
		o := harness.SeedJobForTest(t, ns, "many-labels")
		labels := obj{}
		for i := 0; i < 10000; i++ {
			labels[fmt.Sprintf("example.com/key-%05d", i)] = fmt.Sprintf("value-%05d", i)
		}
		metadata(o)["labels"] = labels
		created := harness.ExpectObject(t, e.do(t, "POST", nsPath(ns), o), http.StatusCreated)
		got := harness.ExpectObject(t, e.do(t, "GET", objPath(ns, "many-labels"), nil), http.StatusOK)
		for _, g := range []obj{created, got} {
			if !reflect.DeepEqual(metadata(g)["labels"], labels) {
				t.Errorf("labels not intact: %d read back", len(metadata(g)["labels"].(obj)))
			}
		}
		list := harness.ExpectObject(t, e.do(t, "GET", nsPath(ns)+"?labelSelector=example.com/key-09999%3Dvalue-09999", nil), http.StatusOK)
		if items := list["items"].([]interface{}); len(items) != 1 {
			t.Errorf("selecting on the 10,000th label: %d items, want 1", len(items))
		}
	})

	// kube-apiserver: 422 Invalid `metadata.annotations: Too long: may not be
	// more than 262144 bytes` once the keys and values together exceed
	// TotalAnnotationSizeLimitB (256 KiB; ValidateAnnotations in
	// apimachinery/pkg/api/validation/objectmeta.go, which refuses only
	// "larger than"), so exactly 256 KiB is a 201.
	t.Run("AnnotationsOver256KiB", func(t *testing.T) {
		const key = "example.com/big"
		before := e.snapshot(t)
		o := harness.SeedJobForTest(t, ns, "big-annotations")
		metadata(o)["annotations"] = obj{key: strings.Repeat("x", 256*kib-len(key)+1)}
		harness.ExpectInvalid(t, e.do(t, "POST", nsPath(ns), o), "metadata.annotations",
			"Too long: may not be more than 262144 bytes")
		// The same spread over many annotations.
		many := obj{}
		for i := 0; i < 257; i++ {
			many[fmt.Sprintf("example.com/a%03d", i)] = strings.Repeat("y", kib-len("example.com/a000"))
		}
		metadata(o)["annotations"] = many
		harness.ExpectInvalid(t, e.do(t, "POST", nsPath(ns), o), "metadata.annotations", "Too long")
		u := harness.ExpectObject(t, e.do(t, "GET", objPath(ns, "existing"), nil), http.StatusOK)
		metadata(u)["annotations"] = many
		harness.ExpectInvalid(t, e.do(t, "PUT", objPath(ns, "existing"), u), "metadata.annotations", "Too long")
		e.expectUnchanged(t, before)

		metadata(o)["annotations"] = obj{key: strings.Repeat("x", 256*kib-len(key))}
		harness.ExpectObject(t, e.do(t, "POST", nsPath(ns), o), http.StatusCreated)
		got := harness.ExpectObject(t, e.do(t, "GET", objPath(ns, "big-annotations"), nil), http.StatusOK)
		if !reflect.DeepEqual(metadata(got)["annotations"], metadata(o)["annotations"]) {
			t.Errorf("the 256 KiB annotation did not come back intact")
		}
	})

	// kube-apiserver: invalid UTF-8 is not refused by the JSON decoder. Go's
	// JSON string decoding (sigs.k8s.io/json, a fork of encoding/json:
	// unquoteBytes) replaces each byte that is not valid UTF-8 with U+FFFD,
	// so a free-text field is a 201 holding U+FFFD; a field validated against
	// a pattern (a label value, the name) is then a 422 for the U+FFFD.
	t.Run("InvalidUTF8", func(t *testing.T) {
		const bad = "a\xff\xfe\xc3b" // \xc3 starts a 2-byte sequence that 'b' breaks
		const replaced = "a\uFFFD\uFFFD\uFFFDb"
		o := harness.SeedJobForTest(t, ns, "utf8")
		metadata(o)["annotations"] = obj{"example.com/note": "BAD"}
		workerContainer(o)["args"] = []interface{}{"BAD"}
		body := bytes.ReplaceAll(mustJSON(t, o), []byte("BAD"), []byte(bad))
		created := harness.ExpectObject(t, e.do(t, "POST", nsPath(ns), body), http.StatusCreated)
		got := harness.ExpectObject(t, e.do(t, "GET", objPath(ns, "utf8"), nil), http.StatusOK)
		for _, g := range []obj{created, got} {
			if v := metadata(g)["annotations"].(obj)["example.com/note"]; v != replaced {
				t.Errorf("annotation %q, want %q", v, replaced)
			}
			if v := workerContainer(g)["args"]; !reflect.DeepEqual(v, []interface{}{replaced}) {
				t.Errorf("args %q, want [%q]", v, replaced)
			}
		}

		before := e.snapshot(t)
		l := harness.SeedJobForTest(t, ns, "utf8-label")
		metadata(l)["labels"] = obj{"key": "BAD"}
		body = bytes.ReplaceAll(mustJSON(t, l), []byte("BAD"), []byte(bad))
		harness.ExpectInvalid(t, e.do(t, "POST", nsPath(ns), body), "metadata.labels")
		body = bytes.ReplaceAll(mustJSON(t, harness.SeedJobForTest(t, ns, "BAD")), []byte("BAD"), []byte(bad))
		harness.ExpectInvalid(t, e.do(t, "POST", nsPath(ns), body), "metadata.name")
		e.expectUnchanged(t, before)
	})

	// kube-apiserver: 400 BadRequest `strict decoding error: unknown field
	// "spec.bogus"` under fieldValidation=Strict: the create and update
	// handlers decode with the strict serializer and, for Strict, send the
	// runtime.StrictDecodingError as a BadRequest (create.go, update.go). A
	// duplicate field is the same error ("duplicate field").
	t.Run("UnknownFieldsStrict", func(t *testing.T) {
		before := e.snapshot(t)
		o := harness.SeedJobForTest(t, ns, "strict")
		o["spec"].(obj)["bogus"] = 1
		workerContainer(o)["colour"] = "blue"
		r := e.do(t, "POST", nsPath(ns)+"?fieldValidation=Strict", o)
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, "strict decoding error",
			`unknown field "spec.bogus"`, `unknown field "spec.mpiReplicaSpecs.Worker.template.spec.containers[0].colour"`)
		u := harness.ExpectObject(t, e.do(t, "GET", objPath(ns, "existing"), nil), http.StatusOK)
		u["spec"].(obj)["bogus"] = 1
		r = e.do(t, "PUT", objPath(ns, "existing")+"?fieldValidation=Strict", u)
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, `unknown field "spec.bogus"`)
		dup := bytes.Replace(mustJSON(t, harness.SeedJobForTest(t, ns, "strict")), []byte(`"spec":{`), []byte(`"spec":{"slotsPerWorker":3,`), 1)
		r = e.do(t, "POST", nsPath(ns)+"?fieldValidation=Strict", dup)
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, `duplicate field "spec.slotsPerWorker"`)
		e.expectUnchanged(t, before)
	})

	// kube-apiserver: 400 BadRequest. A kind the scheme does not know in that
	// version fails decoding (transformDecodeError: `... cannot be handled as
	// a MPIJob: no kind "Pod" is registered ...`); a known kind of another
	// group/version is refused by the create handler's check `the API version
	// in the data (...) does not match the expected API version (...)`.
	t.Run("WrongAPIVersionOrKind", func(t *testing.T) {
		before := e.snapshot(t)
		for _, c := range []struct{ apiVersion, kind, mentions string }{
			{"v1", "Pod", "Pod"},
			{"v1", "Status", "v1"},
			{"kubeflow.org/v1", "MPIJob", "kubeflow.org/v1"},
			{"kubeflow.org/v1alpha2", "TFJob", "TFJob"},
			{"kubeflow.org/v1alpha2", "MPIJobList", "MPIJobList"},
			{"batch/v1", "Job", "Job"},
		} {
			o := harness.SeedJobForTest(t, ns, "wrong")
			o["apiVersion"], o["kind"] = c.apiVersion, c.kind
			r := e.do(t, "POST", nsPath(ns), o)
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, c.mentions)
			u := harness.ExpectObject(t, e.do(t, "GET", objPath(ns, "existing"), nil), http.StatusOK)
			u["apiVersion"], u["kind"] = c.apiVersion, c.kind
			r = e.do(t, "PUT", objPath(ns, "existing"), u)
			harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, c.mentions)
		}
		e.expectUnchanged(t, before)
	})

	// kube-apiserver: 422 Invalid on metadata.name (ValidateObjectMeta with
	// the type's name rule; for a Pod, NameIsDNSSubdomain: `a lowercase RFC
	// 1123 subdomain must consist of ...`).
	t.Run("NameNotDNS1123", func(t *testing.T) {
		before := e.snapshot(t)
		for _, name := range []string{"Not_A_DNS_Name", "UPPER", "-leading-dash", "trailing.", strings.Repeat("a", 254)} {
			r := e.do(t, "POST", nsPath(ns), harness.SeedJobForTest(t, ns, name))
			harness.ExpectInvalid(t, r, "metadata.name")
		}
		e.expectUnchanged(t, before)
	})

	// kube-apiserver: 400 BadRequest `the namespace of the provided object
	// does not match the namespace sent on the request` (rest.EnsureObjectNamespaceMatchesRequestNamespace,
	// registry/rest/meta.go), on create and update alike.
	t.Run("NamespaceMismatch", func(t *testing.T) {
		const msg = "the namespace of the provided object does not match the namespace sent on the request"
		before := e.snapshot(t)
		r := e.do(t, "POST", nsPath(ns), harness.SeedJobForTest(t, "elsewhere", "moved"))
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, msg)
		u := harness.ExpectObject(t, e.do(t, "GET", objPath(ns, "existing"), nil), http.StatusOK)
		metadata(u)["namespace"] = "elsewhere"
		r = e.do(t, "PUT", objPath(ns, "existing"), u)
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, msg)
		e.expectUnchanged(t, before)
	})
}
