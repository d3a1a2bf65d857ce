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

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// jsonSerializer writes MPIJob lists from cached item encodings and leaves
// everything else to the serializer it wraps. Its output is byte for byte
// what the wrapped serializer writes (encoding/json's Encoder on the list),
// so it keeps that serializer's identifier.
type jsonSerializer struct {
	runtime.Serializer
	cache *Cache
}

func (s *jsonSerializer) Encode(obj runtime.Object, w io.Writer) error {
	list, ok := obj.(*v1alpha2.MPIJobList)
	if !ok {
		return s.Serializer.Encode(obj, w)
	}
	return s.encodeList(list, w)
}

// encodeList writes {"kind":…,"apiVersion":…,"metadata":…,"items":[…]}
// and a newline, as encoding/json writes the struct: TypeMeta's fields
// inline and omitted when empty, then the list metadata, then the items.
func (s *jsonSerializer) encodeList(list *v1alpha2.MPIJobList, w io.Writer) error {
	// The opening brace goes out alone, as the library's streaming encoder
	// sends it: the response writer takes a first write this small for a
	// stream and buffers it, so that an answer over 128 KiB is still
	// gzip-compressed for clients that ask for it.
	if _, err := w.Write([]byte{'{'}); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if list.Kind != "" {
		writeJSONField(bw, "kind", list.Kind)
		bw.WriteByte(',')
	}
	if list.APIVersion != "" {
		writeJSONField(bw, "apiVersion", list.APIVersion)
		bw.WriteByte(',')
	}
	meta, err := json.Marshal(&list.ListMeta)
	if err != nil {
		return err
	}
	bw.WriteString(`"metadata":`)
	bw.Write(meta)
	bw.WriteString(`,"items":`)
	if list.Items == nil {
		bw.WriteString("null")
	} else {
		bw.WriteByte('[')
		for i := range list.Items {
			if i > 0 {
				bw.WriteByte(',')
			}
			item, err := s.item(&list.Items[i])
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

// item is the JSON of one list item, from the cache when the same object at
// the same resourceVersion was encoded before. Items that carry a kind or
// apiVersion (list items from storage do not) are encoded every time, so the
// cache holds one form per object.
func (s *jsonSerializer) item(job *v1alpha2.MPIJob) ([]byte, error) {
	cacheable := job.Kind == "" && job.APIVersion == ""
	if cacheable {
		if b, ok := s.cache.Get(JSON, job.Namespace, job.Name, job.UID, job.ResourceVersion); ok {
			return b, nil
		}
	}
	b, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	if cacheable {
		s.cache.Put(JSON, job.Namespace, job.Name, job.UID, job.ResourceVersion, b)
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
