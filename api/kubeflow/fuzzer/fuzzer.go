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

// Package fuzzer fills MPIJobs with random values a real client could send.
//
// The generic randfill library would put arbitrary strings into enums and
// replica-type keys. Such objects still round-trip, but they test nothing a
// user can do; these funcs keep the enums, keys and condition vocabulary
// within the documented values (quantities come sane from the meta fuzzer),
// so a round-trip failure points at a real serialization or conversion bug.
package fuzzer

import (
	corev1 "k8s.io/api/core/v1"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// Funcs returns the fuzzer funcs of the kubeflow.org group, for both the hub
// types and the v1alpha2 wire types (the round-trip test fills either).
func Funcs(codecs runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		// Hub types.
		oneOf(kubeflow.CleanPodPolicyAll, kubeflow.CleanPodPolicyRunning, kubeflow.CleanPodPolicyNone),
		oneOf(kubeflow.MPIDistributionTypeOpenMPI, kubeflow.MPIDistributionTypeIntelMPI, kubeflow.MPIDistributionTypeMPICH),
		// "" is included: restartPolicy is a plain omitempty string, and
		// leaving it out is how clients leave it unset.
		oneOf("", kubeflow.RestartPolicyAlways, kubeflow.RestartPolicyOnFailure, kubeflow.RestartPolicyNever, kubeflow.RestartPolicyExitCode),
		oneOf(kubeflow.MPIReplicaTypeLauncher, kubeflow.MPIReplicaTypeWorker),
		oneOf[kubeflow.ReplicaType]("Launcher", "Worker"),
		oneOf(kubeflow.JobCreated, kubeflow.JobRunning, kubeflow.JobRestarting, kubeflow.JobSucceeded, kubeflow.JobFailed),

		// Wire types.
		oneOf(v1alpha2.CleanPodPolicyAll, v1alpha2.CleanPodPolicyRunning, v1alpha2.CleanPodPolicyNone),
		oneOf(v1alpha2.MPIDistributionTypeOpenMPI, v1alpha2.MPIDistributionTypeIntelMPI, v1alpha2.MPIDistributionTypeMPICH),
		oneOf("", v1alpha2.RestartPolicyAlways, v1alpha2.RestartPolicyOnFailure, v1alpha2.RestartPolicyNever, v1alpha2.RestartPolicyExitCode),
		oneOf(v1alpha2.MPIReplicaTypeLauncher, v1alpha2.MPIReplicaTypeWorker),
		oneOf[v1alpha2.ReplicaType]("Launcher", "Worker"),
		oneOf(v1alpha2.JobCreated, v1alpha2.JobRunning, v1alpha2.JobRestarting, v1alpha2.JobSucceeded, v1alpha2.JobFailed),

		// Condition statuses: the only corev1 enum our types hold directly.
		oneOf(corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown),
	}
}

// oneOf returns a fill func that picks one of values for every T.
func oneOf[T ~string](values ...T) func(*T, randfill.Continue) {
	return func(v *T, c randfill.Continue) {
		*v = values[c.Intn(len(values))]
	}
}
