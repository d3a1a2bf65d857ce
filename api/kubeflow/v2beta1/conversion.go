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

package v2beta1

import (
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
)

// The hub is shaped like v1alpha2, where cleanPodPolicy, backoffLimit and
// activeDeadlineSeconds exist twice: at the top of the spec and in
// runPolicy. v2beta1 has one copy of each, in runPolicy, and shows the value
// the v1alpha2 operator (mpi-operator v0.3.0) acts on, so that both
// generations of operator run a job the same way:
//   - cleanPodPolicy is the top-level copy, the only one v0.3.0 reads;
//   - backoffLimit and activeDeadlineSeconds are runPolicy's copy when set,
//     else the top-level one (v0.3.0 lets runPolicy win).
// A v2beta1 body converts to the hub with its cleanPodPolicy at the top and
// the other two in runPolicy; package carryover then puts each value back
// into the copy it was read from.

func Convert_kubeflow_MPIJobSpec_To_v2beta1_MPIJobSpec(in *kubeflow.MPIJobSpec, out *MPIJobSpec, s conversion.Scope) error {
	if err := autoConvert_kubeflow_MPIJobSpec_To_v2beta1_MPIJobSpec(in, out, s); err != nil {
		return err
	}
	out.MPIImplementation = mpiImplementationFromHub(in.MPIDistribution)
	out.RunPolicy = nil
	if in.RunPolicy == nil && in.CleanPodPolicy == nil && in.BackoffLimit == nil && in.ActiveDeadlineSeconds == nil {
		return nil
	}
	policy := &RunPolicy{}
	if in.RunPolicy != nil {
		if err := Convert_kubeflow_RunPolicy_To_v2beta1_RunPolicy(in.RunPolicy, policy, s); err != nil {
			return err
		}
	}
	policy.CleanPodPolicy = (*CleanPodPolicy)(in.CleanPodPolicy)
	if policy.BackoffLimit == nil {
		policy.BackoffLimit = in.BackoffLimit
	}
	if policy.ActiveDeadlineSeconds == nil {
		policy.ActiveDeadlineSeconds = in.ActiveDeadlineSeconds
	}
	out.RunPolicy = policy
	return nil
}

func Convert_v2beta1_MPIJobSpec_To_kubeflow_MPIJobSpec(in *MPIJobSpec, out *kubeflow.MPIJobSpec, s conversion.Scope) error {
	if err := autoConvert_v2beta1_MPIJobSpec_To_kubeflow_MPIJobSpec(in, out, s); err != nil {
		return err
	}
	out.MPIDistribution = mpiImplementationToHub(in.MPIImplementation)
	out.RunPolicy, out.CleanPodPolicy = nil, nil
	out.BackoffLimit, out.ActiveDeadlineSeconds = nil, nil
	if in.RunPolicy == nil {
		return nil
	}
	// A fresh struct: the generated conversion may share memory with in.
	policy := &kubeflow.RunPolicy{}
	if err := Convert_v2beta1_RunPolicy_To_kubeflow_RunPolicy(in.RunPolicy, policy, s); err != nil {
		return err
	}
	out.CleanPodPolicy, policy.CleanPodPolicy = policy.CleanPodPolicy, nil
	out.RunPolicy = policy
	return nil
}

// The two versions name one implementation differently: v1alpha2 IntelMPI,
// v2beta1 Intel. The mapping swaps the two names and keeps every other string
// as it is, so it is a bijection: a v2beta1 client that sends v1alpha2's
// "IntelMPI" reaches validation as "IntelMPI" again, and is refused, instead
// of being taken for Intel.
func mpiImplementationFromHub(in *kubeflow.MPIDistributionType) MPIImplementation {
	if in == nil {
		return ""
	}
	switch *in {
	case kubeflow.MPIDistributionTypeIntelMPI:
		return MPIImplementationIntel
	case kubeflow.MPIDistributionType(MPIImplementationIntel):
		return MPIImplementation(kubeflow.MPIDistributionTypeIntelMPI)
	}
	return MPIImplementation(*in)
}

func mpiImplementationToHub(in MPIImplementation) *kubeflow.MPIDistributionType {
	var out kubeflow.MPIDistributionType
	switch in {
	case "":
		return nil
	case MPIImplementationIntel:
		out = kubeflow.MPIDistributionTypeIntelMPI
	case MPIImplementation(kubeflow.MPIDistributionTypeIntelMPI):
		out = kubeflow.MPIDistributionType(MPIImplementationIntel)
	default:
		out = kubeflow.MPIDistributionType(in)
	}
	return &out
}

// The MPIJob conversions keep what the other side cannot express in the
// reserved annotation (package carryover), so that no round trip through
// this version loses anything.

func Convert_kubeflow_MPIJob_To_v2beta1_MPIJob(in *kubeflow.MPIJob, out *MPIJob, s conversion.Scope) error {
	if err := autoConvert_kubeflow_MPIJob_To_v2beta1_MPIJob(in, out, s); err != nil {
		return err
	}
	return carryover.Annotate(carryover.V2beta1, in, &out.ObjectMeta)
}

func Convert_v2beta1_MPIJob_To_kubeflow_MPIJob(in *MPIJob, out *kubeflow.MPIJob, s conversion.Scope) error {
	if err := autoConvert_v2beta1_MPIJob_To_kubeflow_MPIJob(in, out, s); err != nil {
		return err
	}
	return carryover.Unannotate(out)
}
