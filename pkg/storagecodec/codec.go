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

// Package storagecodec is the codec MPIJobs are stored in etcd with: JSON of
// the storage version, never defaulted on read, and lossless. What the
// storage version cannot express of the hub object (a v2beta1-only field
// under v1alpha2 storage, v1alpha2's mainContainer under v2beta1 storage)
// is kept in the reserved carryover.Annotation, written on encode and
// removed on decode, so the object in memory is always whole and no answer
// ever carries the annotation.
package storagecodec

import (
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/versioning"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
)

// New returns the storage codec for objects of scheme stored as version,
// encoded by serializer. Objects of any version the scheme knows decode, so
// data written before a change of storage version stays readable.
//
// Decoding does not default: a job written in v1alpha2 must not gain
// v2beta1's defaults just because it is read (the request decoders default
// what clients send).
func New(scheme *runtime.Scheme, serializer runtime.Serializer, version schema.GroupVersion) runtime.Codec {
	inner := versioning.NewCodec(serializer, serializer, runtime.UnsafeObjectConvertor(scheme), scheme, scheme,
		nil, version, runtime.InternalGroupVersioner, "mpijob-storage")
	return &codec{inner: inner, version: version.Version}
}

type codec struct {
	inner   runtime.Codec
	version string
}

var _ runtime.Codec = &codec{}

// Encode writes obj in the storage version, with the reserved annotation
// when the version cannot express all of it. obj is not changed: it may be
// an object the watch cache shares.
func (c *codec) Encode(obj runtime.Object, w io.Writer) error {
	job, ok := obj.(*kubeflow.MPIJob)
	if !ok {
		return c.inner.Encode(obj, w)
	}
	preserved := carryover.Take(c.version, job)
	if preserved.IsZero() {
		if _, sent := job.Annotations[carryover.Annotation]; !sent {
			return c.inner.Encode(obj, w)
		}
	}
	annotated := *job
	annotated.Annotations = make(map[string]string, len(job.Annotations)+1)
	for k, v := range job.Annotations {
		annotated.Annotations[k] = v
	}
	delete(annotated.Annotations, carryover.Annotation)
	if !preserved.IsZero() {
		value, err := preserved.Marshal()
		if err != nil {
			return fmt.Errorf("encoding what %s cannot express of %s/%s: %w", c.version, job.Namespace, job.Name, err)
		}
		annotated.Annotations[carryover.Annotation] = value
	}
	if len(annotated.Annotations) == 0 {
		annotated.Annotations = nil
	}
	return c.inner.Encode(&annotated, w)
}

// Decode reads an object of any stored version and restores from the
// reserved annotation what that version could not express.
func (c *codec) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	obj, gvk, err := c.inner.Decode(data, defaults, into)
	if err != nil {
		return obj, gvk, err
	}
	job, ok := obj.(*kubeflow.MPIJob)
	if !ok {
		return obj, gvk, nil
	}
	value, ok := job.Annotations[carryover.Annotation]
	if !ok {
		return obj, gvk, nil
	}
	preserved, err := carryover.Unmarshal(value)
	if err != nil {
		return nil, gvk, fmt.Errorf("decoding %s/%s: %w", job.Namespace, job.Name, err)
	}
	carryover.DropAnnotation(&job.ObjectMeta)
	preserved.Restore(job)
	return obj, gvk, nil
}

func (c *codec) Identifier() runtime.Identifier {
	return runtime.Identifier("mpijob-storage-" + c.version + "-" + string(c.inner.Identifier()))
}
