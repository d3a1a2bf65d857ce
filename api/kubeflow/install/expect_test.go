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

package install

import (
	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// The expectations below are written from the field reference of v2beta1
// (docs/mpijob-v2beta1.md, sections 3.3 and 5), not from the conversions
// they check.

// withV2beta1Defaults is hub as a v2beta1 write leaves it: the CRD's schema
// defaults filled in where hub, as v2beta1 shows it, leaves them unset. The
// names of the defaults applied are counted in added.
func withV2beta1Defaults(hub *kubeflow.MPIJob, added map[string]int) *kubeflow.MPIJob {
	out := hub.DeepCopy()
	s := &out.Spec
	if s.SlotsPerWorker == nil {
		s.SlotsPerWorker = ptr[int32](1)
		added["spec.slotsPerWorker"]++
	}
	if s.RunLauncherAsWorker == nil {
		s.RunLauncherAsWorker = ptr(false)
		added["spec.runLauncherAsWorker"]++
	}
	if s.SSHAuthMountPath == "" {
		s.SSHAuthMountPath = "/root/.ssh"
		added["spec.sshAuthMountPath"]++
	}
	if s.LauncherCreationPolicy == "" {
		s.LauncherCreationPolicy = kubeflow.LauncherCreationPolicyAtStartup
		added["spec.launcherCreationPolicy"]++
	}
	if s.MPIDistribution == nil {
		s.MPIDistribution = ptr(kubeflow.MPIDistributionTypeOpenMPI)
		added["spec.mpiImplementation"]++
	}
	// v2beta1 shows a runPolicy when the hub has one or any top-level
	// policy value, and the CRD defaults suspend inside a runPolicy.
	if s.RunPolicy != nil || s.CleanPodPolicy != nil || s.BackoffLimit != nil || s.ActiveDeadlineSeconds != nil {
		if s.RunPolicy == nil {
			s.RunPolicy = &kubeflow.RunPolicy{}
		}
		if s.RunPolicy.Suspend == nil {
			s.RunPolicy.Suspend = ptr(false)
			added["spec.runPolicy.suspend"]++
		}
	}
	return out
}

// withV1alpha2VisibleDefaults is what a v1alpha2 reader may newly see after
// a v2beta1 write: the two shared defaults the v1alpha2 operator assumed
// when unset.
func withV1alpha2VisibleDefaults(j *v1alpha2.MPIJob) *v1alpha2.MPIJob {
	out := j.DeepCopy()
	if out.Spec.SlotsPerWorker == nil {
		out.Spec.SlotsPerWorker = ptr[int32](1)
	}
	if out.Spec.MPIDistribution == nil {
		out.Spec.MPIDistribution = ptr(v1alpha2.MPIDistributionTypeOpenMPI)
	}
	return out
}

// withoutV2beta1Only removes from hub what only v2beta1 can express, and a
// run or scheduling policy that held nothing else.
func withoutV2beta1Only(hub *kubeflow.MPIJob) *kubeflow.MPIJob {
	out := hub.DeepCopy()
	s := &out.Spec
	s.RunLauncherAsWorker, s.SSHAuthMountPath, s.LauncherCreationPolicy = nil, "", ""
	if rp := s.RunPolicy; rp != nil {
		hadOnly := rp.Suspend != nil || rp.ManagedBy != nil
		rp.Suspend, rp.ManagedBy = nil, nil
		if sp := rp.SchedulingPolicy; sp != nil && sp.ScheduleTimeoutSeconds != nil {
			sp.ScheduleTimeoutSeconds = nil
			hadOnly = true
			if sp.MinAvailable == nil && sp.Queue == "" && sp.MinResources == nil && sp.PriorityClass == "" {
				rp.SchedulingPolicy = nil
			}
		}
		if hadOnly && *rp == (kubeflow.RunPolicy{}) {
			s.RunPolicy = nil
		}
	}
	for _, rs := range out.Status.ReplicaStatuses {
		if rs != nil {
			rs.LabelSelector, rs.Selector = nil, ""
		}
	}
	return out
}

// withoutV1alpha2Only removes from hub what only v1alpha2 can express:
// mainContainer, the runPolicy copy of cleanPodPolicy, the top-level
// copies runPolicy's shadow, and empty rather than absent status lists.
func withoutV1alpha2Only(hub *kubeflow.MPIJob) *kubeflow.MPIJob {
	out := hub.DeepCopy()
	s := &out.Spec
	s.MainContainer = ""
	if rp := s.RunPolicy; rp != nil {
		rp.CleanPodPolicy = nil
		if rp.BackoffLimit != nil {
			s.BackoffLimit = nil
		}
		if rp.ActiveDeadlineSeconds != nil {
			s.ActiveDeadlineSeconds = nil
		}
	}
	if len(out.Status.Conditions) == 0 {
		out.Status.Conditions = nil
	}
	if len(out.Status.ReplicaStatuses) == 0 {
		out.Status.ReplicaStatuses = nil
	}
	return out
}

// withoutDroppedEmptyPolicies is what the client wrote in want, less an
// empty runPolicy or schedulingPolicy that the reader of got no longer
// sees: the one documented loss, when the carried-over fields of the other
// version fill the policy and v1alpha2 then hides it. It counts the drops.
func withoutDroppedEmptyPolicies(want, got *v1alpha2.MPIJob, dropped map[string]int) *v1alpha2.MPIJob {
	out := want.DeepCopy()
	rp := out.Spec.RunPolicy
	if rp == nil {
		return out
	}
	gotRP := got.Spec.RunPolicy
	if sp := rp.SchedulingPolicy; sp != nil && sp.MinAvailable == nil && sp.Queue == "" && sp.MinResources == nil && sp.PriorityClass == "" &&
		(gotRP == nil || gotRP.SchedulingPolicy == nil) {
		rp.SchedulingPolicy = nil
		dropped["spec.runPolicy.schedulingPolicy: {}"]++
	}
	if *rp == (v1alpha2.RunPolicy{}) && gotRP == nil {
		out.Spec.RunPolicy = nil
		dropped["spec.runPolicy: {}"]++
	}
	return out
}

func ptr[T any](v T) *T { return &v }
