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

package carryover

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// V2beta1Only holds the fields v1alpha2 cannot express.
type V2beta1Only struct {
	RunLauncherAsWorker    *bool                           `json:"runLauncherAsWorker,omitempty"`
	SSHAuthMountPath       string                          `json:"sshAuthMountPath,omitempty"`
	LauncherCreationPolicy kubeflow.LauncherCreationPolicy `json:"launcherCreationPolicy,omitempty"`
	Suspend                *bool                           `json:"suspend,omitempty"`
	ManagedBy              *string                         `json:"managedBy,omitempty"`
	ScheduleTimeoutSeconds *int32                          `json:"scheduleTimeoutSeconds,omitempty"`
	// The selectors of each replica status that has one.
	ReplicaSelectors map[kubeflow.ReplicaType]ReplicaSelector `json:"replicaSelectors,omitempty"`
}

// ReplicaSelector is the v2beta1-only part of a replica status.
type ReplicaSelector struct {
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	Selector      string                `json:"selector,omitempty"`
}

func takeV2beta1Only(job *kubeflow.MPIJob) *V2beta1Only {
	spec := &job.Spec
	p := V2beta1Only{
		RunLauncherAsWorker:    spec.RunLauncherAsWorker,
		SSHAuthMountPath:       spec.SSHAuthMountPath,
		LauncherCreationPolicy: spec.LauncherCreationPolicy,
	}
	if rp := spec.RunPolicy; rp != nil {
		p.Suspend, p.ManagedBy = rp.Suspend, rp.ManagedBy
		if rp.SchedulingPolicy != nil {
			p.ScheduleTimeoutSeconds = rp.SchedulingPolicy.ScheduleTimeoutSeconds
		}
	}
	for key, rs := range job.Status.ReplicaStatuses {
		if rs == nil || (rs.LabelSelector == nil && rs.Selector == "") {
			continue
		}
		if p.ReplicaSelectors == nil {
			p.ReplicaSelectors = map[kubeflow.ReplicaType]ReplicaSelector{}
		}
		p.ReplicaSelectors[key] = ReplicaSelector{LabelSelector: rs.LabelSelector, Selector: rs.Selector}
	}
	if p.RunLauncherAsWorker == nil && p.SSHAuthMountPath == "" && p.LauncherCreationPolicy == "" &&
		p.Suspend == nil && p.ManagedBy == nil && p.ScheduleTimeoutSeconds == nil && p.ReplicaSelectors == nil {
		return nil
	}
	return &p
}

// restoreSpec sets the v2beta1-only spec fields. A run or scheduling policy
// is created to hold them when the v1alpha2 write has none: v1alpha2 does not
// show a policy that holds nothing else (kubeflow.RunPolicyVisibleInV1alpha2).
func (p *V2beta1Only) restoreSpec(spec *kubeflow.MPIJobSpec) {
	spec.RunLauncherAsWorker = p.RunLauncherAsWorker
	spec.SSHAuthMountPath = p.SSHAuthMountPath
	spec.LauncherCreationPolicy = p.LauncherCreationPolicy
	clearV2beta1OnlyPolicies(spec)
	if p.Suspend == nil && p.ManagedBy == nil && p.ScheduleTimeoutSeconds == nil {
		return
	}
	if spec.RunPolicy == nil {
		spec.RunPolicy = &kubeflow.RunPolicy{}
	}
	spec.RunPolicy.Suspend, spec.RunPolicy.ManagedBy = p.Suspend, p.ManagedBy
	if p.ScheduleTimeoutSeconds != nil {
		if spec.RunPolicy.SchedulingPolicy == nil {
			spec.RunPolicy.SchedulingPolicy = &kubeflow.SchedulingPolicy{}
		}
		spec.RunPolicy.SchedulingPolicy.ScheduleTimeoutSeconds = p.ScheduleTimeoutSeconds
	}
}

// clearV2beta1OnlyPolicies drops what the written spec holds of the
// v2beta1-only policy fields (a v1alpha2 write cannot have set them; an
// apply configuration carrying the reserved annotation could), and a policy
// that only they made invisible to v1alpha2.
func clearV2beta1OnlyPolicies(spec *kubeflow.MPIJobSpec) {
	rp := spec.RunPolicy
	if rp == nil {
		return
	}
	runPolicyShown := kubeflow.RunPolicyVisibleInV1alpha2(rp)
	rp.Suspend, rp.ManagedBy = nil, nil
	if sp := rp.SchedulingPolicy; sp != nil {
		schedulingPolicyShown := kubeflow.SchedulingPolicyVisibleInV1alpha2(sp)
		sp.ScheduleTimeoutSeconds = nil
		if !schedulingPolicyShown {
			rp.SchedulingPolicy = nil
		}
	}
	if !runPolicyShown {
		spec.RunPolicy = nil
	}
}

// restoreStatus sets the selectors of every replica status the write kept,
// and clears any other: v1alpha2 cannot write a selector.
func (p *V2beta1Only) restoreStatus(status *kubeflow.JobStatus) {
	for key, rs := range status.ReplicaStatuses {
		if rs == nil {
			continue
		}
		sel := p.ReplicaSelectors[key]
		rs.LabelSelector, rs.Selector = sel.LabelSelector, sel.Selector
	}
}
