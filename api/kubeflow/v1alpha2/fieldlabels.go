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
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// fieldLabels are the field selectors of v1alpha2, each the hub's label.
var fieldLabels = map[string]string{
	kubeflow.FieldMetadataName:       kubeflow.FieldMetadataName,
	kubeflow.FieldMetadataNamespace:  kubeflow.FieldMetadataNamespace,
	kubeflow.FieldSpecCleanPodPolicy: kubeflow.FieldSpecCleanPodPolicy,
	kubeflow.FieldSpecSlotsPerWorker: kubeflow.FieldSpecSlotsPerWorker,
	kubeflow.FieldStatusState:        kubeflow.FieldStatusState,
}

func addFieldLabelConversions(scheme *runtime.Scheme) error {
	return scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind("MPIJob"),
		kubeflow.FieldLabelConversion(fieldLabels))
}
