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
// under v1alpha2 storage, v1alpha2's mainContainer under v2beta1 storage) is
// kept by the conversions in the reserved carryover.Annotation, written on
// encode and read back and removed on decode, so the object in memory is
// always whole; the API group's serializer keeps it out of every answer.
package storagecodec

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/versioning"
)

// New returns the storage codec for objects of scheme stored as version,
// encoded by serializer. Objects of any version the scheme knows decode, so
// data written before a change of storage version stays readable.
//
// Decoding does not default: a job written in v1alpha2 must not gain
// v2beta1's defaults just because it is read (the request decoders default
// what clients send).
func New(scheme *runtime.Scheme, serializer runtime.Serializer, version schema.GroupVersion) runtime.Codec {
	return versioning.NewCodec(serializer, serializer, runtime.UnsafeObjectConvertor(scheme), scheme, scheme,
		nil, version, runtime.InternalGroupVersioner, "mpijob-storage-"+version.Version)
}
