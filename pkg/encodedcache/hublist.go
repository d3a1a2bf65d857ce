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

package encodedcache

import (
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// A LIST answer starts as a list of hub MPIJobs. The library's encoder
// converts the whole list to the answer's version before any serializer
// sees it, which allocates every item anew (about a tenth of a LIST's CPU
// and of its allocations) even when every item's bytes are cached. The
// encoder below hands this package's serializers the hub list instead, and
// they convert only the items they do not find in the cache.

// hubList is a list of hub MPIJobs on its way to a served version.
type hubList struct {
	typeMeta  metav1.TypeMeta // the served version's list kind
	list      *kubeflow.MPIJobList
	convertor runtime.ObjectConvertor
	newItem   func() job
}

func (l *hubList) GetObjectKind() schema.ObjectKind { return &l.typeMeta }

func (l *hubList) DeepCopyObject() runtime.Object {
	cp := *l
	cp.list = l.list.DeepCopy()
	return &cp
}

// convert is the i'th item in the served version, as the whole list's
// conversion would have made it, and without the reserved annotation the
// conversion may have written: the serializers further out drop it from
// the lists they see, and this item never passes them.
func (l *hubList) convert(i int) (job, error) {
	out := l.newItem()
	if err := l.convertor.Convert(&l.list.Items[i], out, nil); err != nil {
		return nil, err
	}
	if _, ok := out.GetAnnotations()[carryover.Annotation]; ok {
		out.SetAnnotations(carryover.WithoutAnnotation(out.GetAnnotations()))
	}
	return out, nil
}

// servedItems makes the items of each served version's list.
var servedItems = map[schema.GroupVersion]func() job{
	v1alpha2.SchemeGroupVersion: func() job { return &v1alpha2.MPIJob{} },
	v2beta1.SchemeGroupVersion:  func() job { return &v2beta1.MPIJob{} },
}

// hubListEncoder is the library's encoder for one version (codec), except
// that hub MPIJob lists bound for a served version go to serializer as a
// hubList when serializer is one of this package's.
type hubListEncoder struct {
	codec      runtime.Encoder
	serializer runtime.Encoder
	target     runtime.GroupVersioner
	scheme     *runtime.Scheme
}

func (e hubListEncoder) Identifier() runtime.Identifier { return e.codec.Identifier() }

func (e hubListEncoder) Encode(obj runtime.Object, w io.Writer) error {
	if l, ok := e.asHubList(obj); ok {
		return e.serializer.Encode(l, w)
	}
	return e.codec.Encode(obj, w)
}

// EncodeWithAllocator keeps the library's allocator path for everything but
// hub lists.
func (e hubListEncoder) EncodeWithAllocator(obj runtime.Object, w io.Writer, memAlloc runtime.MemoryAllocator) error {
	if l, ok := e.asHubList(obj); ok {
		return e.serializer.Encode(l, w)
	}
	if a, ok := e.codec.(runtime.EncoderWithAllocator); ok {
		return a.EncodeWithAllocator(obj, w, memAlloc)
	}
	return e.codec.Encode(obj, w)
}

// asHubList is obj as a hubList when it is a hub MPIJob list, the target
// picks a served version's list kind for it (as the scheme's conversion
// would) and the serializer is this package's.
func (e hubListEncoder) asHubList(obj runtime.Object) (*hubList, bool) {
	list, ok := obj.(*kubeflow.MPIJobList)
	if !ok || !encodesHubLists(e.serializer) {
		return nil, false
	}
	kinds, _, err := e.scheme.ObjectKinds(list)
	if err != nil {
		return nil, false
	}
	gvk, ok := e.target.KindForGroupVersionKinds(kinds)
	if !ok {
		return nil, false
	}
	newItem, served := servedItems[gvk.GroupVersion()]
	if !served || gvk.Kind != "MPIJobList" {
		return nil, false
	}
	return &hubList{
		typeMeta:  metav1.TypeMeta{Kind: gvk.Kind, APIVersion: gvk.GroupVersion().String()},
		list:      list,
		convertor: e.scheme,
		newItem:   newItem,
	}, true
}

// encodesHubLists tells whether enc is, or wraps, a serializer of this
// package. Wrappers further out (the reserved annotation's) pass a hubList
// through unchanged and say what they wrap with Unwrap.
func encodesHubLists(enc runtime.Encoder) bool {
	for {
		switch e := enc.(type) {
		case *jsonSerializer, *protobufSerializer:
			return true
		case interface{ Unwrap() runtime.Serializer }:
			enc = e.Unwrap()
		default:
			return false
		}
	}
}
