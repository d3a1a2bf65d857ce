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

	corev1 "k8s.io/api/core/v1"
	apitestingfuzzer "k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"sigs.k8s.io/randfill"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	kubeflowfuzzer "github.com/mpijob/mpijob-apiserver/api/kubeflow/fuzzer"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// version is one served version of the group.
type version struct {
	name string // as package carryover names it
	gv   schema.GroupVersion
	new  func() runtime.Object
}

var served = []version{
	{carryover.V1alpha2, v1alpha2.SchemeGroupVersion, func() runtime.Object { return &v1alpha2.MPIJob{} }},
	{carryover.V2beta1, v2beta1.SchemeGroupVersion, func() runtime.Object { return &v2beta1.MPIJob{} }},
}

// env converts and serializes MPIJobs as the server does: the scheme of
// Install, the JSON and protobuf serializers, and the group's fuzzer.
type env struct {
	t      testing.TB
	scheme *runtime.Scheme
	json   runtime.Serializer
	proto  runtime.Serializer
	fill   *randfill.Filler
}

func newEnv(t testing.TB, src rand.Source) *env {
	scheme := runtime.NewScheme()
	Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	return &env{
		t:      t,
		scheme: scheme,
		json:   kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{}),
		proto:  protobuf.NewSerializer(scheme, scheme),
		fill: apitestingfuzzer.FuzzerFor(
			apitestingfuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kubeflowfuzzer.Funcs, smallTemplates), src, codecs),
	}
}

// smallTemplates keeps pod templates to a name and a container. A template
// is the same type in every version, converted as it is; the round trips of
// roundtrip_test.go fill it whole. Here it would only cost time: the
// properties are about the fields the versions disagree on.
func smallTemplates(serializer.CodecFactory) []interface{} {
	return []interface{}{
		func(p *corev1.PodTemplateSpec, c randfill.Continue) {
			*p = corev1.PodTemplateSpec{}
			p.Name = c.String(0)
			p.Spec.Containers = []corev1.Container{{Name: c.String(0), Image: c.String(0)}}
		},
	}
}

// newSeededEnv logs its seed so that a failure can be replayed.
func newSeededEnv(t testing.TB) *env {
	seed := rand.Int63()
	t.Logf("fuzzer seed %d", seed)
	return newEnv(t, rand.NewSource(seed))
}

// fuzzed returns a filled object of v, as a client could send it.
func (e *env) fuzzed(v version) runtime.Object {
	obj := v.new()
	e.fill.Fill(obj)
	return obj
}

// fuzzedHub returns a filled hub object in its JSON-canonical form (times
// in seconds, no empty maps under omitempty), the only form etcd can hold.
func (e *env) fuzzedHub() *kubeflow.MPIJob {
	hub := &kubeflow.MPIJob{}
	e.fill.Fill(hub)
	hub.TypeMeta = metav1.TypeMeta{}
	b, err := json.Marshal(hub)
	if err != nil {
		e.t.Fatalf("marshalling a hub object: %v", err)
	}
	canonical := &kubeflow.MPIJob{}
	if err := json.Unmarshal(b, canonical); err != nil {
		e.t.Fatalf("unmarshalling a hub object: %v\n%s", err, b)
	}
	return canonical
}

// toVersion converts a copy of hub to v.
func (e *env) toVersion(hub *kubeflow.MPIJob, v version) runtime.Object {
	out := v.new()
	if err := e.scheme.Convert(hub.DeepCopy(), out, nil); err != nil {
		e.t.Fatalf("hub -> %s: %v", v.name, err)
	}
	out.GetObjectKind().SetGroupVersionKind(v.gv.WithKind("MPIJob"))
	return out
}

// toHub converts a copy of obj to the hub.
func (e *env) toHub(obj runtime.Object) *kubeflow.MPIJob {
	hub := &kubeflow.MPIJob{}
	if err := e.scheme.Convert(obj.DeepCopyObject(), hub, nil); err != nil {
		e.t.Fatalf("%T -> hub: %v", obj, err)
	}
	hub.TypeMeta = metav1.TypeMeta{}
	return hub
}

func (e *env) encode(s runtime.Serializer, obj runtime.Object) []byte {
	var buf bytes.Buffer
	if err := s.Encode(obj, &buf); err != nil {
		e.t.Fatalf("encoding %T: %v", obj, err)
	}
	return buf.Bytes()
}

func (e *env) decode(s runtime.Serializer, data []byte, v version) runtime.Object {
	obj, _, err := s.Decode(data, nil, v.new())
	if err != nil {
		e.t.Fatalf("decoding as %s: %v\n%s", v.name, err, data)
	}
	return obj
}

// view is the JSON a reader of v gets for hub.
func (e *env) view(hub *kubeflow.MPIJob, v version) []byte {
	return e.encode(e.json, e.toVersion(hub, v))
}

// body is what the server makes of a request body obj of v: obj through
// v's JSON, defaulted (only v2beta1 has defaults), in the hub, without a
// client's copy of the reserved annotation (the strategies drop it).
func (e *env) body(obj runtime.Object, v version) *kubeflow.MPIJob {
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(v.gv.WithKind("MPIJob"))
	ext := e.decode(e.json, e.encode(e.json, obj), v)
	e.scheme.Default(ext)
	hub := e.toHub(ext)
	carryover.DropAnnotation(&hub.ObjectMeta)
	return hub
}

// readAndWriteBack is a client of v reading stored through v's JSON and
// writing what it read back unchanged, spec and status, as the strategies
// handle a PUT and a status PUT: the carry-over restores what v cannot say.
func (e *env) readAndWriteBack(stored *kubeflow.MPIJob, v version) *kubeflow.MPIJob {
	written := e.body(e.toVersion(stored, v), v)
	return e.restore(stored, written, v)
}

// restore applies to written the carry-over from stored, as the update and
// status update strategies do.
func (e *env) restore(stored, written *kubeflow.MPIJob, v version) *kubeflow.MPIJob {
	out := written.DeepCopy()
	p := carryover.Take(v.name, stored)
	p.RestoreSpec(out)
	p.RestoreStatus(out)
	return out
}
