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

// Package fuzzer fills MPIJobs, of the hub and of both served versions,
// with random values a real client or operator could send.
//
// The generic randfill library would put arbitrary strings into enums and
// replica-type keys, and would make nil and empty lists, maps and policies
// rare. These funcs keep enums, keys and the condition vocabulary within each
// version's documented values (quantities come sane from the meta fuzzer)
// and pick absent, empty and populated shapes equally often, because those
// are what the two versions disagree on; a round-trip failure then points at
// a real serialization, conversion or carry-over bug.
package fuzzer

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// Funcs returns the fuzzer funcs of the kubeflow.org group, for the hub
// types and the wire types of v1alpha2 and v2beta1.
func Funcs(codecs runtimeserializer.CodecFactory) []interface{} {
	funcs := []interface{}{
		// Condition statuses: the only corev1 enum our types hold directly.
		oneOf(corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown),
	}
	funcs = append(funcs, hubFuncs()...)
	funcs = append(funcs, v1alpha2Funcs()...)
	return append(funcs, v2beta1Funcs()...)
}

// managedBy are the controllers v2beta1 documents for runPolicy.managedBy.
var managedBy = []string{v2beta1.KubeflowJobController, v2beta1.MultiKueueController}

// oneOf returns a fill func that picks one of values for every T.
func oneOf[T ~string](values ...T) func(*T, randfill.Continue) {
	return func(v *T, c randfill.Continue) {
		*v = values[c.Intn(len(values))]
	}
}

// filled returns a new T filled with the custom funcs.
func filled[T any](c randfill.Continue) *T {
	v := new(T)
	c.Fill(v)
	return v
}

// maybeNil makes *p nil one time in three. randfill hands a pointer field
// whose type has a custom func to that func, which never leaves it nil.
func maybeNil[T any](c randfill.Continue, p **T) {
	if c.Intn(3) == 0 {
		*p = nil
	}
}

// someString is "" one time in three: an omitempty string a client leaves
// out is as common as one it sets.
func someString(c randfill.Continue) string {
	if c.Intn(3) == 0 {
		return ""
	}
	return c.String(0)
}

// listShape makes s nil, empty or one to three filled items.
func listShape[T any](c randfill.Continue, s *[]T) {
	switch c.Intn(3) {
	case 0:
		*s = nil
	case 1:
		*s = []T{}
	default:
		*s = make([]T, 1+c.Intn(3))
		for i := range *s {
			c.Fill(&(*s)[i])
		}
	}
}

// mapShape makes m nil, empty or holding some of keys, a quarter of them
// with a null value (JSON allows "Launcher": null).
func mapShape[K comparable, V any](c randfill.Continue, m *map[K]*V, keys ...K) {
	switch c.Intn(3) {
	case 0:
		*m = nil
	case 1:
		*m = map[K]*V{}
	default:
		*m = map[K]*V{}
		for len(*m) == 0 {
			for _, k := range keys {
				switch c.Intn(4) {
				case 0:
				case 1:
					(*m)[k] = nil
				default:
					(*m)[k] = filled[V](c)
				}
			}
		}
	}
}

// resourcesShape makes a resource list nil, empty or populated.
func resourcesShape(c randfill.Continue, l *corev1.ResourceList) {
	*l = nil
	switch c.Intn(3) {
	case 1:
		*l = corev1.ResourceList{}
	case 2:
		*l = corev1.ResourceList{}
		for i := 1 + c.Intn(2); i > 0; i-- {
			(*l)[corev1.ResourceName(c.String(0))] = *filled[resource.Quantity](c)
		}
	}
}

// maybeReservedAnnotation sends, one time in six, a copy of the reserved
// annotation as a client could: random text, an empty value or a
// well-formed value that claims fields the object does not hold.
func maybeReservedAnnotation(meta *metav1.ObjectMeta, c randfill.Continue) {
	if c.Intn(6) != 0 {
		return
	}
	var value string
	switch c.Intn(3) {
	case 0:
		value = c.String(0)
	case 1:
		value = ""
	default:
		b, err := json.Marshal(filled[carryover.Preserved](c))
		if err != nil {
			panic(err)
		}
		value = string(b)
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[carryover.Annotation] = value
}
