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
	"fmt"
	"math/rand"
	"testing"

	apitestingfuzzer "k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/randfill"

	kubeflowfuzzer "github.com/mpijob/mpijob-apiserver/api/kubeflow/fuzzer"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/install"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// fixture is a scheme of the kubeflow.org types, the codec factory the API
// server builds on it (with the streaming list options it turns on), a
// cache and a seeded fuzzer.
type fixture struct {
	scheme  *runtime.Scheme
	factory serializer.CodecFactory
	cache   *Cache
	f       *randfill.Filler
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	factory := serializer.NewCodecFactory(scheme, serializer.WithStreamingCollectionEncodingToJSON(), serializer.WithStreamingCollectionEncodingToProtobuf())
	seed := rand.Int63()
	t.Logf("fuzzer seed %d", seed)
	f := apitestingfuzzer.FuzzerFor(apitestingfuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kubeflowfuzzer.Funcs), rand.NewSource(seed), factory)
	return fixture{scheme: scheme, factory: factory, cache: New(64 << 20), f: f}
}

// codecs are the serializers the API server negotiates, and the same
// wrapped by a cache.
func codecs(t *testing.T) (plain, cached map[string]runtime.Serializer, cache *Cache, f *randfill.Filler) {
	t.Helper()
	x := newFixture(t)
	plain, cached = map[string]runtime.Serializer{}, map[string]runtime.Serializer{}
	for _, info := range x.factory.SupportedMediaTypes() {
		plain[info.MediaType] = info.Serializer
	}
	for _, info := range NegotiatedSerializer(x.factory, x.cache, x.scheme).SupportedMediaTypes() {
		cached[info.MediaType] = info.Serializer
	}
	return plain, cached, x.cache, x.f
}

// identify gives the i'th item of a list the identity the registry's items
// have: a namespace, name, UID and resourceVersion.
func identify(m *metav1.ObjectMeta, i int) {
	m.Namespace = fmt.Sprintf("ns-%d", i%3)
	m.Name = fmt.Sprintf("job-%d", i)
	m.UID = types.UID(fmt.Sprintf("uid-%d", i))
	m.ResourceVersion = fmt.Sprint(100 + i)
}

// reidentify gives changed's items the names of old's at a newer
// resourceVersion, and its first item a new UID at the old resourceVersion
// (an object recreated under its name, which must not hit either).
func reidentify(old, changed []metav1.Object) {
	for i := range changed {
		changed[i].SetResourceVersion(old[i].GetResourceVersion() + "1")
	}
	changed[0].SetResourceVersion(old[0].GetResourceVersion())
	changed[0].SetUID("another-uid")
}

// metas are the metadata of items.
func metas[T any, P interface {
	*T
	metav1.Object
}](items []T) []metav1.Object {
	out := make([]metav1.Object, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}

// randomList is a list as the registry returns it: kind set on the list,
// not on the items, every item with a namespace, name, UID and
// resourceVersion.
func randomList(f *randfill.Filler, n int) *v1alpha2.MPIJobList {
	list := &v1alpha2.MPIJobList{}
	f.Fill(&list.ListMeta)
	for i := 0; i < n; i++ {
		var job v1alpha2.MPIJob
		f.Fill(&job)
		job.TypeMeta = v1alpha2.MPIJob{}.TypeMeta
		identify(&job.ObjectMeta, i)
		list.Items = append(list.Items, job)
	}
	list.SetGroupVersionKind(v1alpha2.SchemeGroupVersion.WithKind("MPIJobList"))
	return list
}

func encode(t testing.TB, s runtime.Encoder, obj runtime.Object) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Encode(obj, &buf); err != nil {
		t.Fatalf("encoding %T: %v", obj, err)
	}
	return buf.Bytes()
}

// TestListBytesAreTheLibrarys is the cache's contract: for JSON and
// protobuf, a list written from cached item bytes is byte for byte what
// the library's serializer writes, on the first LIST (misses), the second
// (hits), after objects change (new resourceVersion or UID under the same
// name) and when a client decodes it back.
func TestListBytesAreTheLibrarys(t *testing.T) {
	plain, cached, cache, f := codecs(t)
	for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
		t.Run(mediaType, func(t *testing.T) {
			for round := 0; round < 20; round++ {
				list := randomList(f, 1+round%7)
				want := encode(t, plain[mediaType], list)
				for pass := 0; pass < 2; pass++ {
					if got := encode(t, cached[mediaType], list); !bytes.Equal(got, want) {
						t.Fatalf("round %d pass %d: cached list differs from the library's:\n got %q\nwant %q", round, pass, got, want)
					}
				}
				// The same names at a new resourceVersion, and one object
				// recreated under its name (new UID, same resourceVersion
				// string as before is impossible in etcd but must not hit).
				changed := randomList(f, len(list.Items))
				reidentify(metas(list.Items), metas(changed.Items))
				if got, want := encode(t, cached[mediaType], changed), encode(t, plain[mediaType], changed); !bytes.Equal(got, want) {
					t.Fatalf("round %d: a list of changed objects is served stale:\n got %q\nwant %q", round, got, want)
				}
				var back v1alpha2.MPIJobList
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
		t.Fatal("the lists left nothing in the cache")
	}
}

// TestItemsWithKindAreNotCached: an item that carries its own kind encodes
// differently in JSON, so it must never be served from (or fill) the cache.
func TestItemsWithKindAreNotCached(t *testing.T) {
	plain, cached, cache, f := codecs(t)
	list := randomList(f, 3)
	encode(t, cached[runtime.ContentTypeJSON], list)
	for i := range list.Items {
		list.Items[i].SetGroupVersionKind(v1alpha2.SchemeGroupVersion.WithKind("MPIJob"))
	}
	before := cache.Len()
	if got, want := encode(t, cached[runtime.ContentTypeJSON], list), encode(t, plain[runtime.ContentTypeJSON], list); !bytes.Equal(got, want) {
		t.Fatalf("items with a kind:\n got %q\nwant %q", got, want)
	}
	if cache.Len() != before {
		t.Fatalf("items with a kind changed the cache from %d to %d entries", before, cache.Len())
	}
}

// TestEmptyAndNilLists: no items is "items":[] in JSON, nil is null.
func TestEmptyAndNilLists(t *testing.T) {
	plain, cached, _, _ := codecs(t)
	for _, list := range []*v1alpha2.MPIJobList{{Items: []v1alpha2.MPIJob{}}, {}} {
		list.SetGroupVersionKind(v1alpha2.SchemeGroupVersion.WithKind("MPIJobList"))
		list.ResourceVersion = "7"
		for _, mt := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
			if got, want := encode(t, cached[mt], list), encode(t, plain[mt], list); !bytes.Equal(got, want) {
				t.Errorf("%s, items %v: got %q, want %q", mt, list.Items, got, want)
			}
		}
	}
}

// TestCacheStaysWithinItsLimit: past its limit the cache drops entries and
// its byte count stays at or under the limit.
func TestCacheStaysWithinItsLimit(t *testing.T) {
	c := New(16 << 10)
	data := bytes.Repeat([]byte("x"), 1000)
	for i := 0; i < 200; i++ {
		c.Put(JSON, "kubeflow.org/v1alpha2", "ns", fmt.Sprint(i), "u", "1", data)
		if c.Size() > 16<<10 {
			t.Fatalf("after %d puts the cache holds %d bytes, limit %d", i+1, c.Size(), 16<<10)
		}
	}
	if c.Len() == 0 || c.Len() > 16 {
		t.Fatalf("cache holds %d entries of 1000 bytes under a 16 KiB limit", c.Len())
	}
	if _, ok := c.Get(JSON, "kubeflow.org/v1alpha2", "ns", "199", "u", "1"); !ok {
		t.Fatal("the last entry put was evicted")
	}
	if _, ok := New(0).Get(JSON, "kubeflow.org/v1alpha2", "ns", "1", "u", "1"); ok {
		t.Fatal("a disabled cache hit")
	}
}
