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
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

func TestValidateMPIJobSpec(t *testing.T) {
	const (
		launcherPath = "spec.mpiReplicaSpecs[Launcher]"
		workerPath   = "spec.mpiReplicaSpecs[Worker]"
	)
	cases := []struct {
		name   string
		mutate func(j *kubeflow.MPIJob)
		want   []wantErr
	}{
		{name: "valid seed job", mutate: func(*kubeflow.MPIJob) {}},
		{name: "valid with every optional field set", mutate: func(j *kubeflow.MPIJob) {
			j.Spec.BackoffLimit = ptr[int32](0)
			j.Spec.ActiveDeadlineSeconds = ptr[int64](1)
			j.Spec.CleanPodPolicy = ptr(kubeflow.CleanPodPolicyRunning)
			j.Spec.MPIDistribution = ptr(kubeflow.MPIDistributionTypeIntelMPI)
			j.Spec.MainContainer = "worker"
			minRes := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}
			j.Spec.RunPolicy = &kubeflow.RunPolicy{
				CleanPodPolicy:          ptr(kubeflow.CleanPodPolicyAll),
				TTLSecondsAfterFinished: ptr[int32](0),
				ActiveDeadlineSeconds:   ptr[int64](60),
				BackoffLimit:            ptr[int32](3),
				SchedulingPolicy:        &kubeflow.SchedulingPolicy{MinAvailable: ptr[int32](0), Queue: "q", MinResources: minRes},
			}
			launcher(j).RestartPolicy = kubeflow.RestartPolicyOnFailure
			worker(j).RestartPolicy = kubeflow.RestartPolicyExitCode
			worker(j).Template.Labels = map[string]string{"app": "mpi"}
			worker(j).Template.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
		}},
		{name: "valid without launcher replicas", mutate: func(j *kubeflow.MPIJob) { launcher(j).Replicas = nil }},
		{name: "valid mainContainer only in Worker", mutate: func(j *kubeflow.MPIJob) { j.Spec.MainContainer = "worker" }},
		{name: "valid unset slotsPerWorker", mutate: func(j *kubeflow.MPIJob) { j.Spec.SlotsPerWorker = nil }},

		// metadata
		{name: "no name", mutate: func(j *kubeflow.MPIJob) { j.Name = "" },
			want: []wantErr{required("metadata.name")}},
		{name: "name not a DNS subdomain", mutate: func(j *kubeflow.MPIJob) { j.Name = "MPI_Test" },
			want: []wantErr{invalid("metadata.name")}},
		{name: "generated name", mutate: func(j *kubeflow.MPIJob) { j.Name, j.GenerateName = "mpi-x7k2p", "mpi-" }},
		{name: "generateName not a DNS subdomain prefix", mutate: func(j *kubeflow.MPIJob) { j.GenerateName = "MPI_" },
			want: []wantErr{invalid("metadata.generateName")}},
		{name: "no namespace", mutate: func(j *kubeflow.MPIJob) { j.Namespace = "" },
			want: []wantErr{required("metadata.namespace")}},
		{name: "bad label", mutate: func(j *kubeflow.MPIJob) { j.Labels = map[string]string{"a": "not valid!"} },
			want: []wantErr{invalid("metadata.labels")}},

		// top-level numbers and enums
		{name: "slotsPerWorker 0", mutate: func(j *kubeflow.MPIJob) { j.Spec.SlotsPerWorker = ptr[int32](0) },
			want: []wantErr{invalid("spec.slotsPerWorker")}},
		{name: "backoffLimit negative", mutate: func(j *kubeflow.MPIJob) { j.Spec.BackoffLimit = ptr[int32](-1) },
			want: []wantErr{invalid("spec.backoffLimit")}},
		{name: "activeDeadlineSeconds 0", mutate: func(j *kubeflow.MPIJob) { j.Spec.ActiveDeadlineSeconds = ptr[int64](0) },
			want: []wantErr{invalid("spec.activeDeadlineSeconds")}},
		{name: "cleanPodPolicy explicitly empty", mutate: func(j *kubeflow.MPIJob) { j.Spec.CleanPodPolicy = ptr(kubeflow.CleanPodPolicyUndefined) },
			want: []wantErr{notSupported("spec.cleanPodPolicy")}},
		{name: "cleanPodPolicy unknown", mutate: func(j *kubeflow.MPIJob) { j.Spec.CleanPodPolicy = ptr(kubeflow.CleanPodPolicy("Sometimes")) },
			want: []wantErr{notSupported("spec.cleanPodPolicy")}},
		{name: "mpiDistribution explicitly empty", mutate: func(j *kubeflow.MPIJob) { j.Spec.MPIDistribution = ptr(kubeflow.MPIDistributionType("")) },
			want: []wantErr{notSupported("spec.mpiDistribution")}},
		{name: "mpiDistribution wrong case", mutate: func(j *kubeflow.MPIJob) { j.Spec.MPIDistribution = ptr(kubeflow.MPIDistributionType("openmpi")) },
			want: []wantErr{notSupported("spec.mpiDistribution")}},

		// runPolicy
		{name: "runPolicy every number out of range", mutate: func(j *kubeflow.MPIJob) {
			minRes := corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("-1Gi")}
			j.Spec.RunPolicy = &kubeflow.RunPolicy{
				CleanPodPolicy:          ptr(kubeflow.CleanPodPolicyUndefined),
				TTLSecondsAfterFinished: ptr[int32](-1),
				ActiveDeadlineSeconds:   ptr[int64](0),
				BackoffLimit:            ptr[int32](-1),
				SchedulingPolicy:        &kubeflow.SchedulingPolicy{MinAvailable: ptr[int32](-1), MinResources: minRes},
			}
		}, want: []wantErr{
			notSupported("spec.runPolicy.cleanPodPolicy"),
			invalid("spec.runPolicy.ttlSecondsAfterFinished"),
			invalid("spec.runPolicy.activeDeadlineSeconds"),
			invalid("spec.runPolicy.backoffLimit"),
			invalid("spec.runPolicy.schedulingPolicy.minAvailable"),
			invalid("spec.runPolicy.schedulingPolicy.minResources[memory]"),
		}},

		// mpiReplicaSpecs
		{name: "no replica specs", mutate: func(j *kubeflow.MPIJob) { j.Spec.MPIReplicaSpecs = nil },
			want: []wantErr{required("spec.mpiReplicaSpecs")}},
		{name: "empty replica specs", mutate: func(j *kubeflow.MPIJob) { j.Spec.MPIReplicaSpecs = map[kubeflow.MPIReplicaType]*kubeflow.ReplicaSpec{} },
			want: []wantErr{required("spec.mpiReplicaSpecs")}},
		{name: "no Launcher", mutate: func(j *kubeflow.MPIJob) { delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeLauncher) },
			want: []wantErr{required(launcherPath)}},
		{name: "no Worker", mutate: func(j *kubeflow.MPIJob) { delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeWorker) },
			want: []wantErr{required(workerPath)}},
		{name: "no Worker, mainContainer not checked twice", mutate: func(j *kubeflow.MPIJob) {
			delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeWorker)
			j.Spec.MainContainer = "anything"
		}, want: []wantErr{required(workerPath)}},
		{name: "unknown replica type", mutate: func(j *kubeflow.MPIJob) { j.Spec.MPIReplicaSpecs["PS"] = launcher(j).DeepCopy() },
			want: []wantErr{notSupported("spec.mpiReplicaSpecs[PS]")}},
		{name: "null Launcher", mutate: func(j *kubeflow.MPIJob) { j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher] = nil },
			want: []wantErr{required(launcherPath)}},
		{name: "Launcher replicas 2", mutate: func(j *kubeflow.MPIJob) { launcher(j).Replicas = ptr[int32](2) },
			want: []wantErr{invalid(launcherPath + ".replicas")}},
		{name: "Launcher replicas 0", mutate: func(j *kubeflow.MPIJob) { launcher(j).Replicas = ptr[int32](0) },
			want: []wantErr{invalid(launcherPath + ".replicas")}},
		{name: "Worker replicas unset", mutate: func(j *kubeflow.MPIJob) { worker(j).Replicas = nil },
			want: []wantErr{required(workerPath + ".replicas")}},
		{name: "Worker replicas 0", mutate: func(j *kubeflow.MPIJob) { worker(j).Replicas = ptr[int32](0) },
			want: []wantErr{invalid(workerPath + ".replicas")}},
		{name: "restartPolicy unknown", mutate: func(j *kubeflow.MPIJob) { worker(j).RestartPolicy = "Sometimes" },
			want: []wantErr{notSupported(workerPath + ".restartPolicy")}},

		// mainContainer
		{name: "mainContainer not in Worker", mutate: func(j *kubeflow.MPIJob) { j.Spec.MainContainer = "launcher" },
			want: []wantErr{invalid("spec.mainContainer")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			tc.mutate(j)
			assertErrors(t, ValidateMPIJob(j), tc.want)
		})
	}
}

func TestNotSupportedNamesAllowedValues(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(j *kubeflow.MPIJob)
		allowed []string
	}{
		{"replica type", func(j *kubeflow.MPIJob) { j.Spec.MPIReplicaSpecs["PS"] = launcher(j).DeepCopy() }, []string{"Launcher", "Worker"}},
		{"cleanPodPolicy", func(j *kubeflow.MPIJob) { j.Spec.CleanPodPolicy = ptr(kubeflow.CleanPodPolicy("")) }, []string{"All", "Running", "None"}},
		{"mpiDistribution", func(j *kubeflow.MPIJob) { j.Spec.MPIDistribution = ptr(kubeflow.MPIDistributionType("x")) }, []string{"OpenMPI", "IntelMPI", "MPICH"}},
		{"restartPolicy", func(j *kubeflow.MPIJob) { launcher(j).RestartPolicy = "x" }, []string{"Always", "OnFailure", "Never", "ExitCode"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			tc.mutate(j)
			errs := ValidateMPIJob(j)
			if len(errs) != 1 || errs[0].Type != field.ErrorTypeNotSupported {
				t.Fatalf("want one NotSupported error, got %v", errs)
			}
			for _, a := range tc.allowed {
				if !strings.Contains(errs[0].Detail, `"`+a+`"`) {
					t.Errorf("detail %q does not name %q", errs[0].Detail, a)
				}
			}
		})
	}
}
