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
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The field labels of the hub: what the registry's GetAttrs offers field
// selectors. Each served version maps its own labels onto these.
const (
	FieldMetadataName       = "metadata.name"
	FieldMetadataNamespace  = "metadata.namespace"
	FieldSpecCleanPodPolicy = "spec.cleanPodPolicy"
	FieldSpecSlotsPerWorker = "spec.slotsPerWorker"
	FieldSpecSuspend        = "spec.runPolicy.suspend"
	FieldStatusState        = "status.state"
)

// SelectableFields are the hub's field labels.
var SelectableFields = []string{
	FieldMetadataName,
	FieldMetadataNamespace,
	FieldSpecCleanPodPolicy,
	FieldSpecSlotsPerWorker,
	FieldSpecSuspend,
	FieldStatusState,
}

// FieldLabelConversion returns a scheme field-label conversion that accepts
// the labels of one version, given as a map from the version's label to the
// hub's, and refuses every other label naming those it supports.
func FieldLabelConversion(labels map[string]string) func(label, value string) (string, string, error) {
	supported := make([]string, 0, len(labels))
	for l := range labels {
		supported = append(supported, l)
	}
	sort.Strings(supported)
	return func(label, value string) (string, string, error) {
		if hub, ok := labels[label]; ok {
			return hub, value, nil
		}
		return "", "", fmt.Errorf("field label not supported: %s (supported: %s)", label, strings.Join(supported, ", "))
	}
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

// CleanPodPolicyField is the top-level copy: the one v0.3.0 acts on, and the
// one v2beta1 shows as runPolicy.cleanPodPolicy.
func CleanPodPolicyField(spec *MPIJobSpec) string {
	if spec.CleanPodPolicy == nil {
		return ""
	}
	return string(*spec.CleanPodPolicy)
}

// SuspendField is "true", "false", or "" when unset.
func SuspendField(spec *MPIJobSpec) string {
	if spec.RunPolicy == nil || spec.RunPolicy.Suspend == nil {
		return ""
	}
	return strconv.FormatBool(*spec.RunPolicy.Suspend)
}
