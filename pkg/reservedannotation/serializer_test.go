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

package reservedannotation_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/install"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/pkg/reservedannotation"
)

const reservedValue = `{"v2beta1Only":{"sshAuthMountPath":"/home/mpiuser/.ssh"}}`

var mediaTypes = []string{runtime.ContentTypeJSON, runtime.ContentTypeYAML, runtime.ContentTypeProtobuf}

// factories returns the codec factory of the installed scheme and the API
// group's serializer over it, as the server builds them.
func factories(t *testing.T) (serializer.CodecFactory, runtime.NegotiatedSerializer) {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	utilruntime.Must(metav1.AddMetaToScheme(scheme))
	codecs := serializer.NewCodecFactory(scheme)
	return codecs, reservedannotation.NegotiatedSerializer(codecs)
}

func info(t *testing.T, ns runtime.NegotiatedSerializer, mediaType string) runtime.SerializerInfo {
	t.Helper()
	i, ok := runtime.SerializerInfoForMediaType(ns.SupportedMediaTypes(), mediaType)
	if !ok {
		t.Fatalf("no serializer for %s", mediaType)
	}
	return i
}

func encode(t *testing.T, s runtime.Encoder, obj runtime.Object) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Encode(obj, &buf); err != nil {
		t.Fatalf("encoding %T: %v", obj, err)
	}
	return buf.Bytes()
}

func annotations(withReserved bool) map[string]string {
	a := map[string]string{"team": "hpc"}
	if withReserved {
		a[carryover.Annotation] = reservedValue
	}
	return a
}

func v1alpha2Job(name string, a map[string]string) *v1alpha2.MPIJob {
	return &v1alpha2.MPIJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha2.SchemeGroupVersion.String(), Kind: "MPIJob"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Annotations: a},
		Spec:       v1alpha2.MPIJobSpec{MainContainer: "main"},
	}
}

func v2beta1Job(name string, a map[string]string) *v2beta1.MPIJob {
	return &v2beta1.MPIJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: v2beta1.SchemeGroupVersion.String(), Kind: "MPIJob"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Annotations: a},
		Spec:       v2beta1.MPIJobSpec{SSHAuthMountPath: "/root/.ssh"},
	}
}

// withoutReserved is obj as a client must see it: a copy with the reserved
// annotation removed from the jobs it holds, by hand.
func withoutReserved(obj runtime.Object) runtime.Object {
	obj = obj.DeepCopyObject()
	drop := func(m *metav1.ObjectMeta) { carryover.DropAnnotation(m) }
	switch o := obj.(type) {
	case *v1alpha2.MPIJob:
		drop(&o.ObjectMeta)
	case *v2beta1.MPIJob:
		drop(&o.ObjectMeta)
	case *v1alpha2.MPIJobList:
		for i := range o.Items {
			drop(&o.Items[i].ObjectMeta)
		}
	case *v2beta1.MPIJobList:
		for i := range o.Items {
			drop(&o.Items[i].ObjectMeta)
		}
	case *metav1.Table:
		for i := range o.Rows {
			switch j := o.Rows[i].Object.Object.(type) {
			case *v1alpha2.MPIJob:
				drop(&j.ObjectMeta)
			case *v2beta1.MPIJob:
				drop(&j.ObjectMeta)
			}
		}
	}
	return obj
}

func table(objs ...runtime.Object) *metav1.Table {
	t := &metav1.Table{
		TypeMeta:          metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "Table"},
		ColumnDefinitions: []metav1.TableColumnDefinition{{Name: "Name", Type: "string"}},
	}
	for _, o := range objs {
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []interface{}{"x"}, Object: runtime.RawExtension{Object: o}})
	}
	return t
}

// TestEncode: the API's serializers, in JSON, YAML and protobuf, write
// MPIJobs of both versions, their lists and the objects of table rows
// (includeObject=Object) without the reserved annotation and with every
// other annotation, exactly as the inner serializer writes the same objects
// stripped by hand; they change neither their input nor anything else.
func TestEncode(t *testing.T) {
	codecs, api := factories(t)
	partial := &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"},
		ObjectMeta: metav1.ObjectMeta{Name: "other", Annotations: annotations(true)},
	}
	objects := map[string]runtime.Object{}
	for _, reserved := range []bool{true, false} {
		suffix := " without the annotation"
		if reserved {
			suffix = " with the annotation"
		}
		objects["v1alpha2 MPIJob"+suffix] = v1alpha2Job("a", annotations(reserved))
		objects["v2beta1 MPIJob"+suffix] = v2beta1Job("a", annotations(reserved))
		objects["v1alpha2 list"+suffix] = &v1alpha2.MPIJobList{
			TypeMeta: metav1.TypeMeta{APIVersion: v1alpha2.SchemeGroupVersion.String(), Kind: "MPIJobList"},
			Items:    []v1alpha2.MPIJob{*v1alpha2Job("a", annotations(reserved)), *v1alpha2Job("b", nil), *v1alpha2Job("c", annotations(false))},
		}
		objects["v2beta1 list"+suffix] = &v2beta1.MPIJobList{
			TypeMeta: metav1.TypeMeta{APIVersion: v2beta1.SchemeGroupVersion.String(), Kind: "MPIJobList"},
			Items:    []v2beta1.MPIJob{*v2beta1Job("a", nil), *v2beta1Job("b", annotations(reserved))},
		}
		objects["table"+suffix] = table(v1alpha2Job("a", annotations(reserved)), v2beta1Job("b", annotations(reserved)), nil)
	}
	objects["v1alpha2 MPIJob with only the annotation"] = v1alpha2Job("a", map[string]string{carryover.Annotation: reservedValue})
	objects["v2beta1 MPIJob with only the annotation"] = v2beta1Job("a", map[string]string{carryover.Annotation: reservedValue})
	objects["v2beta1 MPIJob with an empty annotation map"] = v2beta1Job("a", map[string]string{})

	for _, mediaType := range mediaTypes {
		inner, outer := info(t, codecs, mediaType), info(t, api, mediaType)
		for name, obj := range objects {
			if mediaType == runtime.ContentTypeProtobuf && strings.HasPrefix(name, "table") {
				continue // tables are not served as protobuf with their objects
			}
			t.Run(mediaType+" "+name, func(t *testing.T) {
				before := obj.DeepCopyObject()
				if strings.Contains(name, "with the annotation") && !bytes.Contains(encode(t, inner.Serializer, obj), []byte(carryover.Annotation)) {
					t.Fatalf("the inner serializer does not write the annotation: this case tests nothing")
				}
				got := encode(t, outer.Serializer, obj)
				if d := cmp.Diff(before, obj); d != "" {
					t.Fatalf("encoding changed its input (-before +after):\n%s", d)
				}
				if bytes.Contains(got, []byte(carryover.Annotation)) {
					t.Errorf("the answer holds the reserved annotation:\n%q", got)
				}
				if want := encode(t, inner.Serializer, withoutReserved(obj)); !bytes.Equal(want, got) {
					t.Errorf("the answer is not the inner encoding of the stripped object:\nwant %q\ngot  %q", want, got)
				}
				if outer.PrettySerializer != nil {
					if got, want := encode(t, outer.PrettySerializer, obj), encode(t, inner.PrettySerializer, withoutReserved(obj)); !bytes.Equal(want, got) {
						t.Errorf("the pretty answer is not the inner encoding of the stripped object:\nwant %s\ngot  %s", want, got)
					}
				}
			})
		}
		t.Run(mediaType+" other objects", func(t *testing.T) {
			if mediaType == runtime.ContentTypeProtobuf {
				t.Skip("PartialObjectMetadata has no protobuf here")
			}
			got := encode(t, outer.Serializer, partial)
			if want := encode(t, inner.Serializer, partial); !bytes.Equal(want, got) {
				t.Errorf("an object that is no MPIJob was changed:\nwant %q\ngot  %q", want, got)
			}
			if !bytes.Contains(got, []byte(carryover.Annotation)) {
				t.Errorf("an object that is no MPIJob lost the annotation: %q", got)
			}
		})
	}
}

// TestDecode: a request body, in any format and either version, decodes
// without the reserved annotation a client put into it, keeping the other
// annotations (none left: no map); the strict serializer too.
func TestDecode(t *testing.T) {
	codecs, api := factories(t)
	for _, mediaType := range mediaTypes {
		inner, outer := info(t, codecs, mediaType), info(t, api, mediaType)
		for _, other := range []bool{true, false} {
			a := map[string]string{carryover.Annotation: "not even JSON"}
			if other {
				a["team"] = "hpc"
			}
			for _, job := range []runtime.Object{v1alpha2Job("a", a), v2beta1Job("a", a)} {
				body := encode(t, inner.Serializer, job)
				want := withoutReserved(job)
				for name, s := range map[string]runtime.Serializer{"serializer": outer.Serializer, "strict serializer": outer.StrictSerializer} {
					if s == nil {
						continue
					}
					obj, _, err := s.Decode(body, nil, nil)
					if err != nil {
						t.Fatalf("%s %s: decoding %T: %v", mediaType, name, job, err)
					}
					if d := cmp.Diff(want, obj); d != "" {
						t.Errorf("%s %s: a body decodes other than without the reserved annotation (-want +got):\n%s", mediaType, name, d)
					}
				}
			}
		}
	}
}

// TestDecodeStrictErrors: under fieldValidation=Warn the handlers keep the
// object the strict serializer decodes along with a strict decoding error
// (an unknown or duplicate field); the client's reserved annotation must be
// dropped from that object too, or conversion reads it.
func TestDecodeStrictErrors(t *testing.T) {
	_, api := factories(t)
	strict := info(t, api, runtime.ContentTypeJSON).StrictSerializer
	for _, v := range []string{"v1alpha2", "v2beta1"} {
		for name, extra := range map[string]string{"unknown field": `"unknown":1,`, "duplicate field": `"kind":"MPIJob",`} {
			body := `{"apiVersion":"kubeflow.org/` + v + `","kind":"MPIJob",` + extra +
				`"metadata":{"name":"a","namespace":"ns","annotations":{"` + carryover.Annotation + `":"{\"v2beta1Only\":{\"sshAuthMountPath\":\"/x\"}}"}}}`
			obj, _, err := strict.Decode([]byte(body), nil, nil)
			if err == nil || !runtime.IsStrictDecodingError(err) || obj == nil {
				t.Fatalf("%s %s: want an object and a strict decoding error, got %v, %v", v, name, obj, err)
			}
			m, ok := obj.(metav1.Object)
			if !ok {
				t.Fatalf("%s %s: decoded %T", v, name, obj)
			}
			if value, ok := m.GetAnnotations()[carryover.Annotation]; ok {
				t.Errorf("%s %s: the object decoded with a strict error keeps the client's reserved annotation %q", v, name, value)
			}
		}
	}
}

// TestIdentifier: each wrapped serializer has an identifier of its own,
// distinct from the inner one (the encoded-object caches key on it) and
// from the other wrapped ones.
func TestIdentifier(t *testing.T) {
	codecs, api := factories(t)
	seen := map[runtime.Identifier]string{}
	for _, mediaType := range mediaTypes {
		inner, outer := info(t, codecs, mediaType), info(t, api, mediaType)
		pairs := map[string][2]runtime.Serializer{
			"serializer":        {inner.Serializer, outer.Serializer},
			"pretty serializer": {inner.PrettySerializer, outer.PrettySerializer},
			"strict serializer": {inner.StrictSerializer, outer.StrictSerializer},
		}
		if inner.StreamSerializer != nil {
			pairs["stream serializer"] = [2]runtime.Serializer{inner.StreamSerializer.Serializer, outer.StreamSerializer.Serializer}
		}
		for name, p := range pairs {
			if (p[0] == nil) != (p[1] == nil) {
				t.Errorf("%s %s: inner %v, wrapped %v", mediaType, name, p[0], p[1])
				continue
			}
			if p[0] == nil {
				continue
			}
			id := p[1].Identifier()
			if id == p[0].Identifier() {
				t.Errorf("%s %s: the wrapped serializer has the inner identifier %q", mediaType, name, id)
			}
			if !strings.Contains(string(id), string(p[0].Identifier())) {
				t.Errorf("%s %s: the identifier %q does not tell the inner serializer %q", mediaType, name, id, p[0].Identifier())
			}
			if name == "serializer" || name == "pretty serializer" {
				if other, ok := seen[id]; ok {
					t.Errorf("%s %s: identifier %q also of %s", mediaType, name, id, other)
				}
				seen[id] = mediaType + " " + name
			}
		}
	}
}
