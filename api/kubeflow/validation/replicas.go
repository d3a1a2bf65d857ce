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

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

var (
	// Both keys are required: the v1alpha2 operator dereferences the Worker
	// spec unconditionally and needs a Launcher to run mpirun.
	replicaTypes = []kubeflow.MPIReplicaType{kubeflow.MPIReplicaTypeLauncher, kubeflow.MPIReplicaTypeWorker}

	// An empty restartPolicy is allowed: the field is a plain omitempty
	// string, so "" is how a client leaves it unset.
	restartPolicies = []kubeflow.RestartPolicy{
		kubeflow.RestartPolicyAlways, kubeflow.RestartPolicyOnFailure,
		kubeflow.RestartPolicyNever, kubeflow.RestartPolicyExitCode,
	}
)

func validateReplicaSpecs(specs map[kubeflow.MPIReplicaType]*kubeflow.ReplicaSpec, fldPath *field.Path) field.ErrorList {
	if len(specs) == 0 {
		return field.ErrorList{field.Required(fldPath, "a Launcher and a Worker replica spec are required")}
	}
	var allErrs field.ErrorList
	for _, rt := range replicaTypes {
		if _, ok := specs[rt]; !ok {
			allErrs = append(allErrs, field.Required(fldPath.Key(string(rt)), ""))
		}
	}
	// Map order is random; sort so that clients and tests see a stable list.
	keys := make([]string, 0, len(specs))
	for k := range specs {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		rt := kubeflow.MPIReplicaType(k)
		keyPath := fldPath.Key(k)
		if rt != kubeflow.MPIReplicaTypeLauncher && rt != kubeflow.MPIReplicaTypeWorker {
			allErrs = append(allErrs, field.NotSupported(keyPath, k, replicaTypes))
			continue
		}
		spec := specs[rt]
		if spec == nil {
			allErrs = append(allErrs, field.Required(keyPath, "must not be null"))
			continue
		}
		allErrs = append(allErrs, validateReplicaSpec(rt, spec, keyPath)...)
	}
	return allErrs
}

func validateReplicaSpec(rt kubeflow.MPIReplicaType, spec *kubeflow.ReplicaSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	replicasPath := fldPath.Child("replicas")
	switch rt {
	case kubeflow.MPIReplicaTypeLauncher:
		// The operator runs exactly one launcher Job and never reads this.
		if spec.Replicas != nil && *spec.Replicas != 1 {
			allErrs = append(allErrs, field.Invalid(replicasPath, *spec.Replicas, "must be 1: a job has exactly one launcher"))
		}
	case kubeflow.MPIReplicaTypeWorker:
		if spec.Replicas == nil {
			allErrs = append(allErrs, field.Required(replicasPath, "the number of workers must be set"))
		} else {
			allErrs = append(allErrs, validateMinimum(int64(*spec.Replicas), 1, replicasPath)...)
		}
	}
	if spec.RestartPolicy != "" {
		allErrs = append(allErrs, validateEnum(spec.RestartPolicy, restartPolicies, fldPath.Child("restartPolicy"))...)
	}
	allErrs = append(allErrs, validatePodTemplate(&spec.Template, fldPath.Child("template"))...)
	return allErrs
}

// validateMainContainer requires mainContainer to name a container of the
// Worker template: the launcher's kubexec runs `kubectl exec --container
// <mainContainer>` against every worker pod, so a name missing there makes
// every mpirun fail at start. The launcher template need not have it.
func validateMainContainer(spec *kubeflow.MPIJobSpec, fldPath *field.Path) field.ErrorList {
	if spec.MainContainer == "" {
		return nil
	}
	worker := spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker]
	if worker == nil {
		// Already reported as a missing Worker spec.
		return nil
	}
	for i := range worker.Template.Spec.Containers {
		if worker.Template.Spec.Containers[i].Name == spec.MainContainer {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(fldPath, spec.MainContainer,
		"must name a container of the Worker template (spec.mpiReplicaSpecs[Worker].template.spec.containers)")}
}
