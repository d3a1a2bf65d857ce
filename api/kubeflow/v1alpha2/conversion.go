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
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
)

// The hub is v1alpha2 plus the fields only v2beta1 can express. Converting
// to v1alpha2 moves those into the reserved annotation (below), which no
// client reads or writes; the registry carries them over from the stored
// object on every v1alpha2 write (api/kubeflow/carryover). A runPolicy or schedulingPolicy that holds
// nothing but such fields is left out too, so that a v1alpha2 reader never
// sees an empty object a v2beta1 writer did not mean for it.

func Convert_kubeflow_MPIJobSpec_To_v1alpha2_MPIJobSpec(in *kubeflow.MPIJobSpec, out *MPIJobSpec, s conversion.Scope) error {
	if err := autoConvert_kubeflow_MPIJobSpec_To_v1alpha2_MPIJobSpec(in, out, s); err != nil {
		return err
	}
	if in.RunPolicy != nil && !kubeflow.RunPolicyVisibleInV1alpha2(in.RunPolicy) {
		out.RunPolicy = nil
	}
	return nil
}

func Convert_kubeflow_RunPolicy_To_v1alpha2_RunPolicy(in *kubeflow.RunPolicy, out *RunPolicy, s conversion.Scope) error {
	if err := autoConvert_kubeflow_RunPolicy_To_v1alpha2_RunPolicy(in, out, s); err != nil {
		return err
	}
	if in.SchedulingPolicy != nil && !kubeflow.SchedulingPolicyVisibleInV1alpha2(in.SchedulingPolicy) {
		out.SchedulingPolicy = nil
	}
	return nil
}

func Convert_kubeflow_SchedulingPolicy_To_v1alpha2_SchedulingPolicy(in *kubeflow.SchedulingPolicy, out *SchedulingPolicy, s conversion.Scope) error {
	return autoConvert_kubeflow_SchedulingPolicy_To_v1alpha2_SchedulingPolicy(in, out, s)
}

func Convert_kubeflow_ReplicaStatus_To_v1alpha2_ReplicaStatus(in *kubeflow.ReplicaStatus, out *ReplicaStatus, s conversion.Scope) error {
	return autoConvert_kubeflow_ReplicaStatus_To_v1alpha2_ReplicaStatus(in, out, s)
}

// Declared by hand only so that conversion-gen converts the pointer values of
// replicaStatuses with it: the generator does not find its own function for
// a map whose values are pointers to a type it converts field by field.
func Convert_v1alpha2_ReplicaStatus_To_kubeflow_ReplicaStatus(in *ReplicaStatus, out *kubeflow.ReplicaStatus, s conversion.Scope) error {
	return autoConvert_v1alpha2_ReplicaStatus_To_kubeflow_ReplicaStatus(in, out, s)
}

// The MPIJob conversions keep what the other side cannot express in the
// reserved annotation (package carryover), so that no round trip through
// this version loses anything.

func Convert_kubeflow_MPIJob_To_v1alpha2_MPIJob(in *kubeflow.MPIJob, out *MPIJob, s conversion.Scope) error {
	if err := autoConvert_kubeflow_MPIJob_To_v1alpha2_MPIJob(in, out, s); err != nil {
		return err
	}
	return carryover.Annotate(carryover.V1alpha2, in, &out.ObjectMeta)
}

func Convert_v1alpha2_MPIJob_To_kubeflow_MPIJob(in *MPIJob, out *kubeflow.MPIJob, s conversion.Scope) error {
	if err := autoConvert_v1alpha2_MPIJob_To_kubeflow_MPIJob(in, out, s); err != nil {
		return err
	}
	return carryover.Unannotate(out)
}
