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
	"io"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestEtcdLimitBelowBodyLimit: with an etcd that refuses requests the API
// accepts (etcd's stock 1.5 MiB), an object too large to store is the
// client's 413, never a 500, and nothing is written.
func TestEtcdLimitBelowBodyLimit(t *testing.T) {
	t.Run("OptionsRefuseIt", func(t *testing.T) {
		o := server.NewOptions(io.Discard)
		o.EmbeddedEtcd.MaxRequestBytes = 1536 * kib
		if errs := o.EmbeddedEtcd.Validate(); len(errs) == 0 {
			t.Errorf("an embedded etcd limit below the 3 MiB body limit was accepted")
		}
	})

	s := inprocess.StartAfterValidate(t, func(o *server.Options) { o.EmbeddedEtcd.MaxRequestBytes = 1536 * kib })
	e := newEnv(t, s)
	const ns = "etcd-limit"

	expectTooLarge := func(t *testing.T, r harness.Response) {
		t.Helper()
		if r.Code == http.StatusInternalServerError {
			t.Errorf("an object too large for etcd is a 500: %s", r)
			return
		}
		harness.ExpectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, "too large")
	}

	t.Run("Create", func(t *testing.T) {
		// Above etcd's limit, below the etcd client's 2 MiB send limit; and
		// above both.
		for _, size := range []int{1700 * kib, 2500 * kib} {
			r := e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: harness.SizedSeedJobForTest(t, ns, "big", size)})
			expectTooLarge(t, r)
			e.expectNotInEtcd(t, ns, "big")
		}
		// What fits is stored.
		e.create(t, harness.SizedSeedJobForTest(t, ns, "fits", 1000*kib))
	})

	e.create(t, harness.SeedJobForTest(t, ns, "small"))
	before := e.etcdGet(t, ns, "small")
	for _, size := range []int{1700 * kib, 2500 * kib} {
		big := harness.SizedSeedJobForTest(t, ns, "small", size)
		t.Run("Update", func(t *testing.T) {
			r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "small"), Body: big})
			expectTooLarge(t, r)
			e.expectEtcdUnchanged(t, ns, "small", before)
		})
		t.Run("Patch", func(t *testing.T) {
			patch, _ := json.Marshal(obj{"spec": big["spec"]})
			r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "small"), Body: patch, ContentType: contentMerge})
			expectTooLarge(t, r)
			e.expectEtcdUnchanged(t, ns, "small", before)
		})
		t.Run("Apply", func(t *testing.T) {
			r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "small") + "?fieldManager=big&force=true", Body: big, ContentType: contentApply})
			expectTooLarge(t, r)
			e.expectEtcdUnchanged(t, ns, "small", before)
		})
	}
	// The server still works.
	r := e.do(t, harness.Request{Method: "PATCH", URL: objPath(ns, "small"), Body: `{"spec":{"slotsPerWorker":2}}`, ContentType: contentMerge})
	harness.ExpectCode(t, r, http.StatusOK)
}
