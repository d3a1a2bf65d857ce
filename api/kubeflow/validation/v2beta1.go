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
	"fmt"
	"strings"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// A job written in kubeflow.org/v2beta1 must pass what mpi-operator v0.7.0
// checks before it reconciles a job (its pkg/apis/kubeflow/validation),
// judged on a copy defaulted as that operator defaults it in memory, plus
// the rules of the v0.7.0 CRD schema that a typed server can see
// (v2beta1schema.go). The CRD enforces none of the operator's rules, so a job
// the CRD stores and the operator refuses would only fail when reconciled;
// refusing it here names the field at once. The paths and values are the
// ones the v2beta1 client wrote.

var (
	v2beta1CleanPodPolicies = []v2beta1.CleanPodPolicy{
		v2beta1.CleanPodPolicyAll, v2beta1.CleanPodPolicyNone, v2beta1.CleanPodPolicyRunning,
	}
	v2beta1MPIImplementations = []v2beta1.MPIImplementation{
		v2beta1.MPIImplementationIntel, v2beta1.MPIImplementationMPICH, v2beta1.MPIImplementationOpenMPI,
	}
	// The launcher runs as a batch/v1 Job, whose pods allow only these two.
	v2beta1RestartPolicies = []v2beta1.RestartPolicy{v2beta1.RestartPolicyNever, v2beta1.RestartPolicyOnFailure}
	v2beta1ManagedBy       = []string{v2beta1.KubeflowJobController, v2beta1.MultiKueueController}
)

// ValidateV2beta1MPIJob validates a job created in v2beta1.
func ValidateV2beta1MPIJob(job *v2beta1.MPIJob) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&job.ObjectMeta, true, ValidateName, field.NewPath("metadata"))
	return append(allErrs, v2beta1Rules(job)...)
}

// ValidateV2beta1MPIJobUpdate validates an update written in v2beta1, both
// objects seen in v2beta1. It ratchets (ratchet.go): a fault the stored job
// already has does not block the update, so a job stored under other rules
// (created in v1alpha2, or before a rule existed) can still be relabelled or
// written back as read.
func ValidateV2beta1MPIJobUpdate(newJob, oldJob *v2beta1.MPIJob) field.ErrorList {
	metaPath := field.NewPath("metadata")
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newJob.ObjectMeta, &oldJob.ObjectMeta, metaPath)
	allErrs = append(allErrs, apimachineryvalidation.ValidateFinalizers(newJob.Finalizers, metaPath.Child("finalizers"))...)
	allErrs = append(allErrs, Ratchet(v2beta1Rules(newJob), v2beta1Rules(oldJob))...)
	allErrs = append(allErrs, validateManagedByUpdate(newJob.Spec.RunPolicy, oldJob.Spec.RunPolicy,
		field.NewPath("spec", "runPolicy", "managedBy"))...)
	return allErrs
}

// v2beta1Rules are the rules on a job's name and spec, create and update
// alike.
func v2beta1Rules(job *v2beta1.MPIJob) field.ErrorList {
	specPath := field.NewPath("spec")
	defaulted := job.Spec.DeepCopy()
	setOperatorDefaults(defaulted)
	allErrs := validateWorkerHostname(job.Name, defaulted)
	allErrs = append(allErrs, validateV2beta1Spec(defaulted, &job.Spec, specPath)...)
	allErrs = append(allErrs, validateV2beta1Schema(&job.Spec, specPath)...)
	return allErrs
}

// setOperatorDefaults applies the defaults v0.7.0 gives a job in memory
// before validating it (its v2beta1 SetDefaults_MPIJob), only some of which
// the CRD stores. The server validates the result and stores the job as
// written.
func setOperatorDefaults(spec *v2beta1.MPIJobSpec) {
	if spec.RunPolicy == nil {
		spec.RunPolicy = &v2beta1.RunPolicy{}
	}
	if spec.RunPolicy.CleanPodPolicy == nil {
		none := v2beta1.CleanPodPolicyNone
		spec.RunPolicy.CleanPodPolicy = &none
	}
	if spec.SlotsPerWorker == nil {
		one := int32(1)
		spec.SlotsPerWorker = &one
	}
	if spec.MPIImplementation == "" {
		spec.MPIImplementation = v2beta1.MPIImplementationOpenMPI
	}
	replicaDefaults := map[v2beta1.MPIReplicaType]struct {
		replicas int32
		policy   v2beta1.RestartPolicy
	}{
		v2beta1.MPIReplicaTypeLauncher: {1, v2beta1.RestartPolicyOnFailure},
		v2beta1.MPIReplicaTypeWorker:   {0, v2beta1.RestartPolicyNever},
	}
	for rt, d := range replicaDefaults {
		rs := spec.MPIReplicaSpecs[rt]
		if rs == nil {
			continue
		}
		if rs.Replicas == nil {
			n := d.replicas
			rs.Replicas = &n
		}
		if rs.RestartPolicy == "" {
			rs.RestartPolicy = d.policy
		}
	}
}

// validateWorkerHostname checks that the host name of the last worker pod,
// which the operator also gives a Service and writes into the hostfile, is
// a DNS-1035 label.
func validateWorkerHostname(name string, spec *v2beta1.MPIJobSpec) field.ErrorList {
	workers := int32(1)
	if w := spec.MPIReplicaSpecs[v2beta1.MPIReplicaTypeWorker]; w != nil && w.Replicas != nil && *w.Replicas > 0 {
		workers = *w.Replicas
	}
	host := fmt.Sprintf("%s-worker-%d", name, workers-1)
	if msgs := utilvalidation.IsDNS1035Label(host); len(msgs) > 0 {
		return field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), name,
			fmt.Sprintf("the host name of the last worker pod, %q, must be a DNS-1035 label: %s", host, strings.Join(msgs, ", ")))}
	}
	return nil
}

// validateV2beta1Spec checks the defaulted spec; written is the spec as the
// client sent it, to tell an unset value from its default.
func validateV2beta1Spec(spec, written *v2beta1.MPIJobSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateV2beta1ReplicaSpecs(spec.MPIReplicaSpecs, written.MPIReplicaSpecs, fldPath.Child("mpiReplicaSpecs"))
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.SlotsPerWorker), fldPath.Child("slotsPerWorker"))...)
	allErrs = append(allErrs, validateV2beta1RunPolicy(spec.RunPolicy, fldPath.Child("runPolicy"))...)
	allErrs = append(allErrs, validateEnum(spec.MPIImplementation, v2beta1MPIImplementations, fldPath.Child("mpiImplementation"))...)
	return allErrs
}

func validateV2beta1RunPolicy(policy *v2beta1.RunPolicy, fldPath *field.Path) field.ErrorList {
	allErrs := validateEnum(*policy.CleanPodPolicy, v2beta1CleanPodPolicies, fldPath.Child("cleanPodPolicy"))
	if policy.TTLSecondsAfterFinished != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*policy.TTLSecondsAfterFinished), fldPath.Child("ttlSecondsAfterFinished"))...)
	}
	if policy.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*policy.ActiveDeadlineSeconds, fldPath.Child("activeDeadlineSeconds"))...)
	}
	if policy.BackoffLimit != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*policy.BackoffLimit), fldPath.Child("backoffLimit"))...)
	}
	if policy.ManagedBy != nil {
		allErrs = append(allErrs, validateEnum(*policy.ManagedBy, v2beta1ManagedBy, fldPath.Child("managedBy"))...)
	}
	return allErrs
}

// validateManagedByUpdate keeps managedBy as it was created. The v0.7.0 type
// documents the field as immutable, but neither its CRD (no CEL rule) nor its
// operator enforces that; a job handed to another controller half-way would
// be reconciled by two, or by none.
func validateManagedByUpdate(newPolicy, oldPolicy *v2beta1.RunPolicy, fldPath *field.Path) field.ErrorList {
	newValue, newSet := managedBy(newPolicy)
	oldValue, oldSet := managedBy(oldPolicy)
	if newValue == oldValue && newSet == oldSet {
		return nil
	}
	var bad any // nil, shown as null, when the update unsets it
	if newSet {
		bad = newValue
	}
	return field.ErrorList{field.Invalid(fldPath, bad, apimachineryvalidation.FieldImmutableErrorMsg)}
}

func managedBy(policy *v2beta1.RunPolicy) (string, bool) {
	if policy == nil || policy.ManagedBy == nil {
		return "", false
	}
	return *policy.ManagedBy, true
}

func validateV2beta1ReplicaSpecs(specs, written map[v2beta1.MPIReplicaType]*v2beta1.ReplicaSpec, fldPath *field.Path) field.ErrorList {
	if specs == nil {
		return field.ErrorList{field.Required(fldPath, "a Launcher replica spec is required")}
	}
	var allErrs field.ErrorList
	launcherPath := fldPath.Key(string(v2beta1.MPIReplicaTypeLauncher))
	if l := specs[v2beta1.MPIReplicaTypeLauncher]; l == nil {
		allErrs = append(allErrs, field.Required(launcherPath, ""))
	} else {
		if *l.Replicas != 1 {
			allErrs = append(allErrs, field.Invalid(launcherPath.Child("replicas"), *l.Replicas, "must be 1: a job has exactly one launcher"))
		}
		allErrs = append(allErrs, validateV2beta1ReplicaSpec(l, launcherPath)...)
	}
	// Without a Worker spec the launcher runs alone (or is the only worker).
	workerPath := fldPath.Key(string(v2beta1.MPIReplicaTypeWorker))
	if w := specs[v2beta1.MPIReplicaTypeWorker]; w != nil {
		replicasPath := workerPath.Child("replicas")
		switch {
		case written[v2beta1.MPIReplicaTypeWorker].Replicas == nil:
			allErrs = append(allErrs, field.Required(replicasPath, "must be at least 1: the operator takes an unset count as 0"))
		case *w.Replicas < 1:
			allErrs = append(allErrs, field.Invalid(replicasPath, *w.Replicas, "must be greater than or equal to 1"))
		}
		allErrs = append(allErrs, validateV2beta1ReplicaSpec(w, workerPath)...)
	}
	return allErrs
}

func validateV2beta1ReplicaSpec(spec *v2beta1.ReplicaSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateEnum(spec.RestartPolicy, v2beta1RestartPolicies, fldPath.Child("restartPolicy"))
	if len(spec.Template.Spec.Containers) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("template", "spec", "containers"), "at least one container is required"))
	}
	return allErrs
}
