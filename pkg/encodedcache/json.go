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
	"bufio"
	"encoding/json"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
)

// jsonSerializer writes MPIJob lists of every served version from cached item encodings and leaves
// everything else to the serializer it wraps. Its output is byte for byte
// what the wrapped serializer writes (encoding/json's Encoder on the list),
// so it keeps that serializer's identifier.
type jsonSerializer struct {
	runtime.Serializer
	cache *Cache
}

func (s *jsonSerializer) Encode(obj runtime.Object, w io.Writer) error {
	list, ok := asJobList(obj)
	if !ok {
		return s.Serializer.Encode(obj, w)
	}
	return s.encodeList(list, w)
}

// encodeList writes {"kind":…,"apiVersion":…,"metadata":…,"items":[…]}
// and a newline, as encoding/json writes the struct: TypeMeta's fields
// inline and omitted when empty, then the list metadata, then the items.
func (s *jsonSerializer) encodeList(list jobList, w io.Writer) error {
	// The opening brace goes out alone, as the library's streaming encoder
	// sends it: the response writer takes a first write this small for a
	// stream and buffers it, so that an answer over 128 KiB is still
	// gzip-compressed for clients that ask for it.
	if _, err := w.Write([]byte{'{'}); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if list.typeMeta.Kind != "" {
		writeJSONField(bw, "kind", list.typeMeta.Kind)
		bw.WriteByte(',')
	}
	if list.typeMeta.APIVersion != "" {
		writeJSONField(bw, "apiVersion", list.typeMeta.APIVersion)
		bw.WriteByte(',')
	}
	meta, err := json.Marshal(list.listMeta)
	if err != nil {
		return err
	}
	bw.WriteString(`"metadata":`)
	bw.Write(meta)
	bw.WriteString(`,"items":`)
	if list.isNil() {
		bw.WriteString("null")
	} else {
		bw.WriteByte('[')
		for i := 0; i < list.len(); i++ {
			if i > 0 {
				bw.WriteByte(',')
			}
			item, err := s.item(list, i)
			if err != nil {
				return err
			}
			bw.Write(item)
		}
		bw.WriteByte(']')
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// item is the JSON of the list's i'th item, from the cache when the same
// object at the same resourceVersion was encoded in the list's version
// before. Items that carry a kind or apiVersion are encoded every time, so
// the cache holds one form per object and version.
func (s *jsonSerializer) item(list jobList, i int) ([]byte, error) {
	id, cacheable := list.identity(i)
	if cacheable {
		if b, ok := s.cache.Get(JSON, list.version, id.GetNamespace(), id.GetName(), id.GetUID(), id.GetResourceVersion()); ok {
			return b, nil
		}
	}
	j, err := list.item(i)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	if cacheable {
		s.cache.Put(JSON, list.version, id.GetNamespace(), id.GetName(), id.GetUID(), id.GetResourceVersion(), b)
	}
	return b, nil
}

func writeJSONField(bw *bufio.Writer, name, value string) {
	v, _ := json.Marshal(value) // a string always marshals
	bw.WriteByte('"')
	bw.WriteString(name)
	bw.WriteString(`":`)
	bw.Write(v)
}
