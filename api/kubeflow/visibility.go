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

// Which parts of a hub object each version can show. The conversions and
// the carry-over of hidden fields (package carryover) share these rules.

// SchedulingPolicyVisibleInV1alpha2 is false for a scheduling policy that
// holds nothing but v2beta1's scheduleTimeoutSeconds: v1alpha2 would show it
// as an empty object.
func SchedulingPolicyVisibleInV1alpha2(p *SchedulingPolicy) bool {
	return p.ScheduleTimeoutSeconds == nil || p.MinAvailable != nil || p.Queue != "" ||
		p.MinResources != nil || p.PriorityClass != ""
}

// RunPolicyVisibleInV1alpha2 is false for a run policy that holds nothing
// v1alpha2 can express but does hold v2beta1-only fields.
func RunPolicyVisibleInV1alpha2(p *RunPolicy) bool {
	v1alpha2Fields := p.CleanPodPolicy != nil || p.TTLSecondsAfterFinished != nil ||
		p.ActiveDeadlineSeconds != nil || p.BackoffLimit != nil ||
		(p.SchedulingPolicy != nil && SchedulingPolicyVisibleInV1alpha2(p.SchedulingPolicy))
	v2beta1Fields := p.Suspend != nil || p.ManagedBy != nil || p.SchedulingPolicy != nil
	return v1alpha2Fields || !v2beta1Fields
}
