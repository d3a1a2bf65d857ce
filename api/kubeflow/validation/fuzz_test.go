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

package validation_test

import (
	"bytes"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/validation"
	"github.com/mpijob/mpijob-apiserver/pkg/apiserver"
)

// FuzzDecodeValidate sends arbitrary request bodies down the path of a create,
// an update and a status update: decoded with the server's codecs in each
// media type it serves (the strict serializer, as the handlers use it for
// fieldValidation=Warn and Strict), converted and defaulted to the hub type,
// validated, converted back to v1alpha2 and encoded as it is stored. Nothing
// may panic; an object that decodes must encode, and its encoding must read
// back to the same encoding (what is stored can be read).
//
// The seed corpus (testdata/fuzz/FuzzDecodeValidate) holds the seed object in
// JSON, YAML and protobuf, invalid variants and deeply nested bodies; plain
// `go test` runs it as a unit test, `make fuzz` explores from it.
func FuzzDecodeValidate(f *testing.F) {
	encoder := apiserver.Codecs.LegacyCodec(v1alpha2.SchemeGroupVersion)
	hubDecoder := apiserver.Codecs.UniversalDecoder(kubeflow.SchemeGroupVersion)
	var decoders []runtime.Decoder
	for _, info := range apiserver.Codecs.SupportedMediaTypes() {
		s := info.StrictSerializer
		if s == nil {
			s = info.Serializer
		}
		decoders = append(decoders, apiserver.Codecs.DecoderToVersion(s, kubeflow.SchemeGroupVersion))
		decoders = append(decoders, apiserver.Codecs.DecoderToVersion(info.Serializer, kubeflow.SchemeGroupVersion))
	}
	defaultGVK := v1alpha2.SchemeGroupVersion.WithKind("MPIJob")

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range decoders {
			obj, _, err := d.Decode(data, &defaultGVK, &kubeflow.MPIJob{})
			if err != nil && (obj == nil || !runtime.IsStrictDecodingError(err)) {
				continue // refused: a 400 at the handler
			}
			job, ok := obj.(*kubeflow.MPIJob)
			if !ok {
				continue // another kind: a 400 at the handler
			}
			old := job.DeepCopy()
			old.ResourceVersion = "1"
			_ = validation.ValidateMPIJob(job)
			_ = validation.ValidateMPIJobUpdate(job, old)
			_ = validation.ValidateMPIJobUpdate(old, job)
			_ = validation.ValidateMPIJobStatusUpdate(job, old)
			_ = validation.ValidateMPIJobStatusUpdate(old, job)

			var first bytes.Buffer
			if err := encoder.Encode(job, &first); err != nil {
				t.Fatalf("a decoded object does not encode: %v\ninput %q", err, data)
			}
			back, _, err := hubDecoder.Decode(first.Bytes(), nil, &kubeflow.MPIJob{})
			if err != nil {
				t.Fatalf("the encoding of a decoded object does not decode: %v\nencoding %s\ninput %q", err, first.Bytes(), data)
			}
			var second bytes.Buffer
			if err := encoder.Encode(back, &second); err != nil {
				t.Fatalf("re-encoding: %v", err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Fatalf("encoding is not stable:\nfirst  %s\nsecond %s\ninput %q", first.Bytes(), second.Bytes(), data)
			}
		}
	})
}
