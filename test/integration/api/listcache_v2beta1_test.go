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
	"fmt"
	"net/http"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mpijob/mpijob-apiserver/pkg/apiserver"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestListCacheAcrossVersions: LISTs in v1alpha2 and v2beta1 in turn, in
// JSON and protobuf, with writes in either version in between. Every LIST
// is byte for byte what the server's own serializer, which has no cache,
// writes for the list it holds, and every item is its object's GET in that
// version (GETs never use the cache): no item is stale and none is in the
// other version's form.
func TestListCacheAcrossVersions(t *testing.T) {
	e := newEnv(t, inprocess.Start(t))
	const ns = "listcache-versions"
	for i := 0; i < 3; i++ {
		e.createIn(t, alpha, versionJob(alpha, ns, fmt.Sprintf("alpha-%d", i), obj{"mainContainer": "mpi"}))
		e.createIn(t, beta, v2beta1OnlyJob(ns, fmt.Sprintf("beta-%d", i)))
	}

	writes := []struct {
		name, version, method, path, contentType, body string
	}{
		{"v1alpha2 spec of a v2beta1 job", alpha, http.MethodPatch, "beta-0", contentMerge,
			`{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":7}}}}`},
		{"v2beta1 status of a v1alpha2 job", beta, http.MethodPatch, "alpha-0/status", contentMerge,
			`{"status":{"replicaStatuses":{"Worker":{"active":2}}}}`},
		{"v2beta1 spec of a v1alpha2 job", beta, http.MethodPatch, "alpha-1", contentSMP,
			`{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":4}}}}`},
		{"v1alpha2 status of a v2beta1 job", alpha, http.MethodPatch, "beta-1/status", contentSMP,
			`{"status":{"replicaStatuses":{"Launcher":{"active":1}}}}`},
		{"v1alpha2 label on a v2beta1 job", alpha, http.MethodPatch, "beta-2", contentMerge,
			`{"metadata":{"labels":{"listed":"again"}}}`},
		{"v2beta1 delete of a v1alpha2 job", beta, http.MethodDelete, "alpha-2", "", ""},
	}
	e.expectListsAsWithoutCache(t, ns, alpha, 6)
	for i, w := range writes {
		r := e.do(t, harness.Request{Method: w.method, URL: versionNSPath(w.version, ns) + "/" + w.path,
			ContentType: w.contentType, Body: w.body})
		harness.ExpectCode(t, r, http.StatusOK)
		// The version just written in is listed second, so that the
		// other version's cached bytes of the object are the ones tested first.
		first := alpha
		if w.version == alpha {
			first = beta
		}
		want := 6
		if w.method == http.MethodDelete {
			want = 5
		}
		t.Run(fmt.Sprintf("%d %s", i, w.name), func(t *testing.T) { e.expectListsAsWithoutCache(t, ns, first, want) })
	}
	// Re-created under the same name in the other version: a new UID.
	e.createIn(t, alpha, versionJob(alpha, ns, "alpha-2", obj{}))
	e.expectListsAsWithoutCache(t, ns, beta, 6)
}

// expectListsAsWithoutCache lists ns in both versions, first then the
// other, each in JSON and protobuf, twice (a LIST may fill the cache, the
// next reads it).
func (e *env) expectListsAsWithoutCache(t *testing.T, ns, first string, items int) {
	t.Helper()
	versions := []string{first, alpha}
	if first == alpha {
		versions[1] = beta
	}
	for _, version := range versions {
		for _, accept := range []string{contentJSON, contentProtobuf} {
			for pass := 0; pass < 2; pass++ {
				r := e.do(t, harness.Request{URL: versionNSPath(version, ns), Accept: accept})
				harness.ExpectCode(t, r, http.StatusOK)
				list := decodeAs(t, r, accept)
				if got := list.GetObjectKind().GroupVersionKind(); got.Version != version || got.Kind != "MPIJobList" {
					t.Fatalf("%s: a %s", r.Request, got)
				}
				if got := reencode(t, list, accept); !bytes.Equal(r.Body, got) {
					t.Fatalf("%s pass %d: the LIST differs from the serializer's bytes for it:\n got %q\nwant %q", r.Request, pass, r.Body, got)
				}
				listed, err := meta.ExtractList(list)
				if err != nil {
					t.Fatal(err)
				}
				if len(listed) != items {
					t.Fatalf("%s pass %d: %d items, want %d", r.Request, pass, len(listed), items)
				}
				for _, item := range listed {
					e.expectItemIsGet(t, version, accept, item)
				}
			}
		}
	}
}

// expectItemIsGet compares a list item with a GET of the object now.
func (e *env) expectItemIsGet(t *testing.T, version, accept string, item runtime.Object) {
	t.Helper()
	m, err := meta.Accessor(item)
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(t, harness.Request{URL: versionObjPath(version, m.GetNamespace(), m.GetName()), Accept: accept})
	harness.ExpectCode(t, r, http.StatusOK)
	got := decodeAs(t, r, accept)
	got.GetObjectKind().SetGroupVersionKind(item.GetObjectKind().GroupVersionKind())
	if !apiequality.Semantic.DeepEqual(item, got) {
		t.Fatalf("%s: the listed item differs from its GET (-get +list):\n%s", r.Request, diff(jsonObject(t, got), jsonObject(t, item)))
	}
}

// decodeAs decodes an answer into the type of its version, converting nothing.
func decodeAs(t *testing.T, r harness.Response, mediaType string) runtime.Object {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != mediaType {
		t.Fatalf("%s: Content-Type %q, want %q", r.Request, ct, mediaType)
	}
	o, _, err := apiserver.Codecs.UniversalDeserializer().Decode(r.Body, nil, nil)
	if err != nil {
		t.Fatalf("%s: decoding: %v", r.Request, err)
	}
	return o
}

// reencode is what the server's serializer without the cache writes for o.
func reencode(t *testing.T, o runtime.Object, mediaType string) []byte {
	t.Helper()
	info, ok := runtime.SerializerInfoForMediaType(apiserver.Codecs.SupportedMediaTypes(), mediaType)
	if !ok {
		t.Fatalf("no serializer for %s", mediaType)
	}
	var buf bytes.Buffer
	if err := info.Serializer.Encode(o, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
