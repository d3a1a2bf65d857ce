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
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
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
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/pkg/reservedannotation"
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

// env converts and serializes MPIJobs as the server and its clients do: the
// scheme of Install; the plain JSON and protobuf serializers, which clients
// and etcd use and which keep the reserved annotation; the API group's
// serializers (reservedannotation over the codec factory, as the server
// builds them), which answer reads and decode request bodies; and the
// group's fuzzer.
type env struct {
	t      testing.TB
	scheme *runtime.Scheme
	json   runtime.Serializer
	proto  runtime.Serializer
	// The API group's serializers.
	apiJSON, apiStrictJSON, apiProto runtime.Serializer
	fill                             *randfill.Filler
}

func newEnv(t testing.TB, src rand.Source) *env {
	scheme := runtime.NewScheme()
	Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	plainJSON := serializerFor(t, codecs, runtime.ContentTypeJSON)
	plainProto := serializerFor(t, codecs, runtime.ContentTypeProtobuf)
	api := reservedannotation.NegotiatedSerializer(codecs)
	apiJSON := serializerFor(t, api, runtime.ContentTypeJSON)
	apiProto := serializerFor(t, api, runtime.ContentTypeProtobuf)
	return &env{
		t:             t,
		scheme:        scheme,
		json:          plainJSON.Serializer,
		proto:         plainProto.Serializer,
		apiJSON:       apiJSON.Serializer,
		apiStrictJSON: apiJSON.StrictSerializer,
		apiProto:      apiProto.Serializer,
		fill: apitestingfuzzer.FuzzerFor(
			apitestingfuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kubeflowfuzzer.Funcs, smallTemplates), src, codecs),
	}
}

func serializerFor(t testing.TB, ns runtime.NegotiatedSerializer, mediaType string) runtime.SerializerInfo {
	info, ok := runtime.SerializerInfoForMediaType(ns.SupportedMediaTypes(), mediaType)
	if !ok {
		t.Fatalf("no serializer for %s", mediaType)
	}
	return info
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

// fuzzed returns a filled object of v, as a client could send it: it may
// hold a client's copy of the reserved annotation.
func (e *env) fuzzed(v version) runtime.Object {
	obj := v.new()
	e.fill.Fill(obj)
	obj.GetObjectKind().SetGroupVersionKind(v.gv.WithKind("MPIJob"))
	return obj
}

// fuzzedHub returns a filled hub object in its JSON-canonical form (times
// in seconds, no empty maps under omitempty), the only form etcd can hold.
// It may hold a stale copy of the reserved annotation, which no object the
// server keeps has: storedHub drops it.
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

// storedHub is a fuzzed hub object as the server can hold one: without the
// reserved annotation (the conversions to the hub remove it, the strategies
// drop it).
func (e *env) storedHub() *kubeflow.MPIJob {
	hub := e.fuzzedHub()
	carryover.DropAnnotation(&hub.ObjectMeta)
	return hub
}

// toVersion converts a copy of hub to v, as the server does before
// answering and as server-side apply and the etcd codec do: the reserved
// annotation holds what v cannot express.
func (e *env) toVersion(hub *kubeflow.MPIJob, v version) runtime.Object {
	out, err := e.tryToVersion(hub, v)
	if err != nil {
		e.t.Fatalf("hub -> %s: %v", v.name, err)
	}
	return out
}

func (e *env) tryToVersion(hub *kubeflow.MPIJob, v version) (runtime.Object, error) {
	out := v.new()
	if err := e.scheme.Convert(hub.DeepCopy(), out, nil); err != nil {
		return nil, err
	}
	out.GetObjectKind().SetGroupVersionKind(v.gv.WithKind("MPIJob"))
	return out, nil
}

// toHub converts a copy of obj to the hub; the reserved annotation obj
// holds is read back and removed.
func (e *env) toHub(obj runtime.Object) *kubeflow.MPIJob {
	hub, err := e.tryToHub(obj)
	if err != nil {
		e.t.Fatalf("%T -> hub: %v", obj, err)
	}
	return hub
}

func (e *env) tryToHub(obj runtime.Object) (*kubeflow.MPIJob, error) {
	hub := &kubeflow.MPIJob{}
	if err := e.scheme.Convert(obj.DeepCopyObject(), hub, nil); err != nil {
		return nil, err
	}
	hub.TypeMeta = metav1.TypeMeta{}
	return hub, nil
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

// read is what a reader of v gets for hub through s, one of the API's
// serializers: hub converted to v (annotation included), encoded without
// the annotation. The converted object must not change: the watch cache
// shares it between watchers.
func (e *env) read(s runtime.Serializer, hub *kubeflow.MPIJob, v version) []byte {
	obj := e.toVersion(hub, v)
	before := obj.DeepCopyObject()
	data := e.encode(s, obj)
	if d := diff(before, obj); d != "" {
		e.t.Fatalf("encoding a %s answer changed the object it encoded (-before +after):\n%s", v.name, d)
	}
	if bytes.Contains(data, []byte(carryover.Annotation)) {
		e.t.Fatalf("a %s reader sees the reserved annotation:\n%q", v.name, data)
	}
	return data
}

// view is the JSON a reader of v gets for hub.
func (e *env) view(hub *kubeflow.MPIJob, v version) []byte {
	return e.read(e.apiJSON, hub, v)
}

// write is what the server makes of a request body of v in data, decoded by
// s, one of the API's serializers: without a client's copy of the reserved
// annotation, defaulted (only v2beta1 has defaults), in the hub. Nothing is
// restored yet: that is the strategies' work (restore).
func (e *env) write(s runtime.Serializer, data []byte, v version) *kubeflow.MPIJob {
	obj := e.decode(s, data, v)
	e.scheme.Default(obj)
	hub := e.toHub(obj)
	if _, ok := hub.Annotations[carryover.Annotation]; ok {
		e.t.Fatalf("a client's reserved annotation reached the hub object of a %s write", v.name)
	}
	return hub
}

// body is what the server makes of obj, sent by a client of v as JSON: the
// client encodes it with the plain serializer, annotation and all.
func (e *env) body(obj runtime.Object, v version) *kubeflow.MPIJob {
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(v.gv.WithKind("MPIJob"))
	return e.write(e.apiJSON, e.encode(e.json, obj), v)
}

// readAndWriteBack is a client of v reading stored through s, one of the
// API's serializers, and writing what it read back unchanged in the same
// format, spec and status, as the strategies handle a PUT and a status PUT:
// the carry-over restores what v cannot say.
func (e *env) readAndWriteBack(s runtime.Serializer, stored *kubeflow.MPIJob, v version) *kubeflow.MPIJob {
	written := e.write(s, e.read(s, stored, v), v)
	return e.restore(stored, written, v)
}

// restore applies to written the carry-over from stored, as the update and
// status update strategies do (carryover.RestoreSpec, RestoreStatus). It
// also checks that restoring is idempotent: restoring onto the restored
// object, the shape server-side apply hands the strategies (its conversions
// restore already), changes nothing, so both shapes give the same result.
func (e *env) restore(stored, written *kubeflow.MPIJob, v version) *kubeflow.MPIJob {
	out := written.DeepCopy()
	carryover.RestoreSpec(v.name, stored, out)
	carryover.RestoreStatus(v.name, stored, out)
	again := out.DeepCopy()
	carryover.RestoreSpec(v.name, stored, again)
	carryover.RestoreStatus(v.name, stored, again)
	if d := diff(out, again); d != "" {
		e.t.Fatalf("restoring a %s write twice differs from once (-once +twice):\n%s", v.name, d)
	}
	return out
}

// withoutAnnotationOf returns a copy of obj, an MPIJob of a served version,
// without the reserved annotation, and whether it had one.
func withoutAnnotationOf(obj runtime.Object) (runtime.Object, bool) {
	obj = obj.DeepCopyObject()
	m := objectMeta(obj)
	_, had := m.Annotations[carryover.Annotation]
	carryover.DropAnnotation(m)
	return obj, had
}

func objectMeta(obj runtime.Object) *metav1.ObjectMeta {
	switch o := obj.(type) {
	case *v1alpha2.MPIJob:
		return &o.ObjectMeta
	case *v2beta1.MPIJob:
		return &o.ObjectMeta
	case *kubeflow.MPIJob:
		return &o.ObjectMeta
	}
	panic("not an MPIJob")
}

// diff is cmp.Diff, after a quicker check: objects reflect.DeepEqual holds
// equal are equal for cmp too (its Equal methods are only looser), and most
// compared objects are.
func diff(want, got interface{}, opts ...cmp.Option) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return cmp.Diff(want, got, opts...)
}
