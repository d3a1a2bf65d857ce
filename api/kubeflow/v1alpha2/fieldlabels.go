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

package v1alpha2

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// addFieldLabelConversions declares the selectable fields on the scheme side:
// the request handler converts a field selector through it before the
// storage sees it, so an unknown field is a 400 there.
func addFieldLabelConversions(scheme *runtime.Scheme) error {
	return scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind("MPIJob"),
		func(label, value string) (string, string, error) {
			if kubeflow.IsSelectableField(label) {
				return label, value, nil
			}
			return "", "", fmt.Errorf("%s", kubeflow.UnsupportedFieldMessage(label))
		})
}
