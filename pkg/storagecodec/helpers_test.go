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

package storagecodec_test

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apitestingfuzzer "k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	kubeflowfuzzer "github.com/mpijob/mpijob-apiserver/api/kubeflow/fuzzer"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/install"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/pkg/storagecodec"
)

var storageVersions = []schema.GroupVersion{v1alpha2.SchemeGroupVersion, v2beta1.SchemeGroupVersion}

// codecs returns a storage codec per storage version, built as the server
// builds it: a scheme with the group installed and its JSON serializer.
func codecs(t testing.TB) (map[string]runtime.Codec, serializer.CodecFactory) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	factory := serializer.NewCodecFactory(scheme)
	info, ok := runtime.SerializerInfoForMediaType(factory.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		t.Fatal("no JSON serializer")
	}
	out := map[string]runtime.Codec{}
	for _, gv := range storageVersions {
		out[gv.Version] = storagecodec.New(scheme, info.Serializer, gv)
	}
	return out, factory
}

// filler fills hub objects with the group's fuzzer. Pod templates are kept
// small: they are stored as they are in both versions.
func filler(t testing.TB, factory serializer.CodecFactory) *randfill.Filler {
	seed := rand.Int63()
	t.Logf("fuzzer seed %d", seed)
	small := func(serializer.CodecFactory) []interface{} {
		return []interface{}{func(p *corev1.PodTemplateSpec, c randfill.Continue) {
			*p = corev1.PodTemplateSpec{}
			p.Name = c.String(0)
			p.Spec.Containers = []corev1.Container{{Name: c.String(0), Image: c.String(0)}}
		}}
	}
	return apitestingfuzzer.FuzzerFor(
		apitestingfuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kubeflowfuzzer.Funcs, small), rand.NewSource(seed), factory)
}

// fuzzedHub is a filled hub object in JSON-canonical form, the form an
// object read from etcd has; it may hold a client's reserved annotation.
func fuzzedHub(t testing.TB, f *randfill.Filler) *kubeflow.MPIJob {
	hub := &kubeflow.MPIJob{}
	f.Fill(hub)
	hub.TypeMeta = metav1.TypeMeta{}
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

func encode(t testing.TB, c runtime.Codec, obj runtime.Object) []byte {
	var buf bytes.Buffer
	if err := c.Encode(obj, &buf); err != nil {
		t.Fatalf("encoding: %v", err)
	}
	return buf.Bytes()
}

func decode(t testing.TB, c runtime.Codec, data []byte) *kubeflow.MPIJob {
	obj, _, err := c.Decode(data, nil, &kubeflow.MPIJob{})
	if err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	job := obj.(*kubeflow.MPIJob)
	job.TypeMeta = metav1.TypeMeta{}
	return job
}

// stored reads the apiVersion and the reserved annotation of stored bytes.
func stored(t testing.TB, data []byte) (apiVersion string, annotation *string) {
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("stored bytes are not JSON: %v\n%s", err, data)
	}
	if v, ok := doc.Metadata.Annotations[carryover.Annotation]; ok {
		annotation = &v
	}
	return doc.APIVersion, annotation
}

func withoutAnnotation(job *kubeflow.MPIJob) *kubeflow.MPIJob {
	out := job.DeepCopy()
	carryover.DropAnnotation(&out.ObjectMeta)
	return out
}

func mustMarshal(t testing.TB, p carryover.Preserved) string {
	v, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return v
}
