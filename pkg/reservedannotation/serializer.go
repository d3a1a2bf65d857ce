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

// Package reservedannotation keeps the reserved annotation of package
// carryover out of every answer and every request of the kubeflow.org API.
//
// The conversions write it into each MPIJob they produce, so that server-side
// apply and the etcd codec, which convert between versions on their own,
// lose nothing. Clients must never see it nor set it: the serializer the API
// group answers and reads requests with drops it from MPIJobs, their lists
// and the objects of tables, after conversion and before decoding into the
// hub.
package reservedannotation

import (
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// NegotiatedSerializer wraps every serializer of inner.
func NegotiatedSerializer(inner runtime.NegotiatedSerializer) runtime.NegotiatedSerializer {
	return negotiated{NegotiatedSerializer: inner}
}

type negotiated struct {
	runtime.NegotiatedSerializer
}

func (n negotiated) SupportedMediaTypes() []runtime.SerializerInfo {
	infos := append([]runtime.SerializerInfo(nil), n.NegotiatedSerializer.SupportedMediaTypes()...)
	for i := range infos {
		infos[i].Serializer = wrap(infos[i].Serializer)
		infos[i].PrettySerializer = wrap(infos[i].PrettySerializer)
		infos[i].StrictSerializer = wrap(infos[i].StrictSerializer)
		if infos[i].StreamSerializer != nil {
			stream := *infos[i].StreamSerializer
			stream.Serializer = wrap(stream.Serializer)
			infos[i].StreamSerializer = &stream
		}
	}
	return infos
}

func wrap(s runtime.Serializer) runtime.Serializer {
	if s == nil {
		return nil
	}
	return serializer{inner: s}
}

type serializer struct {
	inner runtime.Serializer
}

func (s serializer) Identifier() runtime.Identifier {
	return runtime.Identifier("without-" + carryover.Annotation + "/" + string(s.inner.Identifier()))
}

// Unwrap is the serializer this one wraps, for the encoders of package
// encodedcache, which look for their own serializers. Objects this
// serializer does not know, such as their hub lists, pass it unchanged.
func (s serializer) Unwrap() runtime.Serializer { return s.inner }

// Encode writes obj without the annotation. obj is not changed: the watch
// cache may share it between watchers.
func (s serializer) Encode(obj runtime.Object, w io.Writer) error {
	return s.inner.Encode(withoutAnnotation(obj), w)
}

// Decode reads a request body; the annotation a client sent is dropped
// before conversion could read it.
func (s serializer) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	obj, gvk, err := s.inner.Decode(data, defaults, into)
	// A strict decoding error (an unknown or duplicate field) comes with the
	// object, which the handler still uses under fieldValidation=Warn.
	if meta := objectMeta(obj); meta != nil {
		carryover.DropAnnotation(meta)
	}
	return obj, gvk, err
}

// objectMeta is the metadata of a served MPIJob, or nil.
func objectMeta(obj runtime.Object) *metav1.ObjectMeta {
	switch job := obj.(type) {
	case *v1alpha2.MPIJob:
		return &job.ObjectMeta
	case *v2beta1.MPIJob:
		return &job.ObjectMeta
	}
	return nil
}
