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

package mpijob

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// AddScaleOpenAPIDefinitions adds the autoscaling/v1 Scale that /scale
// serves to the definitions of the OpenAPI configurations (either may be
// nil). The published spec needs it, and so does server-side apply, which
// types the objects of every route by it.
func AddScaleOpenAPIDefinitions(v2 *common.Config, v3 *common.OpenAPIV3Config) {
	if v2 != nil {
		if v2.GetDefinitions != nil {
			v2.GetDefinitions = withScale(v2.GetDefinitions)
		}
		if v2.GetDefinitionName != nil {
			v2.GetDefinitionName = withoutInternalKinds(v2.GetDefinitionName)
		}
	}
	if v3 == nil {
		return
	}
	if v3.GetDefinitions != nil {
		v3.GetDefinitions = withScale(v3.GetDefinitions)
	}
	if v3.GetDefinitionName != nil {
		v3.GetDefinitionName = withoutInternalKinds(v3.GetDefinitionName)
	}
	// The V3 configuration may hold its definitions already computed, and
	// then reads nothing else.
	if v3.Definitions != nil {
		ref := func(name string) spec.Ref {
			defName := name
			if v3.GetDefinitionName != nil {
				defName, _ = v3.GetDefinitionName(name)
			}
			return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(defName))
		}
		for name, def := range scaleOpenAPIDefinitions(ref) {
			if _, ok := v3.Definitions[name]; !ok {
				v3.Definitions[name] = def
			}
		}
	}
}

// withoutInternalKinds drops the internal version from the kinds a
// definition is published for. The server registers autoscaling/v1 Scale
// as the internal version of its group too, to decode requests into, and
// clients must not see that version offered.
func withoutInternalKinds(name func(string) (string, spec.Extensions)) func(string) (string, spec.Extensions) {
	return func(typeName string) (string, spec.Extensions) {
		defName, ext := name(typeName)
		kinds, ok := ext[gvkExtension].([]interface{})
		if !ok {
			return defName, ext
		}
		kept := make([]interface{}, 0, len(kinds))
		for _, k := range kinds {
			if gvk, ok := k.(map[string]interface{}); ok && gvk["version"] == runtime.APIVersionInternal {
				continue
			}
			kept = append(kept, k)
		}
		out := make(spec.Extensions, len(ext))
		for k, v := range ext {
			out[k] = v
		}
		out[gvkExtension] = kept
		return defName, out
	}
}

const gvkExtension = "x-kubernetes-group-version-kind"

func withScale(defs common.GetOpenAPIDefinitions) common.GetOpenAPIDefinitions {
	return func(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
		out := defs(ref)
		for name, def := range scaleOpenAPIDefinitions(ref) {
			if _, ok := out[name]; !ok {
				out[name] = def
			}
		}
		return out
	}
}

func scaleOpenAPIDefinitions(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
	scale, scaleSpec, scaleStatus := autoscalingv1.Scale{}.OpenAPIModelName(),
		autoscalingv1.ScaleSpec{}.OpenAPIModelName(), autoscalingv1.ScaleStatus{}.OpenAPIModelName()
	objectMeta := metav1.ObjectMeta{}.OpenAPIModelName()
	str := func(doc string) spec.Schema {
		return spec.Schema{SchemaProps: spec.SchemaProps{Description: doc, Type: []string{"string"}}}
	}
	int32Schema := func(doc string) spec.Schema {
		return spec.Schema{SchemaProps: spec.SchemaProps{Description: doc, Type: []string{"integer"}, Format: "int32", Default: 0}}
	}
	object := func(doc string, props map[string]spec.Schema, required ...string) spec.Schema {
		return spec.Schema{SchemaProps: spec.SchemaProps{Description: doc, Type: []string{"object"}, Properties: props, Required: required}}
	}
	refTo := func(doc, name string) spec.Schema {
		return spec.Schema{SchemaProps: spec.SchemaProps{Description: doc, Default: map[string]interface{}{}, Ref: ref(name)}}
	}
	return map[string]common.OpenAPIDefinition{
		scale: {
			Schema: object("Scale is the number of workers of an MPIJob, as its scale subresource reads and writes it.",
				map[string]spec.Schema{
					"apiVersion": str("APIVersion of this representation of the object."),
					"kind":       str("Kind of the object: Scale."),
					"metadata":   refTo("The MPIJob's name, namespace, uid, resourceVersion and creationTimestamp.", objectMeta),
					"spec":       refTo("The desired number of workers.", scaleSpec),
					"status":     refTo("The observed number of workers; read-only.", scaleStatus),
				}),
			Dependencies: []string{objectMeta, scaleSpec, scaleStatus},
		},
		scaleSpec: {
			Schema: object("ScaleSpec is the desired number of workers.", map[string]spec.Schema{
				"replicas": int32Schema("spec.mpiReplicaSpecs[Worker].replicas of the MPIJob."),
			}),
		},
		scaleStatus: {
			Schema: object("ScaleStatus is the observed number of workers.", map[string]spec.Schema{
				"replicas": int32Schema("The Worker replica status's active count."),
				"selector": str("The Worker replica status's selector, or its labelSelector as a string; empty when the operator sets neither."),
			}, "replicas"),
		},
	}
}
