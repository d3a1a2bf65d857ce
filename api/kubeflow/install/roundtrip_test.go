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
	"math/rand"
	"testing"

	apitestingfuzzer "k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	kubeflowfuzzer "github.com/mpijob/mpijob-apiserver/api/kubeflow/fuzzer"
)

// TestRoundTripTypes fills hub objects and sends them hub -> v1alpha2 ->
// JSON or protobuf -> v1alpha2 -> hub: the generated conversions, the JSON
// tags and the generated protobuf code together must lose nothing a client
// wrote. (Protobuf has no empty list or map apart from a nil one; the
// comparison, apimachinery's semantic equality, treats them as equal.)
func TestRoundTripTypes(t *testing.T) {
	scheme, codecs, f := newFuzzer(t)
	roundtrip.RoundTripTypes(t, scheme, codecs, f, nil)
}

// TestRoundTripExternalTypes fills v1alpha2 objects, as a client would send
// them, and sends them v1alpha2 -> JSON or protobuf -> v1alpha2.
func TestRoundTripExternalTypes(t *testing.T) {
	scheme, codecs, f := newFuzzer(t)
	roundtrip.RoundTripExternalTypes(t, scheme, codecs, f, nil)
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
