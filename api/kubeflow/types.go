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

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// MPIJob describes a distributed MPI training job: one launcher that runs
// mpirun and a set of workers it reaches over kubexec.
type MPIJob struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// Specification of the desired behaviour of the job.
	// +optional
	Spec MPIJobSpec `json:"spec,omitempty"`
	// Most recently observed status of the job. Written through the status
	// subresource only.
	// +optional
	Status JobStatus `json:"status,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// MPIJobList is a list of MPIJobs.
type MPIJobList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	metav1.ListMeta `json:"metadata"`
	// Items is the list of MPIJobs.
	Items []MPIJob `json:"items"`
}

// MPIJobSpec is the desired state of an MPIJob.
type MPIJobSpec struct {
	// Number of slots per worker written into the hostfile. The operator uses 1
	// when unset.
	// +optional
	SlotsPerWorker *int32 `json:"slotsPerWorker,omitempty"`

	// Number of retries before the launcher is marked failed. The operator
	// uses 6 when unset.
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`

	// Seconds from the start that the launcher may run; takes precedence over
	// backoffLimit.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`

	// What happens to the pods once the job finishes. The operator uses None
	// when unset.
	// +optional
	CleanPodPolicy *CleanPodPolicy `json:"cleanPodPolicy,omitempty"`

	// The launcher and worker replica specifications, keyed by Launcher and
	// Worker.
	MPIReplicaSpecs map[MPIReplicaType]*ReplicaSpec `json:"mpiReplicaSpecs"`

	// Name of the container that runs the MPI code.
	// +optional
	MainContainer string `json:"mainContainer,omitempty"`

	// Run-time policies; its backoffLimit and activeDeadlineSeconds override
	// the top-level ones.
	// +optional
	RunPolicy *RunPolicy `json:"runPolicy,omitempty"`

	// The MPI implementation; the operator uses OpenMPI when unset. v2beta1
	// calls it mpiImplementation and IntelMPI Intel.
	// +optional
	MPIDistribution *MPIDistributionType `json:"mpiDistribution,omitempty"`

	// The fields below only v2beta1 can express.

	// Whether the launcher also runs MPI processes.
	// +optional
	RunLauncherAsWorker *bool `json:"runLauncherAsWorker,omitempty"`

	// Directory where the SSH keys are mounted in the pods.
	// +optional
	SSHAuthMountPath string `json:"sshAuthMountPath,omitempty"`

	// When the launcher is created.
	// +optional
	LauncherCreationPolicy LauncherCreationPolicy `json:"launcherCreationPolicy,omitempty"`
}

// LauncherCreationPolicy says when the launcher is created (v2beta1 only).
type LauncherCreationPolicy string

const (
	LauncherCreationPolicyAtStartup           LauncherCreationPolicy = "AtStartup"
	LauncherCreationPolicyWaitForWorkersReady LauncherCreationPolicy = "WaitForWorkersReady"
)

// CleanPodPolicy says which pods are removed when a job finishes.
// +enum
type CleanPodPolicy string

const (
	CleanPodPolicyUndefined CleanPodPolicy = ""
	CleanPodPolicyAll       CleanPodPolicy = "All"
	CleanPodPolicyRunning   CleanPodPolicy = "Running"
	CleanPodPolicyNone      CleanPodPolicy = "None"
)

// MPIReplicaType is a key of mpiReplicaSpecs.
type MPIReplicaType string

const (
	MPIReplicaTypeLauncher MPIReplicaType = "Launcher"
	MPIReplicaTypeWorker   MPIReplicaType = "Worker"
)

// MPIDistributionType names an MPI implementation.
// +enum
type MPIDistributionType string

const (
	MPIDistributionTypeOpenMPI  MPIDistributionType = "OpenMPI"
	MPIDistributionTypeIntelMPI MPIDistributionType = "IntelMPI"
	MPIDistributionTypeMPICH    MPIDistributionType = "MPICH"
)
