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
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// ValidateV2beta1MPIJobStatusUpdate validates a status write in v2beta1 by
// the v0.7.0 CRD's status schema, which is all the v0.7.0 operator was
// written against: a condition needs a type and a status, the status is
// True, False or Unknown, and conditions are a list-type map keyed by type.
// Unlike v1alpha2, any type is accepted, as the CRD does: MultiKueue copies a
// worker cluster's status verbatim, and refusing a type the CRD stores there
// would stall that copy. Faults the stored status already has are ratcheted,
// so a duplicate type is refused only where the write adds it.
func ValidateV2beta1MPIJobStatusUpdate(newJob, oldJob *v2beta1.MPIJob) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newJob.ObjectMeta, &oldJob.ObjectMeta, field.NewPath("metadata"))
	statusPath := field.NewPath("status")
	return append(allErrs, Ratchet(validateV2beta1Status(&newJob.Status, statusPath), validateV2beta1Status(&oldJob.Status, statusPath))...)
}

func validateV2beta1Status(status *v2beta1.JobStatus, fldPath *field.Path) field.ErrorList {
	condPath := fldPath.Child("conditions")
	allErrs := listMap(status.Conditions, condPath, func(c *v2beta1.JobCondition) map[string]any {
		return map[string]any{"type": string(c.Type)}
	}, "type")
	for i := range status.Conditions {
		statusPath := condPath.Index(i).Child("status")
		if s := status.Conditions[i].Status; s == "" {
			allErrs = append(allErrs, field.Required(statusPath, ""))
		} else {
			allErrs = append(allErrs, validateEnum(s, conditionStatuses, statusPath)...)
		}
	}
	return allErrs
}
