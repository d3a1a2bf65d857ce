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

package encodedcache

import (
	"bytes"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/randfill"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// randomV2beta1List is a v2beta1 list with the identities (namespace, name,
// UID, resourceVersion) of like, and contents of its own.
func randomV2beta1List(f *randfill.Filler, like *v1alpha2.MPIJobList) *v2beta1.MPIJobList {
	list := &v2beta1.MPIJobList{ListMeta: like.ListMeta}
	for _, o := range like.Items {
		var job v2beta1.MPIJob
		f.Fill(&job)
		job.TypeMeta = v2beta1.MPIJob{}.TypeMeta
		job.Namespace, job.Name, job.UID, job.ResourceVersion = o.Namespace, o.Name, o.UID, o.ResourceVersion
		list.Items = append(list.Items, job)
	}
	list.SetGroupVersionKind(v2beta1.SchemeGroupVersion.WithKind("MPIJobList"))
	return list
}

// TestV2beta1ListBytesAreTheLibrarys is the cache's contract in v2beta1:
// the bytes are the library's on a miss, on a hit and after a change.
func TestV2beta1ListBytesAreTheLibrarys(t *testing.T) {
	plain, cached, cache, f := codecs(t)
	for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
		t.Run(mediaType, func(t *testing.T) {
			for round := 0; round < 20; round++ {
				list := randomV2beta1List(f, randomList(f, 1+round%7))
				want := encode(t, plain[mediaType], list)
				for pass := 0; pass < 2; pass++ {
					if got := encode(t, cached[mediaType], list); !bytes.Equal(got, want) {
						t.Fatalf("round %d pass %d: cached list differs from the library's:\n got %q\nwant %q", round, pass, got, want)
					}
				}
				changed := randomV2beta1List(f, randomList(f, len(list.Items)))
				reidentify(metas(list.Items), metas(changed.Items))
				if got, want := encode(t, cached[mediaType], changed), encode(t, plain[mediaType], changed); !bytes.Equal(got, want) {
					t.Fatalf("round %d: a list of changed objects is served stale:\n got %q\nwant %q", round, got, want)
				}
				var back v2beta1.MPIJobList
				if _, _, err := plain[mediaType].Decode(encode(t, cached[mediaType], changed), nil, &back); err != nil {
					t.Fatalf("round %d: decoding the cached list: %v", round, err)
				}
				if len(back.Items) != len(changed.Items) || back.Items[0].UID != "another-uid" {
					t.Fatalf("round %d: decoded %d items, first UID %q", round, len(back.Items), back.Items[0].UID)
				}
			}
		})
	}
	if cache.Len() == 0 {
		t.Fatal("the v2beta1 lists left nothing in the cache")
	}
}

// TestVersionsNeverShareBytes: the same objects at the same
// resourceVersions, listed in v1alpha2 and v2beta1 in turn, are written in
// the version of each list, from the cache when listed before in it.
func TestVersionsNeverShareBytes(t *testing.T) {
	plain, cached, cache, f := codecs(t)
	const n = 5
	alpha := randomList(f, n)
	beta := randomV2beta1List(f, alpha)
	for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
		wantAlpha, wantBeta := encode(t, plain[mediaType], alpha), encode(t, plain[mediaType], beta)
		for pass := 0; pass < 3; pass++ {
			if got := encode(t, cached[mediaType], alpha); !bytes.Equal(got, wantAlpha) {
				t.Fatalf("%s pass %d: v1alpha2 list:\n got %q\nwant %q", mediaType, pass, got, wantAlpha)
			}
			if got := encode(t, cached[mediaType], beta); !bytes.Equal(got, wantBeta) {
				t.Fatalf("%s pass %d: v2beta1 list:\n got %q\nwant %q", mediaType, pass, got, wantBeta)
			}
		}
	}
	if got, want := cache.Len(), 2*2*n; got != want {
		t.Fatalf("the cache holds %d encodings, want %d: %d objects in two versions and two formats", got, want, n)
	}
}

// TestCachedBytesAreReadByVersion: an entry is read only by a list of its
// own version, format and object identity.
func TestCachedBytesAreReadByVersion(t *testing.T) {
	_, cached, cache, f := codecs(t)
	alpha := randomList(f, 1)
	beta := randomV2beta1List(f, alpha)
	item := alpha.Items[0]
	marker := []byte(`{"marker":"v2beta1 bytes"}`)
	cache.Put(JSON, v2beta1.SchemeGroupVersion.String(), item.Namespace, item.Name, item.UID, item.ResourceVersion, marker)
	if got := encode(t, cached[runtime.ContentTypeJSON], alpha); bytes.Contains(got, marker) {
		t.Fatalf("a v1alpha2 list was written with a v2beta1 entry: %q", got)
	}
	if got := encode(t, cached[runtime.ContentTypeJSON], beta); !bytes.Contains(got, marker) {
		t.Fatalf("a v2beta1 list did not read its own entry: %q", got)
	}
	for _, other := range []struct {
		name   string
		format Format
		uid    types.UID
		rv     string
	}{
		{"another UID", JSON, "another-uid", item.ResourceVersion},
		{"another resourceVersion", JSON, item.UID, item.ResourceVersion + "0"},
		{"protobuf", Protobuf, item.UID, item.ResourceVersion},
	} {
		if _, ok := cache.Get(other.format, v2beta1.SchemeGroupVersion.String(), item.Namespace, item.Name, other.uid, other.rv); ok {
			t.Errorf("%s: read the entry of %s@%s", other.name, item.UID, item.ResourceVersion)
		}
	}
}
