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
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

func v2Conditions(types ...v2beta1.JobConditionType) []v2beta1.JobCondition {
	out := make([]v2beta1.JobCondition, 0, len(types))
	for _, t := range types {
		out = append(out, v2beta1.JobCondition{Type: t, Status: corev1.ConditionTrue})
	}
	return out
}

func TestValidateV2beta1MPIJobStatusUpdate(t *testing.T) {
	cases := []struct {
		name      string
		oldStatus []v2beta1.JobCondition
		mutate    func(j *v2beta1.MPIJob)
		want      []string
	}{
		{name: "every type v0.7.0 writes", mutate: func(j *v2beta1.MPIJob) {
			j.Status.Conditions = v2Conditions("Created", "Running", "Restarting", "Succeeded", "Suspended", "Failed")
		}},
		{name: "a type no operator writes", mutate: func(j *v2beta1.MPIJob) {
			j.Status.Conditions = v2Conditions("QuotaReserved")
		}},
		{name: "spec is not validated on status writes", mutate: func(j *v2beta1.MPIJob) { v2Worker(j).Replicas = ptr[int32](0) }},
		{name: "condition without type and status", mutate: func(j *v2beta1.MPIJob) {
			j.Status.Conditions = []v2beta1.JobCondition{{}}
		}, want: []string{"status.conditions[0].type: Required value", "status.conditions[0].status: Required value"}},
		{name: "unknown condition status", mutate: func(j *v2beta1.MPIJob) {
			j.Status.Conditions = []v2beta1.JobCondition{{Type: "Running", Status: "true"}}
		}, want: []string{`status.conditions[0].status: Unsupported value: "true": supported values: "True", "False", "Unknown"`}},
		{name: "duplicate type added", oldStatus: v2Conditions("Created"), mutate: func(j *v2beta1.MPIJob) {
			j.Status.Conditions = v2Conditions("Created", "Running", "Created")
		}, want: []string{`status.conditions[2]: Duplicate value: {"type":"Created"}`}},
		{name: "stored duplicate, written back with a new condition", oldStatus: v2Conditions("Created", "Created"), mutate: func(j *v2beta1.MPIJob) {
			j.Status.Conditions = v2Conditions("Created", "Created", "Running")
		}},
		{name: "stored duplicate, another one added", oldStatus: v2Conditions("Created", "Created"), mutate: func(j *v2beta1.MPIJob) {
			j.Status.Conditions = v2Conditions("Created", "Created", "Created")
		}, want: []string{`status.conditions[2]: Duplicate value: {"type":"Created"}`}},
		{name: "stored duplicate, fixed", oldStatus: v2Conditions("Created", "Created"), mutate: func(j *v2beta1.MPIJob) {
			j.Status.Conditions = v2Conditions("Created", "Running")
		}},
		{name: "name is immutable", mutate: func(j *v2beta1.MPIJob) { j.Name = "other" },
			want: []string{`metadata.name: Invalid value: "other": field is immutable`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldJob := validV2beta1Job()
			oldJob.Status.Conditions = tc.oldStatus
			newJob := oldJob.DeepCopy()
			tc.mutate(newJob)
			expectErrorStrings(t, ValidateV2beta1MPIJobStatusUpdate(newJob, oldJob), tc.want)
		})
	}
}

// v1alpha2 keeps its closed set of condition types, now with Suspended, and
// ratchets a type another writer stored.
func TestValidateMPIJobRatchetingStatusUpdate(t *testing.T) {
	cond := func(types ...kubeflow.JobConditionType) []kubeflow.JobCondition {
		out := make([]kubeflow.JobCondition, 0, len(types))
		for _, t := range types {
			out = append(out, kubeflow.JobCondition{Type: t, Status: corev1.ConditionTrue})
		}
		return out
	}
	cases := []struct {
		name      string
		oldStatus []kubeflow.JobCondition
		newStatus []kubeflow.JobCondition
		want      []wantErr
	}{
		{name: "Suspended", newStatus: cond("Created", "Suspended")},
		{name: "unknown type", newStatus: cond("Created", "QuotaReserved"), want: []wantErr{notSupported("status.conditions[1].type")}},
		{name: "stored unknown type, condition appended", oldStatus: cond("QuotaReserved"), newStatus: cond("QuotaReserved", "Running")},
		{name: "stored unknown type, changed to another", oldStatus: cond("QuotaReserved"), newStatus: cond("Admitted"),
			want: []wantErr{notSupported("status.conditions[0].type")}},
		{name: "stored unknown type, fixed", oldStatus: cond("QuotaReserved"), newStatus: cond("Created")},
		{name: "duplicates are allowed in v1alpha2", newStatus: cond("Created", "Created")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldJob := validJob()
			oldJob.Status.Conditions = tc.oldStatus
			newJob := oldJob.DeepCopy()
			newJob.Status.Conditions = tc.newStatus
			assertErrors(t, ValidateMPIJobRatchetingStatusUpdate(newJob, oldJob), tc.want)
		})
	}
}
