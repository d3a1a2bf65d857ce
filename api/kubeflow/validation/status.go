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

package validation

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

var (
	// The types either operator writes: v0.7.0 reports Suspended, and
	// refusing it here would keep a v1alpha2 client from writing back the
	// status of a job v0.7.0 suspended.
	conditionTypes = []kubeflow.JobConditionType{
		kubeflow.JobCreated, kubeflow.JobRunning, kubeflow.JobRestarting, kubeflow.JobSucceeded, kubeflow.JobSuspended, kubeflow.JobFailed,
	}
	conditionStatuses  = []corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown}
	statusReplicaTypes = []kubeflow.ReplicaType{
		kubeflow.ReplicaType(kubeflow.MPIReplicaTypeLauncher), kubeflow.ReplicaType(kubeflow.MPIReplicaTypeWorker),
	}
)

// validateJobStatus checks what the operator reports. The condition
// vocabulary matters beyond tidiness: status.state, a selectable field, is
// derived from it.
func validateJobStatus(status *kubeflow.JobStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	condPath := fldPath.Child("conditions")
	for i := range status.Conditions {
		c := &status.Conditions[i]
		idxPath := condPath.Index(i)
		if c.Type == "" {
			allErrs = append(allErrs, field.Required(idxPath.Child("type"), ""))
		} else {
			allErrs = append(allErrs, validateEnum(c.Type, conditionTypes, idxPath.Child("type"))...)
		}
		if c.Status == "" {
			allErrs = append(allErrs, field.Required(idxPath.Child("status"), ""))
		} else {
			allErrs = append(allErrs, validateEnum(c.Status, conditionStatuses, idxPath.Child("status"))...)
		}
	}

	rsPath := fldPath.Child("replicaStatuses")
	keys := make([]string, 0, len(status.ReplicaStatuses))
	for k := range status.ReplicaStatuses {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		keyPath := rsPath.Key(k)
		if errs := validateEnum(kubeflow.ReplicaType(k), statusReplicaTypes, keyPath); len(errs) > 0 {
			allErrs = append(allErrs, errs...)
			continue
		}
		// A null entry says nothing and harms nothing; the operator resets
		// entries to {} on every sync anyway.
		rs := status.ReplicaStatuses[kubeflow.ReplicaType(k)]
		if rs == nil {
			continue
		}
		allErrs = append(allErrs, validateMinimum(int64(rs.Active), 0, keyPath.Child("active"))...)
		allErrs = append(allErrs, validateMinimum(int64(rs.Succeeded), 0, keyPath.Child("succeeded"))...)
		allErrs = append(allErrs, validateMinimum(int64(rs.Failed), 0, keyPath.Child("failed"))...)
	}
	return allErrs
}
