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

package kubeflow

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The field selectors an MPIJob list or watch accepts. The storage side
// (GetAttrs) and the scheme side (field-label conversion) both read this
// list, so the two cannot drift apart.
const (
	FieldMetadataName       = "metadata.name"
	FieldMetadataNamespace  = "metadata.namespace"
	FieldSpecCleanPodPolicy = "spec.cleanPodPolicy"
	FieldSpecSlotsPerWorker = "spec.slotsPerWorker"
	FieldStatusState        = "status.state"
)

// SelectableFields lists every supported field selector, in the order error
// messages name them.
var SelectableFields = []string{
	FieldMetadataName,
	FieldMetadataNamespace,
	FieldSpecCleanPodPolicy,
	FieldSpecSlotsPerWorker,
	FieldStatusState,
}

// IsSelectableField tells whether label may appear in a field selector.
func IsSelectableField(label string) bool {
	for _, f := range SelectableFields {
		if f == label {
			return true
		}
	}
	return false
}

// UnsupportedFieldMessage is the text of the 400 a selector on any other
// field gets.
func UnsupportedFieldMessage(label string) string {
	return "field label not supported: " + label + " (supported: " + strings.Join(SelectableFields, ", ") + ")"
}

// State is the job's current state as the operator records it: the type of
// the last condition whose status is True (the operator appends, so the last
// is the newest), or "" when there is none.
func State(status *JobStatus) JobConditionType {
	for i := len(status.Conditions) - 1; i >= 0; i-- {
		if status.Conditions[i].Status == corev1.ConditionTrue {
			return status.Conditions[i].Type
		}
	}
	return ""
}

// SlotsPerWorkerField is spec.slotsPerWorker as a selector sees it: the
// stored value, or "" when unset (no default is applied).
func SlotsPerWorkerField(spec *MPIJobSpec) string {
	if spec.SlotsPerWorker == nil {
		return ""
	}
	return strconv.FormatInt(int64(*spec.SlotsPerWorker), 10)
}

// CleanPodPolicyField is spec.cleanPodPolicy as a selector sees it.
func CleanPodPolicyField(spec *MPIJobSpec) string {
	if spec.CleanPodPolicy == nil {
		return ""
	}
	return string(*spec.CleanPodPolicy)
}
