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
	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// V1alpha2Only holds the shape v2beta1 cannot express: mainContainer, the
// second copy of cleanPodPolicy, backoffLimit and activeDeadlineSeconds
// (v2beta1 shows one value of each, conversion.go of v2beta1), that a job
// had no runPolicy though v2beta1 shows one, and empty rather than absent
// status lists.
// It holds only what a v2beta1 read and write-back would lose, so the
// reserved annotation is absent from most jobs stored as v2beta1.
type V1alpha2Only struct {
	MainContainer         string                   `json:"mainContainer,omitempty"`
	CleanPodPolicy        *kubeflow.CleanPodPolicy `json:"runPolicyCleanPodPolicy,omitempty"`
	BackoffLimit          Copies[int32]            `json:"backoffLimit,omitzero"`
	ActiveDeadlineSeconds Copies[int64]            `json:"activeDeadlineSeconds,omitzero"`
	NoRunPolicy           bool                     `json:"noRunPolicy,omitempty"`
	EmptyConditions       bool                     `json:"emptyConditions,omitempty"`
	EmptyReplicaStatuses  bool                     `json:"emptyReplicaStatuses,omitempty"`
}

// Copies are the two v1alpha2 copies of one policy value: at the top of the
// spec and in runPolicy.
type Copies[T comparable] struct {
	Top       *T `json:"top,omitempty"`
	RunPolicy *T `json:"runPolicy,omitempty"`
}

// effective is the value v2beta1 shows: runPolicy's copy wins, as in the
// v1alpha2 operator.
func (c Copies[T]) effective() *T {
	if c.RunPolicy != nil {
		return c.RunPolicy
	}
	return c.Top
}

// after returns the copies once v2beta1 has written value: unchanged if the
// value is the one it was shown; otherwise the value goes into the copy it
// was read from (runPolicy's when neither was set) and the shadowed top-level
// copy stays; a removed value removes both copies.
func (c Copies[T]) after(value *T) (top, runPolicy *T) {
	shown := c.effective()
	switch {
	case equal(value, shown):
		return c.Top, c.RunPolicy
	case value == nil:
		return nil, nil
	case c.RunPolicy != nil:
		return c.Top, value
	case c.Top != nil:
		return value, nil
	default:
		return nil, value
	}
}

func equal[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func takeV1alpha2Only(job *kubeflow.MPIJob) *V1alpha2Only {
	spec := &job.Spec
	p := V1alpha2Only{
		MainContainer:        spec.MainContainer,
		EmptyConditions:      job.Status.Conditions != nil && len(job.Status.Conditions) == 0,
		EmptyReplicaStatuses: job.Status.ReplicaStatuses != nil && len(job.Status.ReplicaStatuses) == 0,
	}
	rp := spec.RunPolicy
	if rp != nil {
		p.CleanPodPolicy = rp.CleanPodPolicy
	}
	// Only a top-level copy is lost: runPolicy's alone reads back in place.
	if spec.BackoffLimit != nil {
		p.BackoffLimit = Copies[int32]{Top: spec.BackoffLimit}
		if rp != nil {
			p.BackoffLimit.RunPolicy = rp.BackoffLimit
		}
	}
	if spec.ActiveDeadlineSeconds != nil {
		p.ActiveDeadlineSeconds = Copies[int64]{Top: spec.ActiveDeadlineSeconds}
		if rp != nil {
			p.ActiveDeadlineSeconds.RunPolicy = rp.ActiveDeadlineSeconds
		}
	}
	// v2beta1 shows top-level policy values inside a runPolicy, which a
	// write-back would make the job's own.
	p.NoRunPolicy = rp == nil &&
		(spec.CleanPodPolicy != nil || spec.BackoffLimit != nil || spec.ActiveDeadlineSeconds != nil)
	if p == (V1alpha2Only{}) {
		return nil
	}
	return &p
}

// restoreSpec takes a spec written in v2beta1 and gives back the v1alpha2
// shape it had. The spec either has the raw v2beta1 shape (cleanPodPolicy at
// the top, the other two values in runPolicy) or, when it went through a
// lossless conversion already (server-side apply), the restored shape; both
// show v2beta1 the same values, which is what the restore works from, so
// restoring twice changes nothing. A write without a runPolicy removes every
// policy value, hidden copies included.
func (p *V1alpha2Only) restoreSpec(spec *kubeflow.MPIJobSpec) {
	spec.MainContainer = p.MainContainer
	rp := spec.RunPolicy
	if rp == nil {
		return
	}
	rp.CleanPodPolicy = p.CleanPodPolicy
	spec.BackoffLimit, rp.BackoffLimit = p.BackoffLimit.after(shown(rp.BackoffLimit, spec.BackoffLimit))
	spec.ActiveDeadlineSeconds, rp.ActiveDeadlineSeconds = p.ActiveDeadlineSeconds.after(shown(rp.ActiveDeadlineSeconds, spec.ActiveDeadlineSeconds))
	if p.NoRunPolicy && *rp == (kubeflow.RunPolicy{}) {
		spec.RunPolicy = nil
	}
}

// shown is the one value v2beta1 shows of two copies.
func shown[T any](runPolicy, top *T) *T {
	if runPolicy != nil {
		return runPolicy
	}
	return top
}

// restoreStatus gives back empty lists where v2beta1, which omits them,
// read nothing and wrote nothing.
func (p *V1alpha2Only) restoreStatus(status *kubeflow.JobStatus) {
	if p.EmptyConditions && len(status.Conditions) == 0 {
		status.Conditions = []kubeflow.JobCondition{}
	}
	if p.EmptyReplicaStatuses && len(status.ReplicaStatuses) == 0 {
		status.ReplicaStatuses = map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{}
	}
}
