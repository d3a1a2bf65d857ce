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
	"k8s.io/apimachinery/pkg/runtime"
)

// NegotiatedSerializer serves MPIJob lists in JSON and protobuf from the
// cache and everything else as the wrapped serializer does. Pretty JSON,
// YAML and watch streams are left alone: watch events are already encoded
// once per event by the watch cache, not once per watcher.
//
// Its encoders take hub MPIJob lists as they are (hublist.go): scheme
// converts only the items the cache lacks.
func NegotiatedSerializer(inner runtime.NegotiatedSerializer, cache *Cache, scheme *runtime.Scheme) runtime.NegotiatedSerializer {
	return negotiated{NegotiatedSerializer: inner, cache: cache, scheme: scheme}
}

type negotiated struct {
	runtime.NegotiatedSerializer
	cache  *Cache
	scheme *runtime.Scheme
}

func (n negotiated) EncoderForVersion(serializer runtime.Encoder, gv runtime.GroupVersioner) runtime.Encoder {
	return hubListEncoder{codec: n.NegotiatedSerializer.EncoderForVersion(serializer, gv), serializer: serializer, target: gv, scheme: n.scheme}
}

func (n negotiated) SupportedMediaTypes() []runtime.SerializerInfo {
	infos := append([]runtime.SerializerInfo(nil), n.NegotiatedSerializer.SupportedMediaTypes()...)
	for i := range infos {
		switch infos[i].MediaType {
		case runtime.ContentTypeJSON:
			infos[i].Serializer = &jsonSerializer{Serializer: infos[i].Serializer, cache: n.cache}
		case runtime.ContentTypeProtobuf:
			infos[i].Serializer = &protobufSerializer{Serializer: infos[i].Serializer, cache: n.cache}
		}
	}
	return infos
}
