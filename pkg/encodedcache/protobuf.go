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
	"encoding/binary"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
)

// protobufPrefix starts every Kubernetes protobuf message: "k8s" and a zero.
var protobufPrefix = []byte{0x6b, 0x38, 0x73, 0x00}

// Field tags of MPIJobList in protobuf: metadata is field 1, items field 2,
// both length-delimited (wire type 2).
const (
	listMetaTag = 1<<3 | 2
	itemsTag    = 2<<3 | 2
)

// protobufSerializer writes MPIJob lists of every served version from cached item encodings and
// leaves everything else to the serializer it wraps. Its output is byte for
// byte the wrapped serializer's: the prefix, then a runtime.Unknown whose raw
// bytes are the list message.
type protobufSerializer struct {
	runtime.Serializer
	cache *Cache
}

func (s *protobufSerializer) Encode(obj runtime.Object, w io.Writer) error {
	if list, ok := asJobList(obj); ok {
		return s.encodeList(list, w)
	}
	return s.Serializer.Encode(obj, w)
}

// EncodeWithAllocator keeps the wrapped serializer's allocator path for
// everything but lists.
func (s *protobufSerializer) EncodeWithAllocator(obj runtime.Object, w io.Writer, memAlloc runtime.MemoryAllocator) error {
	if list, ok := asJobList(obj); ok {
		return s.encodeList(list, w)
	}
	if e, ok := s.Serializer.(runtime.EncoderWithAllocator); ok {
		return e.EncodeWithAllocator(obj, w, memAlloc)
	}
	return s.Serializer.Encode(obj, w)
}

func (s *protobufSerializer) encodeList(list jobList, w io.Writer) error {
	meta, err := list.listMeta.Marshal()
	if err != nil {
		return err
	}
	items := make([][]byte, list.len())
	size := fieldSize(len(meta))
	for i := range items {
		if items[i], err = s.item(list, i); err != nil {
			return err
		}
		size += fieldSize(len(items[i]))
	}
	gvk := list.typeMeta.GroupVersionKind()
	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{Kind: gvk.Kind, APIVersion: gvk.GroupVersion().String()}}
	if _, err := w.Write(protobufPrefix); err != nil {
		return err
	}
	_, err = unk.MarshalToWriter(w, size, func(w io.Writer) (int, error) {
		n, err := writeProtoField(w, listMetaTag, meta)
		if err != nil {
			return n, err
		}
		for _, item := range items {
			m, err := writeProtoField(w, itemsTag, item)
			n += m
			if err != nil {
				return n, err
			}
		}
		return n, nil
	})
	return err
}

// item is the protobuf of the list's i'th item, from the cache when the
// same object at the same resourceVersion was encoded in the list's version
// before. Protobuf leaves the kind and apiVersion out, so every item is
// cacheable.
func (s *protobufSerializer) item(list jobList, i int) ([]byte, error) {
	id, _ := list.identity(i)
	if b, ok := s.cache.Get(Protobuf, list.version, id.GetNamespace(), id.GetName(), id.GetUID(), id.GetResourceVersion()); ok {
		return b, nil
	}
	j, err := list.item(i)
	if err != nil {
		return nil, err
	}
	b, err := j.Marshal()
	if err != nil {
		return nil, err
	}
	s.cache.Put(Protobuf, list.version, id.GetNamespace(), id.GetName(), id.GetUID(), id.GetResourceVersion(), b)
	return b, nil
}

// fieldSize is the size of a length-delimited field with a one-byte tag.
func fieldSize(n int) int {
	var buf [binary.MaxVarintLen64]byte
	return 1 + binary.PutUvarint(buf[:], uint64(n)) + n
}

func writeProtoField(w io.Writer, tag byte, data []byte) (int, error) {
	var head [1 + binary.MaxVarintLen64]byte
	head[0] = tag
	n := 1 + binary.PutUvarint(head[1:], uint64(len(data)))
	m, err := w.Write(head[:n])
	if err != nil {
		return m, err
	}
	k, err := w.Write(data)
	return m + k, err
}
