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
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const unknownField = "spec.bogusField"

// hasUnknownFieldWarning tells whether a Warning header names the field.
func hasUnknownFieldWarning(r harness.Response, field string) bool {
	for _, w := range r.Header.Values("Warning") {
		if strings.Contains(w, "unknown field") && strings.Contains(w, field) {
			return true
		}
	}
	return false
}

// testFieldValidation: unknown fields on create, update and patch under each
// fieldValidation directive, as kube-apiserver treats typed resources.
func testFieldValidation(t *testing.T, e *env) {
	const ns = "fv-ns"
	modes := []struct {
		name  string
		query string
	}{
		{"Strict", "?fieldValidation=Strict"},
		{"Warn", "?fieldValidation=Warn"},
		{"Ignore", "?fieldValidation=Ignore"},
		{"Default", ""}, // Warn
	}
	for i, m := range modes {
		strict := m.name == "Strict"
		warn := m.name == "Warn" || m.name == "Default"

		// checkOutcome asserts the code, the error or warning, and the
		// absence of the unknown field from what was stored.
		checkOutcome := func(t *testing.T, r harness.Response, okCode int, name string, before []byte, patch bool) {
			t.Helper()
			if strict {
				if patch {
					// kube-apiserver's patch handler reports a strict
					// decoding error of the patched object as a 422
					// naming the field "patch" (handlers/patch.go).
					harness.ExpectStatus(t, r, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid,
						"unknown field", `"`+unknownField+`"`)
				} else {
					harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest,
						"unknown field", `"`+unknownField+`"`)
				}
				if before == nil {
					e.expectMissing(t, ns, name)
				} else {
					e.expectEtcdUnchanged(t, ns, name, before)
				}
				return
			}
			harness.ExpectCode(t, r, okCode)
			if got := hasUnknownFieldWarning(r, unknownField); got != warn {
				t.Errorf("Warning header naming %s: got %v, want %v (warnings %q)", unknownField, got, warn, r.Header.Values("Warning"))
			}
			if strings.Contains(string(r.Body), "bogusField") {
				t.Errorf("response carries the unknown field: %s", r.Body)
			}
			raw := e.etcdGet(t, ns, name)
			if raw == nil {
				t.Fatalf("%s was not stored", name)
			}
			if strings.Contains(string(raw), "bogusField") {
				t.Errorf("the unknown field was stored: %s", truncate(raw))
			}
		}

		t.Run(m.name, func(t *testing.T) {
			t.Run("Create", func(t *testing.T) {
				name := fmt.Sprintf("create-%d", i)
				o := harness.SeedJobForTest(t, ns, name)
				set(t, o, "x", "spec", "bogusField")
				r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns) + m.query, Body: o})
				checkOutcome(t, r, http.StatusCreated, name, nil, false)
			})
			t.Run("Update", func(t *testing.T) {
				name := fmt.Sprintf("update-%d", i)
				e.create(t, harness.SeedJobForTest(t, ns, name))
				before := e.etcdGet(t, ns, name)
				o := e.read(t, ns, name)
				set(t, o, "x", "spec", "bogusField")
				set(t, o, obj{"updated": "yes"}, "metadata", "labels")
				r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name) + m.query, Body: o})
				checkOutcome(t, r, http.StatusOK, name, before, false)
				if !strict {
					if v, _ := get(e.etcdObject(t, ns, name), "metadata", "labels", "updated"); v != "yes" {
						t.Errorf("the rest of the update was not stored")
					}
				}
			})
			t.Run("MergePatch", func(t *testing.T) {
				name := fmt.Sprintf("patch-%d", i)
				e.create(t, harness.SeedJobForTest(t, ns, name))
				before := e.etcdGet(t, ns, name)
				r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + m.query, ContentType: contentMerge,
					Body: `{"metadata":{"labels":{"patched":"yes"}},"spec":{"bogusField":"x"}}`})
				checkOutcome(t, r, http.StatusOK, name, before, true)
				if !strict {
					if v, _ := get(e.etcdObject(t, ns, name), "metadata", "labels", "patched"); v != "yes" {
						t.Errorf("the rest of the patch was not stored")
					}
				}
			})
			t.Run("StrategicMergePatch", func(t *testing.T) {
				name := fmt.Sprintf("smp-%d", i)
				e.create(t, harness.SeedJobForTest(t, ns, name))
				before := e.etcdGet(t, ns, name)
				r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + m.query, ContentType: contentSMP,
					Body: `{"metadata":{"labels":{"patched":"yes"}},"spec":{"bogusField":"x"}}`})
				checkOutcome(t, r, http.StatusOK, name, before, true)
			})
		})
	}

	t.Run("NestedUnknownFieldNamed", func(t *testing.T) {
		o := harness.SeedJobForTest(t, ns, "nested")
		set(t, o, "x", "spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers", 0, "bogus")
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns) + "?fieldValidation=Strict", Body: o})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest,
			`unknown field "spec.mpiReplicaSpecs.Worker.template.spec.containers[0].bogus"`)
		e.expectMissing(t, ns, "nested")
	})

	t.Run("BadDirective", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns) + "?fieldValidation=Sometimes", Body: harness.SeedJobForTest(t, ns, "bad-directive")})
		harness.ExpectStatus(t, r, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, "fieldValidation")
		e.expectMissing(t, ns, "bad-directive")
	})
}

// testDryRun: dryRun=All answers as if it did the work but writes nothing.
func testDryRun(t *testing.T, e *env) {
	const ns = "dryrun-ns"

	t.Run("Create", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns) + "?dryRun=All", Body: harness.SeedJobForTest(t, ns, "dry")})
		harness.ExpectCode(t, r, http.StatusCreated)
		got := r.Object(t)
		if metaString(t, got, "name") != "dry" {
			t.Errorf("dry-run create returned name %q", metaString(t, got, "name"))
		}
		if d := diff(expectedSpec(t), got["spec"]); d != "" {
			t.Errorf("dry-run create response spec (-want +got):\n%s", d)
		}
		e.expectMissing(t, ns, "dry")
		if names := e.listNames(t, ns, ""); len(names) != 0 {
			t.Errorf("list after a dry-run create = %v, want empty", names)
		}
	})

	const name = "real"
	e.create(t, harness.SeedJobForTest(t, ns, name))
	before := e.etcdGet(t, ns, name)
	rv := metaString(t, e.read(t, ns, name), "resourceVersion")

	t.Run("Update", func(t *testing.T) {
		o := e.read(t, ns, name)
		set(t, o, float64(7), "spec", "slotsPerWorker")
		r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name) + "?dryRun=All", Body: o})
		harness.ExpectCode(t, r, http.StatusOK)
		if v, _ := get(r.Object(t), "spec", "slotsPerWorker"); v != float64(7) {
			t.Errorf("dry-run update response slotsPerWorker = %v, want 7", v)
		}
		if g := generation(t, r.Object(t)); g != 2 {
			t.Errorf("dry-run update response generation = %d, want 2", g)
		}
		e.expectEtcdUnchanged(t, ns, name, before)
		if got := metaString(t, e.read(t, ns, name), "resourceVersion"); got != rv {
			t.Errorf("resourceVersion moved %s -> %s", rv, got)
		}
	})
	t.Run("UpdateStatus", func(t *testing.T) {
		o := e.read(t, ns, name)
		o["status"] = someStatus()
		r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name) + "/status?dryRun=All", Body: o})
		harness.ExpectCode(t, r, http.StatusOK)
		if d := diff(someStatus(), r.Object(t)["status"]); d != "" {
			t.Errorf("dry-run status response (-want +got):\n%s", d)
		}
		e.expectEtcdUnchanged(t, ns, name, before)
	})
	t.Run("Patch", func(t *testing.T) {
		for _, p := range []struct{ ct, body string }{
			{contentMerge, `{"spec":{"slotsPerWorker":8}}`},
			{contentSMP, `{"spec":{"slotsPerWorker":8}}`},
			{contentJSONP, `[{"op":"replace","path":"/spec/slotsPerWorker","value":8}]`},
		} {
			r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + "?dryRun=All", Body: p.body, ContentType: p.ct})
			harness.ExpectCode(t, r, http.StatusOK)
			if v, _ := get(r.Object(t), "spec", "slotsPerWorker"); v != float64(8) {
				t.Errorf("%s dry-run patch response slotsPerWorker = %v, want 8", p.ct, v)
			}
		}
		ap := obj{"apiVersion": "kubeflow.org/v1alpha2", "kind": "MPIJob",
			"metadata": obj{"name": name, "namespace": ns}, "spec": obj{"slotsPerWorker": float64(8)}}
		r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, name) + "?dryRun=All&fieldManager=dry&force=true", Body: ap, ContentType: contentApply})
		harness.ExpectCode(t, r, http.StatusOK)
		if v, _ := get(r.Object(t), "spec", "slotsPerWorker"); v != float64(8) {
			t.Errorf("dry-run apply response slotsPerWorker = %v, want 8", v)
		}
		e.expectEtcdUnchanged(t, ns, name, before)
	})
	t.Run("Delete", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "DELETE", URL: objPath(ns, name) + "?dryRun=All"})
		harness.ExpectCode(t, r, http.StatusOK)
		e.expectEtcdUnchanged(t, ns, name, before)
		got := e.read(t, ns, name)
		if _, ok := get(got, "metadata", "deletionTimestamp"); ok {
			t.Errorf("dry-run delete set a deletionTimestamp")
		}
	})
	t.Run("DeleteCollection", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "DELETE", URL: nsPath(ns) + "?dryRun=All"})
		harness.ExpectCode(t, r, http.StatusOK)
		e.expectEtcdUnchanged(t, ns, name, before)
	})
	t.Run("BadValue", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns) + "?dryRun=Maybe", Body: harness.SeedJobForTest(t, ns, "dry2")})
		harness.ExpectStatus(t, r, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, "dryRun")
		e.expectMissing(t, ns, "dry2")
	})
}

// testDelete: deletecollection by label; propagation policies that need a
// garbage collector are refused in standalone mode.
func testDelete(t *testing.T, e *env) {
	t.Run("DeleteCollectionByLabel", func(t *testing.T) {
		const ns = "delcoll-ns"
		labels := map[string]obj{
			"a1": {"team": "a"}, "a2": {"team": "a", "x": "y"},
			"b1": {"team": "b"}, "none": nil,
		}
		for name, l := range labels {
			o := harness.SeedJobForTest(t, ns, name)
			if l != nil {
				set(t, o, l, "metadata", "labels")
			}
			e.create(t, o)
		}
		// Another namespace's matching object is untouched.
		other := harness.SeedJobForTest(t, "delcoll-other", "a1")
		set(t, other, obj{"team": "a"}, "metadata", "labels")
		e.create(t, other)

		r := e.do(t, harness.Request{Method: "DELETE", URL: nsPath(ns) + "?labelSelector=team%3Da"})
		harness.ExpectCode(t, r, http.StatusOK)
		got := e.listNames(t, ns, "")
		slices.Sort(got)
		if strings.Join(got, ",") != "b1,none" {
			t.Errorf("after deleting team=a: %v, want [b1 none]", got)
		}
		stored := e.etcdNames(t, ns)
		slices.Sort(stored)
		if strings.Join(stored, ",") != "b1,none" {
			t.Errorf("etcd keys after deleting team=a: %v, want [b1 none]", stored)
		}
		if e.etcdGet(t, "delcoll-other", "a1") == nil {
			t.Errorf("deletecollection reached into another namespace")
		}
		// Set-based.
		r = e.do(t, harness.Request{Method: "DELETE", URL: nsPath(ns) + "?labelSelector=team+in+(b,c)"})
		harness.ExpectCode(t, r, http.StatusOK)
		if got := e.listNames(t, ns, ""); strings.Join(got, ",") != "none" {
			t.Errorf("after deleting team in (b,c): %v, want [none]", got)
		}
		// A bad selector is a 400 and deletes nothing.
		r = e.do(t, harness.Request{Method: "DELETE", URL: nsPath(ns) + "?labelSelector=team%3D%3D%3Da"})
		harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
		if got := e.listNames(t, ns, ""); strings.Join(got, ",") != "none" {
			t.Errorf("after a bad selector: %v, want [none]", got)
		}
	})

	t.Run("PropagationPolicyRefused", func(t *testing.T) {
		const ns = "delpolicy-ns"
		const name = "keep"
		e.create(t, harness.SeedJobForTest(t, ns, name))
		before := e.etcdGet(t, ns, name)
		cases := []struct {
			name     string
			query    string
			body     interface{}
			contains []string
		}{
			{"ForegroundBody", "", obj{"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"}, []string{"propagationPolicy", "Foreground"}},
			{"OrphanBody", "", obj{"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"}, []string{"propagationPolicy", "Orphan"}},
			{"ForegroundQuery", "?propagationPolicy=Foreground", nil, []string{"propagationPolicy", "Foreground"}},
			{"OrphanQuery", "?propagationPolicy=Orphan", nil, []string{"propagationPolicy", "Orphan"}},
			{"OrphanDependentsBody", "", obj{"kind": "DeleteOptions", "apiVersion": "v1", "orphanDependents": true}, []string{"orphanDependents"}},
			{"OrphanDependentsQuery", "?orphanDependents=true", nil, []string{"orphanDependents"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do(t, harness.Request{Method: "DELETE", URL: objPath(ns, name) + c.query, Body: c.body})
				harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, c.contains...)
				e.expectEtcdUnchanged(t, ns, name, before)
				got := e.read(t, ns, name)
				if f, ok := get(got, "metadata", "finalizers"); ok {
					t.Errorf("finalizers %v added", f)
				}
				if _, ok := get(got, "metadata", "deletionTimestamp"); ok {
					t.Errorf("deletionTimestamp set")
				}
				// The collection too, before anything is deleted.
				r = e.do(t, harness.Request{Method: "DELETE", URL: nsPath(ns) + c.query, Body: c.body})
				harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, c.contains...)
				e.expectEtcdUnchanged(t, ns, name, before)
			})
		}
		// orphanDependents=false is the Background default and works.
		t.Run("OrphanDependentsFalse", func(t *testing.T) {
			e.create(t, harness.SeedJobForTest(t, ns, "odf"))
			r := e.do(t, harness.Request{Method: "DELETE", URL: objPath(ns, "odf") + "?orphanDependents=false"})
			harness.ExpectCode(t, r, http.StatusOK)
			e.expectMissing(t, ns, "odf")
		})
	})

	t.Run("BackgroundAndDefaultWork", func(t *testing.T) {
		const ns = "delok-ns"
		for _, c := range []struct {
			name  string
			query string
			body  interface{}
		}{
			{"default", "", nil},
			{"background-query", "?propagationPolicy=Background", nil},
			{"background-body", "", obj{"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}},
			{"grace-zero", "?gracePeriodSeconds=0", nil},
		} {
			e.create(t, harness.SeedJobForTest(t, ns, c.name))
			r := e.do(t, harness.Request{Method: "DELETE", URL: objPath(ns, c.name) + c.query, Body: c.body})
			harness.ExpectCode(t, r, http.StatusOK)
			e.expectMissing(t, ns, c.name)
		}
		// Deleting it again is a 404.
		r := e.do(t, harness.Request{Method: "DELETE", URL: objPath(ns, "default")})
		harness.ExpectStatus(t, r, http.StatusNotFound, metav1.StatusReasonNotFound, `"default" not found`)
		// A background deletecollection.
		e.create(t, harness.SeedJobForTest(t, ns, "c1"))
		e.create(t, harness.SeedJobForTest(t, ns, "c2"))
		r = e.do(t, harness.Request{Method: "DELETE", URL: nsPath(ns) + "?propagationPolicy=Background"})
		harness.ExpectCode(t, r, http.StatusOK)
		if names := e.etcdNames(t, ns); len(names) != 0 {
			t.Errorf("etcd still has %v", names)
		}
	})
}
