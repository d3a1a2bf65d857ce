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
	"testing"

	"github.com/google/go-cmp/cmp"
	apitestingfuzzer "k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill/bytesource"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	kubeflowfuzzer "github.com/mpijob/mpijob-apiserver/api/kubeflow/fuzzer"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

func fuzzCodecs() (*runtime.Scheme, serializer.CodecFactory) {
	scheme := runtime.NewScheme()
	Install(scheme)
	return scheme, serializer.NewCodecFactory(scheme)
}

// FuzzRoundTripHub fills a hub MPIJob with the group's fuzzer funcs, driven
// by the fuzz input as the source of randomness, and sends it hub ->
// v1alpha2 -> JSON -> v1alpha2 -> hub: it must come back semantically equal.
// The fuzzer funcs keep the values representable (enums, replica keys, meta
// fields normalized as the meta fuzzer does), as in TestRoundTripTypes.
func FuzzRoundTripHub(f *testing.F) {
	_, codecs := fuzzCodecs()
	funcs := apitestingfuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kubeflowfuzzer.Funcs)
	encoder := codecs.LegacyCodec(v1alpha2.SchemeGroupVersion)
	decoder := codecs.UniversalDecoder(kubeflow.SchemeGroupVersion)

	f.Fuzz(func(t *testing.T, data []byte) {
		filler := apitestingfuzzer.FuzzerFor(funcs, bytesource.New(data), codecs)
		hub := &kubeflow.MPIJob{}
		filler.Fill(hub)
		hub.TypeMeta = metav1.TypeMeta{}

		var buf bytes.Buffer
		if err := encoder.Encode(hub, &buf); err != nil {
			t.Fatalf("encoding %#v: %v", hub, err)
		}
		obj, _, err := decoder.Decode(buf.Bytes(), nil, &kubeflow.MPIJob{})
		if err != nil {
			t.Fatalf("decoding %s: %v", buf.Bytes(), err)
		}
		back := obj.(*kubeflow.MPIJob)
		back.TypeMeta = metav1.TypeMeta{}
		if !apiequality.Semantic.DeepEqual(hub, back) {
			t.Fatalf("hub -> v1alpha2 -> JSON -> hub differs (-sent +read):\n%s\nJSON %s", cmp.Diff(hub, back), buf.Bytes())
		}
	})
}

// FuzzRoundTripWire reads arbitrary bytes as a v1alpha2 MPIJob in JSON (the
// strict serializer, keeping what decodes with only strict errors, as the
// handlers do) and sends what it reads v1alpha2 -> hub -> v1alpha2 -> JSON.
// A first encoding is canonical (times in seconds, quantities in canonical
// form), so from then on nothing may change: decoding it gives an equal
// object, and encoding that gives the same bytes.
func FuzzRoundTripWire(f *testing.F) {
	scheme, codecs := fuzzCodecs()
	info, _ := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	strict := codecs.DecoderToVersion(info.StrictSerializer, v1alpha2.SchemeGroupVersion)
	encoder := codecs.LegacyCodec(v1alpha2.SchemeGroupVersion)
	defaultGVK := v1alpha2.SchemeGroupVersion.WithKind("MPIJob")

	f.Fuzz(func(t *testing.T, data []byte) {
		obj, _, err := strict.Decode(data, &defaultGVK, &v1alpha2.MPIJob{})
		if err != nil && (obj == nil || !runtime.IsStrictDecodingError(err)) {
			return
		}
		wire, ok := obj.(*v1alpha2.MPIJob)
		if !ok {
			return
		}
		hub := &kubeflow.MPIJob{}
		if err := scheme.Convert(wire, hub, nil); err != nil {
			t.Fatalf("v1alpha2 -> hub: %v\ninput %q", err, data)
		}
		var first bytes.Buffer
		if err := encoder.Encode(hub, &first); err != nil {
			t.Fatalf("encoding: %v\ninput %q", err, data)
		}
		obj2, _, err := strict.Decode(first.Bytes(), nil, &v1alpha2.MPIJob{})
		if err != nil {
			t.Fatalf("the encoding does not decode strictly: %v\nencoding %s\ninput %q", err, first.Bytes(), data)
		}
		hub2 := &kubeflow.MPIJob{}
		if err := scheme.Convert(obj2, hub2, nil); err != nil {
			t.Fatalf("v1alpha2 -> hub (second): %v", err)
		}
		var second bytes.Buffer
		if err := encoder.Encode(hub2, &second); err != nil {
			t.Fatalf("encoding (second): %v", err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("encoding is not stable:\nfirst  %s\nsecond %s\ninput %q", first.Bytes(), second.Bytes(), data)
		}
		hub.TypeMeta, hub2.TypeMeta = metav1.TypeMeta{}, metav1.TypeMeta{}
		// The first hub came from arbitrary bytes, so compare the canonical
		// ones: hub2 against a third read of the same bytes.
		obj3, _, _ := strict.Decode(second.Bytes(), nil, &v1alpha2.MPIJob{})
		hub3 := &kubeflow.MPIJob{}
		if err := scheme.Convert(obj3, hub3, nil); err != nil {
			t.Fatalf("v1alpha2 -> hub (third): %v", err)
		}
		hub3.TypeMeta = metav1.TypeMeta{}
		if !apiequality.Semantic.DeepEqual(hub2, hub3) {
			t.Fatalf("canonical round trip differs:\n%s", cmp.Diff(hub2, hub3))
		}
	})
}
