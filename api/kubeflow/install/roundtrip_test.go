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

package install

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apitestingfuzzer "k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	kubeflowfuzzer "github.com/mpijob/mpijob-apiserver/api/kubeflow/fuzzer"
)

// TestRoundTripExternalTypes fills objects of every served version, as a
// client would send them, and sends them through JSON and protobuf and
// back: the tags and the generated protobuf code must lose nothing.
func TestRoundTripExternalTypes(t *testing.T) {
	scheme, codecs, f := newFuzzer(t)
	roundtrip.RoundTripExternalTypes(t, scheme, codecs, f, nil)
}

// objectsPerVersion is how many whole objects (full pod templates) each
// version sends through the hub and back.
const objectsPerVersion = 5000

// TestVersionHubVersion: for each served version V, V -> hub -> V gives the
// object back exactly, in Go (nil and empty told apart), as JSON bytes and
// as protobuf bytes, for every object without a client's copy of the
// reserved annotation (the API's serializer drops that before conversion,
// TestWriteHonoured). The hub is the union of the versions, so nothing of
// any one of them may be lost on the way.
func TestVersionHubVersion(t *testing.T) {
	for _, v := range served {
		t.Run(v.name, func(t *testing.T) {
			_, _, f := newFuzzer(t)
			e := newEnv(t, nil)
			clientCopies, goOnly := 0, 0
			for i := 0; i < objectsPerVersion; i++ {
				filled := v.new()
				f.Fill(filled)
				obj, had := withoutAnnotationOf(filled)
				if had {
					clientCopies++
				}
				obj.GetObjectKind().SetGroupVersionKind(v.gv.WithKind("MPIJob"))

				// In Go, exactly for the object as it reaches the server,
				// through JSON; for the filled object, but for the
				// annotation that keeps an empty list or map v2beta1 would
				// omit, if the Go object holds one.
				canonical := e.decode(e.json, e.encode(e.json, obj), v)
				canonical.GetObjectKind().SetGroupVersionKind(v.gv.WithKind("MPIJob"))
				if d := diff(canonical, e.toVersion(e.toHub(canonical), v)); d != "" {
					t.Fatalf("object %d: %s -> JSON -> hub -> %s differs in Go (-sent +back):\n%s", i, v.name, v.name, d)
				}
				back, annotated := withoutAnnotationOf(e.toVersion(e.toHub(obj), v))
				if annotated {
					goOnly++
					// Conversion gave back a new map; nil or empty, it
					// held nothing else.
					if m := objectMeta(back); len(m.Annotations) == 0 && objectMeta(obj).Annotations != nil {
						m.Annotations = map[string]string{}
					}
				}
				if d := diff(obj, back); d != "" {
					t.Fatalf("object %d: %s -> hub -> %s differs in Go (-sent +back):\n%s", i, v.name, v.name, d)
				}
				for _, s := range []runtime.Serializer{e.json, e.proto} {
					first := e.encode(s, obj)
					read := e.decode(s, first, v)
					read.GetObjectKind().SetGroupVersionKind(v.gv.WithKind("MPIJob"))
					if second := e.encode(s, e.toVersion(e.toHub(read), v)); !bytes.Equal(first, second) {
						t.Fatalf("object %d: %s -> %T -> hub -> %s changes the bytes:\nfirst  %q\nsecond %q", i, v.name, s, v.name, first, second)
					}
				}
			}
			t.Logf("%d objects, each in Go, JSON and protobuf (%d filled with a client's annotation, removed; %d annotated in Go only, for an empty list JSON omits)",
				objectsPerVersion, clientCopies, goOnly)
		})
	}
}

// hubObjectsPerVersion is how many hub objects go through each version.
const hubObjectsPerVersion = 10000

// TestHubVersionHub: for each served version V, every hub object converts to
// V and back to itself, in Go and through V's plain JSON and protobuf (the
// serializers etcd and server-side apply see, which keep the reserved
// annotation): what V cannot express travels in the annotation, which holds
// exactly carryover.Take(V, hub), and is absent when that is empty. A stale
// annotation on the hub object is replaced, never passed on. Server-side
// apply and the etcd codec rely on this.
func TestHubVersionHub(t *testing.T) {
	for _, v := range served {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			_, _, f := newFuzzer(t)
			e := newSeededEnv(t)
			annotated, stale := 0, 0
			for i := 0; i < hubObjectsPerVersion; i++ {
				filled := e.fuzzedHub()
				if _, ok := filled.Annotations[carryover.Annotation]; ok {
					stale++
				}
				hub := filled.DeepCopy()
				carryover.DropAnnotation(&hub.ObjectMeta)
				if i%10 == 0 {
					// Whole pod templates, now and then: the generated
					// conversions copy them as they are.
					hub.Spec.MPIReplicaSpecs = nil
					f.Fill(&hub.Spec.MPIReplicaSpecs)
					hub = canonicalHub(t, hub)
				}
				filled.Spec = hub.Spec

				x := e.toVersion(filled, v)
				value, ok := objectMeta(x).Annotations[carryover.Annotation]
				switch p := carryover.Take(v.name, hub); {
				case p.IsZero() && ok:
					t.Fatalf("object %d: %s expresses all of the job, yet its conversion holds the annotation %q", i, v.name, value)
				case !p.IsZero() && !ok:
					t.Fatalf("object %d: %s cannot express all of the job, yet its conversion holds no annotation:\n%s", i, v.name, hubJSON(hub))
				case ok:
					annotated++
					if want, _ := p.Marshal(); value != want {
						t.Fatalf("object %d: the %s conversion holds the annotation %q, want %q", i, v.name, value, want)
					}
				}
				x = e.toVersion(hub, v)
				if d := diff(hub, e.toHub(x)); d != "" {
					t.Fatalf("object %d: hub -> %s -> hub differs in Go (-hub +back):\n%s", i, v.name, d)
				}
				for _, s := range []runtime.Serializer{e.json, e.proto} {
					back := e.toHub(e.decode(s, e.encode(s, x), v))
					opts := []cmp.Option{}
					if s == e.proto {
						// Protobuf does not tell an empty list or map from
						// an absent one, for any Kubernetes type.
						opts = append(opts, cmpopts.EquateEmpty())
					}
					if d := diff(hub, back, opts...); d != "" {
						t.Fatalf("object %d: hub -> %s -> %T -> hub differs (-hub +back):\n%s", i, v.name, s, d)
					}
				}
			}
			t.Logf("%d hub objects, in Go, JSON and protobuf: %d converted with the annotation, %d filled with a stale one, replaced",
				hubObjectsPerVersion, annotated, stale)
		})
	}
}

// canonicalHub is hub in its JSON-canonical form.
func canonicalHub(t *testing.T, hub *kubeflow.MPIJob) *kubeflow.MPIJob {
	b, err := json.Marshal(hub)
	if err != nil {
		t.Fatal(err)
	}
	out := &kubeflow.MPIJob{}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func newFuzzer(t *testing.T) (*runtime.Scheme, serializer.CodecFactory, *randfill.Filler) {
	scheme := runtime.NewScheme()
	Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	seed := rand.Int63()
	t.Logf("fuzzer seed %d", seed)
	f := apitestingfuzzer.FuzzerFor(
		apitestingfuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kubeflowfuzzer.Funcs),
		rand.NewSource(seed),
		codecs,
	)
	return scheme, codecs, f
}
