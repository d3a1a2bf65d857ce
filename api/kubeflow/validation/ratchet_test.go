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
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

func TestRatchet(t *testing.T) {
	p := field.NewPath("spec", "slotsPerWorker")
	old := field.ErrorList{field.Invalid(p, int32(0), "old detail")}
	cases := []struct {
		name string
		errs field.ErrorList
		want []string
	}{
		{"same type, path and value, other detail", field.ErrorList{field.Invalid(p, int32(0), "new detail")}, nil},
		{"other value", field.ErrorList{field.Invalid(p, int32(-1), "d")}, []string{"spec.slotsPerWorker: Invalid value: -1: d"}},
		{"other type", field.ErrorList{field.Required(p, "d")}, []string{"spec.slotsPerWorker: Required value: d"}},
		{"other path", field.ErrorList{field.Invalid(p.Root().Child("x"), int32(0), "d")}, []string{"spec.x: Invalid value: 0: d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { expectErrorStrings(t, Ratchet(tc.errs, old), tc.want) })
	}
}

func TestValidateV2beta1MPIJobUpdate(t *testing.T) {
	cases := []struct {
		name      string
		mutateOld func(j *v2beta1.MPIJob)
		mutateNew func(j *v2beta1.MPIJob)
		want      []string
	}{
		{name: "scale workers", mutateNew: func(j *v2beta1.MPIJob) { v2Worker(j).Replicas = ptr[int32](8) }},
		{name: "new fault", mutateNew: func(j *v2beta1.MPIJob) { v2Worker(j).Replicas = ptr[int32](0) },
			want: []string{v2W + `.replicas: Invalid value: 0: must be greater than or equal to 1`}},
		{name: "more workers than the name allows", mutateOld: func(j *v2beta1.MPIJob) { j.Name = "a23456789012345678901234567890123456789012345678901234" },
			mutateNew: func(j *v2beta1.MPIJob) { v2Worker(j).Replicas = ptr[int32](11) },
			want: []string{`metadata.name: Invalid value: "a23456789012345678901234567890123456789012345678901234": the host name of the last worker pod, ` +
				`"a23456789012345678901234567890123456789012345678901234-worker-10", must be a DNS-1035 label: must be no more than 63 characters`}},
		{name: "name is immutable", mutateNew: func(j *v2beta1.MPIJob) { j.Name = "other" },
			want: []string{`metadata.name: Invalid value: "other": field is immutable`}},

		// A job written in v1alpha2, restartPolicy ExitCode.
		{name: "stored fault, written back with a label", mutateOld: func(j *v2beta1.MPIJob) { v2Worker(j).RestartPolicy = v2beta1.RestartPolicyExitCode },
			mutateNew: func(j *v2beta1.MPIJob) { j.Labels = map[string]string{"a": "b"} }},
		{name: "stored fault, other fields changed", mutateOld: func(j *v2beta1.MPIJob) { v2Worker(j).RestartPolicy = v2beta1.RestartPolicyExitCode },
			mutateNew: func(j *v2beta1.MPIJob) { v2Worker(j).Replicas = ptr[int32](4) }},
		{name: "stored fault changed to another fault", mutateOld: func(j *v2beta1.MPIJob) { v2Worker(j).RestartPolicy = v2beta1.RestartPolicyExitCode },
			mutateNew: func(j *v2beta1.MPIJob) { v2Worker(j).RestartPolicy = v2beta1.RestartPolicyAlways },
			want:      []string{v2W + `.restartPolicy: Unsupported value: "Always": supported values: "Never", "OnFailure"`}},
		{name: "stored fault fixed", mutateOld: func(j *v2beta1.MPIJob) { v2Worker(j).RestartPolicy = v2beta1.RestartPolicyExitCode },
			mutateNew: func(j *v2beta1.MPIJob) { v2Worker(j).RestartPolicy = v2beta1.RestartPolicyNever }},
		{name: "stored fault kept, another added", mutateOld: func(j *v2beta1.MPIJob) { v2Worker(j).RestartPolicy = v2beta1.RestartPolicyExitCode },
			mutateNew: func(j *v2beta1.MPIJob) { j.Spec.SlotsPerWorker = ptr[int32](-1) },
			want:      []string{`spec.slotsPerWorker: Invalid value: -1: must be greater than or equal to 0`}},
		{name: "stored unset Worker replicas, written back", mutateOld: func(j *v2beta1.MPIJob) { v2Worker(j).Replicas = nil },
			mutateNew: func(j *v2beta1.MPIJob) { j.Finalizers = nil }},
		{name: "stored duplicate env, written back", mutateOld: func(j *v2beta1.MPIJob) {
			v2Containers(j)[0].Env = []corev1.EnvVar{{Name: "A"}, {Name: "A"}}
		}, mutateNew: func(j *v2beta1.MPIJob) { v2Containers(j)[0].Image = "other" }},
		{name: "stored duplicate env, a third added", mutateOld: func(j *v2beta1.MPIJob) {
			v2Containers(j)[0].Env = []corev1.EnvVar{{Name: "A"}, {Name: "A"}}
		}, mutateNew: func(j *v2beta1.MPIJob) {
			v2Containers(j)[0].Env = append(v2Containers(j)[0].Env, corev1.EnvVar{Name: "A"})
		},
			want: []string{v2C + `[0].env[2]: Duplicate value: {"name":"A"}`}},

		// managedBy
		{name: "managedBy set on create, kept", mutateOld: func(j *v2beta1.MPIJob) { v2Policy(j).ManagedBy = ptr(v2beta1.MultiKueueController) },
			mutateNew: func(j *v2beta1.MPIJob) { v2Policy(j).Suspend = ptr(true) }},
		{name: "managedBy changed", mutateOld: func(j *v2beta1.MPIJob) { v2Policy(j).ManagedBy = ptr(v2beta1.MultiKueueController) },
			mutateNew: func(j *v2beta1.MPIJob) { v2Policy(j).ManagedBy = ptr(v2beta1.KubeflowJobController) },
			want:      []string{`spec.runPolicy.managedBy: Invalid value: "kubeflow.org/mpi-operator": field is immutable`}},
		{name: "managedBy added", mutateNew: func(j *v2beta1.MPIJob) { v2Policy(j).ManagedBy = ptr(v2beta1.KubeflowJobController) },
			want: []string{`spec.runPolicy.managedBy: Invalid value: "kubeflow.org/mpi-operator": field is immutable`}},
		{name: "managedBy removed", mutateOld: func(j *v2beta1.MPIJob) { v2Policy(j).ManagedBy = ptr(v2beta1.MultiKueueController) },
			mutateNew: func(j *v2beta1.MPIJob) { j.Spec.RunPolicy = nil },
			want:      []string{`spec.runPolicy.managedBy: Invalid value: null: field is immutable`}},
		{name: "unsupported managedBy stored, changed", mutateOld: func(j *v2beta1.MPIJob) { v2Policy(j).ManagedBy = ptr("me") },
			mutateNew: func(j *v2beta1.MPIJob) { v2Policy(j).ManagedBy = ptr("you") },
			want: []string{
				`spec.runPolicy.managedBy: Unsupported value: "you": supported values: "kubeflow.org/mpi-operator", "kueue.x-k8s.io/multikueue"`,
				`spec.runPolicy.managedBy: Invalid value: "you": field is immutable`,
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldJob := validV2beta1Job()
			if tc.mutateOld != nil {
				tc.mutateOld(oldJob)
			}
			newJob := oldJob.DeepCopy()
			tc.mutateNew(newJob)
			expectErrorStrings(t, ValidateV2beta1MPIJobUpdate(newJob, oldJob), tc.want)
		})
	}
}

func TestValidateMPIJobRatchetingUpdate(t *testing.T) {
	cases := []struct {
		name      string
		mutateOld func(j *kubeflow.MPIJob)
		mutateNew func(j *kubeflow.MPIJob)
		want      []wantErr
	}{
		// A job written in v2beta1 without a Worker and with no slots.
		{name: "stored without Worker, relabelled", mutateOld: func(j *kubeflow.MPIJob) { delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeWorker) },
			mutateNew: func(j *kubeflow.MPIJob) { j.Labels = map[string]string{"a": "b"} }},
		{name: "stored without Worker, launcher changed", mutateOld: func(j *kubeflow.MPIJob) { delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeWorker) },
			mutateNew: func(j *kubeflow.MPIJob) { launcher(j).Template.Spec.Containers[0].Image = "other" }},
		{name: "stored slots 0, other spec change", mutateOld: func(j *kubeflow.MPIJob) { j.Spec.SlotsPerWorker = ptr[int32](0) },
			mutateNew: func(j *kubeflow.MPIJob) { worker(j).Replicas = ptr[int32](3) }},
		{name: "stored slots 0, changed to -1", mutateOld: func(j *kubeflow.MPIJob) { j.Spec.SlotsPerWorker = ptr[int32](0) },
			mutateNew: func(j *kubeflow.MPIJob) { j.Spec.SlotsPerWorker = ptr[int32](-1) },
			want:      []wantErr{invalid("spec.slotsPerWorker")}},
		{name: "stored slots 0, fixed", mutateOld: func(j *kubeflow.MPIJob) { j.Spec.SlotsPerWorker = ptr[int32](0) },
			mutateNew: func(j *kubeflow.MPIJob) { j.Spec.SlotsPerWorker = ptr[int32](2) }},
		{name: "new fault in a clean job", mutateNew: func(j *kubeflow.MPIJob) { worker(j).RestartPolicy = "Sometimes" },
			want: []wantErr{notSupported("spec.mpiReplicaSpecs[Worker].restartPolicy")}},
		{name: "metadata rules are not ratcheted", mutateNew: func(j *kubeflow.MPIJob) { j.Name = "other" },
			want: []wantErr{invalid("metadata.name")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldJob := validJob()
			if tc.mutateOld != nil {
				tc.mutateOld(oldJob)
			}
			newJob := oldJob.DeepCopy()
			tc.mutateNew(newJob)
			assertErrors(t, ValidateMPIJobRatchetingUpdate(newJob, oldJob), tc.want)
		})
	}
}
