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
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	apitestingfuzzer "k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

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
// as protobuf bytes. The hub is the union of the versions, so nothing of
// any one of them may be lost on the way.
func TestVersionHubVersion(t *testing.T) {
	for _, v := range served {
		t.Run(v.name, func(t *testing.T) {
			_, _, f := newFuzzer(t)
			e := newEnv(t, nil)
			for i := 0; i < objectsPerVersion; i++ {
				obj := v.new()
				f.Fill(obj)
				obj.GetObjectKind().SetGroupVersionKind(v.gv.WithKind("MPIJob"))

				back := e.toVersion(e.toHub(obj), v)
				if d := cmp.Diff(obj, back); d != "" {
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
			t.Logf("%d objects, each in Go, JSON and protobuf", objectsPerVersion)
		})
	}
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
