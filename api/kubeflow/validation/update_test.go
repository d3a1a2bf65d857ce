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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

func TestValidateMPIJobUpdate(t *testing.T) {
	cases := []struct {
		name      string
		mutateOld func(j *kubeflow.MPIJob)
		mutateNew func(j *kubeflow.MPIJob)
		want      []wantErr
	}{
		{name: "scale workers", mutateNew: func(j *kubeflow.MPIJob) { worker(j).Replicas = ptr[int32](8) }},
		{name: "every spec field may change", mutateNew: func(j *kubeflow.MPIJob) {
			j.Spec.SlotsPerWorker = ptr[int32](4)
			j.Spec.CleanPodPolicy = ptr(kubeflow.CleanPodPolicyAll)
			j.Spec.MPIDistribution = ptr(kubeflow.MPIDistributionTypeMPICH)
			j.Spec.MainContainer = "worker"
			worker(j).Template.Spec.Containers[0].Image = "other:2"
		}},
		{name: "name is immutable", mutateNew: func(j *kubeflow.MPIJob) { j.Name = "other" },
			want: []wantErr{invalid("metadata.name")}},
		{name: "uid is immutable", mutateNew: func(j *kubeflow.MPIJob) { j.UID = "u-2" },
			want: []wantErr{invalid("metadata.uid")}},
		{name: "bad finalizer", mutateNew: func(j *kubeflow.MPIJob) { j.Finalizers = []string{"bad finalizer!"} },
			want: []wantErr{invalid("metadata.finalizers")}},
		{name: "new label must be valid", mutateNew: func(j *kubeflow.MPIJob) { j.Labels = map[string]string{"a": "no good!"} },
			want: []wantErr{invalid("metadata.labels")}},
		{name: "spec rules apply to the new spec", mutateNew: func(j *kubeflow.MPIJob) {
			worker(j).Replicas = ptr[int32](0)
			j.Spec.SlotsPerWorker = ptr[int32](0)
		}, want: []wantErr{invalid("spec.mpiReplicaSpecs[Worker].replicas"), invalid("spec.slotsPerWorker")}},
		{name: "worker spec cannot be dropped", mutateNew: func(j *kubeflow.MPIJob) {
			delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeWorker)
		}, want: []wantErr{required("spec.mpiReplicaSpecs[Worker]")}},
		{
			name:      "unchanged invalid spec does not block a metadata change",
			mutateOld: func(j *kubeflow.MPIJob) { worker(j).Replicas = nil },
			mutateNew: func(j *kubeflow.MPIJob) {
				worker(j).Replicas = nil
				j.Finalizers = nil
				j.Labels = map[string]string{"a": "b"}
			},
		},
		{
			name:      "a changed spec is validated whole, old faults included",
			mutateOld: func(j *kubeflow.MPIJob) { worker(j).Replicas = nil },
			mutateNew: func(j *kubeflow.MPIJob) { worker(j).Replicas = nil; j.Spec.SlotsPerWorker = ptr[int32](2) },
			want:      []wantErr{required("spec.mpiReplicaSpecs[Worker].replicas")},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldJob := validJob()
			if tc.mutateOld != nil {
				tc.mutateOld(oldJob)
			}
			newJob := oldJob.DeepCopy()
			tc.mutateNew(newJob)
			assertErrors(t, ValidateMPIJobUpdate(newJob, oldJob), tc.want)
		})
	}
}

func TestValidateMPIJobStatusUpdate(t *testing.T) {
	const rs = "status.replicaStatuses"
	now := metav1.Now()
	cases := []struct {
		name   string
		mutate func(j *kubeflow.MPIJob)
		want   []wantErr
	}{
		{name: "seed's finished job", mutate: func(j *kubeflow.MPIJob) {
			j.Status = kubeflow.JobStatus{
				Conditions: []kubeflow.JobCondition{
					{Type: kubeflow.JobCreated, Status: corev1.ConditionTrue, Reason: "MPIJobCreated", LastUpdateTime: now, LastTransitionTime: now},
					{Type: kubeflow.JobRunning, Status: corev1.ConditionFalse},
					{Type: kubeflow.JobSucceeded, Status: corev1.ConditionTrue},
				},
				ReplicaStatuses: map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{
					"Launcher": {Succeeded: 1},
					"Worker":   {},
				},
				StartTime:      &now,
				CompletionTime: &now,
			}
		}},
		{name: "every condition type and status", mutate: func(j *kubeflow.MPIJob) {
			for _, ct := range []kubeflow.JobConditionType{"Created", "Running", "Restarting", "Succeeded", "Failed"} {
				for _, cs := range []corev1.ConditionStatus{"True", "False", "Unknown"} {
					j.Status.Conditions = append(j.Status.Conditions, kubeflow.JobCondition{Type: ct, Status: cs})
				}
			}
		}},
		{name: "null replica status", mutate: func(j *kubeflow.MPIJob) {
			j.Status.ReplicaStatuses = map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{"Worker": nil}
		}},
		{name: "spec is not validated on status writes", mutate: func(j *kubeflow.MPIJob) { worker(j).Replicas = nil }},
		{name: "unknown condition type", mutate: func(j *kubeflow.MPIJob) {
			j.Status.Conditions = []kubeflow.JobCondition{{Type: "Done", Status: corev1.ConditionTrue}}
		}, want: []wantErr{notSupported("status.conditions[0].type")}},
		{name: "condition without type and status", mutate: func(j *kubeflow.MPIJob) {
			j.Status.Conditions = []kubeflow.JobCondition{{Type: "Created", Status: "True"}, {}}
		}, want: []wantErr{required("status.conditions[1].type"), required("status.conditions[1].status")}},
		{name: "unknown condition status", mutate: func(j *kubeflow.MPIJob) {
			j.Status.Conditions = []kubeflow.JobCondition{{Type: "Running", Status: "true"}}
		}, want: []wantErr{notSupported("status.conditions[0].status")}},
		{name: "unknown replica type", mutate: func(j *kubeflow.MPIJob) {
			j.Status.ReplicaStatuses = map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{"PS": {Active: 1}}
		}, want: []wantErr{notSupported(rs + "[PS]")}},
		{name: "negative counts", mutate: func(j *kubeflow.MPIJob) {
			j.Status.ReplicaStatuses = map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{
				"Launcher": {Active: -1, Succeeded: -1},
				"Worker":   {Failed: -1},
			}
		}, want: []wantErr{invalid(rs + "[Launcher].active"), invalid(rs + "[Launcher].succeeded"), invalid(rs + "[Worker].failed")}},
		{name: "name is immutable", mutate: func(j *kubeflow.MPIJob) { j.Name = "other" },
			want: []wantErr{invalid("metadata.name")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldJob := validJob()
			newJob := oldJob.DeepCopy()
			tc.mutate(newJob)
			assertErrors(t, ValidateMPIJobStatusUpdate(newJob, oldJob), tc.want)
		})
	}
}
