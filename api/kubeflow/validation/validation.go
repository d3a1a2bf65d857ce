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

// Package validation holds the rules an MPIJob must satisfy before it is
// stored. They are stricter than the old CRD on purpose: the v1alpha2
// operator crashes on a job without a Worker replica count, or silently
// misbehaves on an unknown enum value, so the server refuses such input with a
// 422 naming the field instead of letting it reach the operator.
package validation

import (
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// ValidateName checks an MPIJob name. The operator derives the names of the
// launcher Job, the worker StatefulSet and their pods from it, so it must be
// at least a DNS-1123 subdomain, like a pod name.
var ValidateName = apimachineryvalidation.NameIsDNSSubdomain

// ValidateMPIJob validates a new MPIJob.
func ValidateMPIJob(job *kubeflow.MPIJob) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&job.ObjectMeta, true, ValidateName, field.NewPath("metadata"))
	allErrs = append(allErrs, validateMPIJobSpec(&job.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateMPIJobUpdate validates an update of an MPIJob. No spec field is
// immutable (the operator's users scale workers by editing the job), so the
// spec rules of a new object apply to the updated spec as a whole.
//
// An update that leaves the spec semantically unchanged (a label, a
// finalizer) is not refused for a spec stored under earlier, laxer rules:
// such a job could otherwise never have its finalizers removed. The server
// goes further and ratchets each error (ValidateMPIJobRatchetingUpdate).
func ValidateMPIJobUpdate(newJob, oldJob *kubeflow.MPIJob) field.ErrorList {
	metaPath := field.NewPath("metadata")
	// The name is immutable, so it was validated on create; the update check
	// covers labels, annotations, owner references and the immutable fields.
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newJob.ObjectMeta, &oldJob.ObjectMeta, metaPath)
	allErrs = append(allErrs, apimachineryvalidation.ValidateFinalizers(newJob.Finalizers, metaPath.Child("finalizers"))...)
	if !apiequality.Semantic.DeepEqual(newJob.Spec, oldJob.Spec) {
		allErrs = append(allErrs, validateMPIJobSpec(&newJob.Spec, field.NewPath("spec"))...)
	}
	return allErrs
}

// ValidateMPIJobRatchetingUpdate is ValidateMPIJobUpdate without the spec
// errors the stored job already has (Ratchet), so that a job stored under
// other rules, such as one written in v2beta1 without a Worker, can be
// written back as read even when other spec fields change.
func ValidateMPIJobRatchetingUpdate(newJob, oldJob *kubeflow.MPIJob) field.ErrorList {
	return Ratchet(ValidateMPIJobUpdate(newJob, oldJob), validateMPIJobSpec(&oldJob.Spec, field.NewPath("spec")))
}

// ValidateMPIJobRatchetingStatusUpdate is ValidateMPIJobStatusUpdate without
// the status errors the stored job already has, such as a condition type a
// v2beta1 writer added, so the v1alpha2 operator can still report progress.
func ValidateMPIJobRatchetingStatusUpdate(newJob, oldJob *kubeflow.MPIJob) field.ErrorList {
	return Ratchet(ValidateMPIJobStatusUpdate(newJob, oldJob), validateJobStatus(&oldJob.Status, field.NewPath("status")))
}

// ValidateMPIJobStatusUpdate validates a write through the status
// subresource. The spec is not validated: the status strategy keeps the
// stored spec, and the operator must be able to report on any stored job.
func ValidateMPIJobStatusUpdate(newJob, oldJob *kubeflow.MPIJob) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newJob.ObjectMeta, &oldJob.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateJobStatus(&newJob.Status, field.NewPath("status"))...)
	return allErrs
}

var (
	cleanPodPolicies = []kubeflow.CleanPodPolicy{
		kubeflow.CleanPodPolicyAll, kubeflow.CleanPodPolicyRunning, kubeflow.CleanPodPolicyNone,
	}
	mpiDistributions = []kubeflow.MPIDistributionType{
		kubeflow.MPIDistributionTypeOpenMPI, kubeflow.MPIDistributionTypeIntelMPI, kubeflow.MPIDistributionTypeMPICH,
	}
)

func validateMPIJobSpec(spec *kubeflow.MPIJobSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.SlotsPerWorker != nil {
		allErrs = append(allErrs, validateMinimum(int64(*spec.SlotsPerWorker), 1, fldPath.Child("slotsPerWorker"))...)
	}
	if spec.BackoffLimit != nil {
		allErrs = append(allErrs, validateMinimum(int64(*spec.BackoffLimit), 0, fldPath.Child("backoffLimit"))...)
	}
	if spec.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, validateActiveDeadline(*spec.ActiveDeadlineSeconds, fldPath.Child("activeDeadlineSeconds"))...)
	}
	if spec.CleanPodPolicy != nil {
		allErrs = append(allErrs, validateEnum(*spec.CleanPodPolicy, cleanPodPolicies, fldPath.Child("cleanPodPolicy"))...)
	}
	if spec.MPIDistribution != nil {
		allErrs = append(allErrs, validateEnum(*spec.MPIDistribution, mpiDistributions, fldPath.Child("mpiDistribution"))...)
	}
	if spec.RunPolicy != nil {
		allErrs = append(allErrs, validateRunPolicy(spec.RunPolicy, fldPath.Child("runPolicy"))...)
	}
	allErrs = append(allErrs, validateReplicaSpecs(spec.MPIReplicaSpecs, fldPath.Child("mpiReplicaSpecs"))...)
	allErrs = append(allErrs, validateMainContainer(spec, fldPath.Child("mainContainer"))...)
	return allErrs
}

func validateRunPolicy(policy *kubeflow.RunPolicy, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if policy.CleanPodPolicy != nil {
		allErrs = append(allErrs, validateEnum(*policy.CleanPodPolicy, cleanPodPolicies, fldPath.Child("cleanPodPolicy"))...)
	}
	if policy.TTLSecondsAfterFinished != nil {
		allErrs = append(allErrs, validateMinimum(int64(*policy.TTLSecondsAfterFinished), 0, fldPath.Child("ttlSecondsAfterFinished"))...)
	}
	if policy.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, validateActiveDeadline(*policy.ActiveDeadlineSeconds, fldPath.Child("activeDeadlineSeconds"))...)
	}
	if policy.BackoffLimit != nil {
		allErrs = append(allErrs, validateMinimum(int64(*policy.BackoffLimit), 0, fldPath.Child("backoffLimit"))...)
	}
	if sp := policy.SchedulingPolicy; sp != nil {
		spPath := fldPath.Child("schedulingPolicy")
		if sp.MinAvailable != nil {
			allErrs = append(allErrs, validateMinimum(int64(*sp.MinAvailable), 0, spPath.Child("minAvailable"))...)
		}
		allErrs = append(allErrs, validateResourceList(sp.MinResources, spPath.Child("minResources"))...)
	}
	return allErrs
}

// validateActiveDeadline requires a positive deadline. batch/v1 Job accepts
// 0, but the operator copies this value to the launcher Job, where 0 fails
// the job the moment it starts; refusing it here is kinder.
func validateActiveDeadline(value int64, fldPath *field.Path) field.ErrorList {
	if value <= 0 {
		return field.ErrorList{field.Invalid(fldPath, value, "must be greater than 0")}
	}
	return nil
}

func validateMinimum(value, minimum int64, fldPath *field.Path) field.ErrorList {
	if value < minimum {
		return field.ErrorList{field.Invalid(fldPath, value, fmt.Sprintf("must be greater than or equal to %d", minimum))}
	}
	return nil
}

// validateEnum checks a value against its allowed set. An explicitly set
// empty string is not a value: the Go constant "" means "undefined" and the
// operator treats it as neither of the documented values.
func validateEnum[T ~string](value T, allowed []T, fldPath *field.Path) field.ErrorList {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fldPath, value, allowed)}
}
