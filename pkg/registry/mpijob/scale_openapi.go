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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// PublishServedScaleKinds makes the OpenAPI configurations (either may be
// nil) publish autoscaling/v1 Scale, whose definition is generated with the
// group's own, for its served version only.
func PublishServedScaleKinds(v2 *common.Config, v3 *common.OpenAPIV3Config) {
	if v2 != nil && v2.GetDefinitionName != nil {
		v2.GetDefinitionName = withoutInternalKinds(v2.GetDefinitionName)
	}
	if v3 != nil && v3.GetDefinitionName != nil {
		v3.GetDefinitionName = withoutInternalKinds(v3.GetDefinitionName)
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
