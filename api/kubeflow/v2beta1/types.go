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

package v2beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s.io/api/autoscaling/v1.Scale
// +genclient:method=UpdateScale,verb=update,subresource=scale,input=k8s.io/api/autoscaling/v1.Scale,result=k8s.io/api/autoscaling/v1.Scale
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// MPIJob describes a distributed MPI job: one launcher that runs mpirun and
// a set of workers it reaches over SSH.
type MPIJob struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	// Specification of the desired behaviour of the job.
	// +optional
	Spec MPIJobSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	// Most recently observed status of the job. Written through the status
	// subresource only.
	// +optional
	Status JobStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// MPIJobList is a list of MPIJobs.
type MPIJobList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	metav1.ListMeta `json:"metadata" protobuf:"bytes,1,opt,name=metadata"`
	// Items is the list of MPIJobs.
	Items []MPIJob `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// MPIJobSpec is the desired state of an MPIJob.
type MPIJobSpec struct {
	// Number of slots per worker written into the hostfile.
	// +optional
	// +default=1
	SlotsPerWorker *int32 `json:"slotsPerWorker,omitempty" protobuf:"varint,1,opt,name=slotsPerWorker"`

	// Whether the launcher also runs MPI processes, as one more worker.
	// +optional
	// +default=false
	RunLauncherAsWorker *bool `json:"runLauncherAsWorker,omitempty" protobuf:"varint,2,opt,name=runLauncherAsWorker"`

	// Policies of the job's run: clean-up, deadlines, retries, gang
	// scheduling, suspension and the controller that manages it.
	// +optional
	RunPolicy *RunPolicy `json:"runPolicy,omitempty" protobuf:"bytes,3,opt,name=runPolicy"`

	// The launcher and worker replica specifications, keyed by Launcher and
	// Worker.
	MPIReplicaSpecs map[MPIReplicaType]*ReplicaSpec `json:"mpiReplicaSpecs" protobuf:"bytes,4,rep,name=mpiReplicaSpecs,castkey=MPIReplicaType"`

	// Directory where the SSH keys are mounted in the pods.
	// +optional
	// +default="/root/.ssh"
	SSHAuthMountPath string `json:"sshAuthMountPath,omitempty" protobuf:"bytes,5,opt,name=sshAuthMountPath"`

	// When the launcher is created: AtStartup, or WaitForWorkersReady.
	// +optional
	// +default="AtStartup"
	LauncherCreationPolicy LauncherCreationPolicy `json:"launcherCreationPolicy,omitempty" protobuf:"bytes,6,opt,name=launcherCreationPolicy,casttype=LauncherCreationPolicy"`

	// The MPI implementation: OpenMPI, Intel or MPICH.
	// +optional
	// +default="OpenMPI"
	MPIImplementation MPIImplementation `json:"mpiImplementation,omitempty" protobuf:"bytes,7,opt,name=mpiImplementation,casttype=MPIImplementation"`
}

// RunPolicy holds the policies of a job's run.
type RunPolicy struct {
	// Which pods are removed when the job finishes: All, Running or None.
	// The operator uses None when unset.
	// +optional
	CleanPodPolicy *CleanPodPolicy `json:"cleanPodPolicy,omitempty" protobuf:"bytes,1,opt,name=cleanPodPolicy,casttype=CleanPodPolicy"`

	// Seconds after the job finishes before it may be removed.
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty" protobuf:"varint,2,opt,name=ttlSecondsAfterFinished"`

	// Seconds from the start that the job may run.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty" protobuf:"varint,3,opt,name=activeDeadlineSeconds"`

	// Number of retries before the job is marked failed.
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty" protobuf:"varint,4,opt,name=backoffLimit"`

	// Gang-scheduling policy.
	// +optional
	SchedulingPolicy *SchedulingPolicy `json:"schedulingPolicy,omitempty" protobuf:"bytes,5,opt,name=schedulingPolicy"`

	// Whether the job is suspended: its pods are deleted and not recreated
	// until this is false again.
	// +optional
	// +default=false
	Suspend *bool `json:"suspend,omitempty" protobuf:"varint,6,opt,name=suspend"`

	// The controller that reconciles the job: kubeflow.org/mpi-operator or
	// kueue.x-k8s.io/multikueue. Unset means the mpi-operator. Immutable.
	// +optional
	ManagedBy *string `json:"managedBy,omitempty" protobuf:"bytes,7,opt,name=managedBy"`
}

// SchedulingPolicy configures gang scheduling.
type SchedulingPolicy struct {
	// Minimum number of pods that must be schedulable together.
	// +optional
	MinAvailable *int32 `json:"minAvailable,omitempty" protobuf:"varint,1,opt,name=minAvailable"`

	// Queue the job is scheduled from.
	// +optional
	Queue string `json:"queue,omitempty" protobuf:"bytes,2,opt,name=queue"`

	// A map, not mpi-operator's pointer to one, which protobuf cannot carry;
	// omitzero keeps {} apart from absent in JSON, as the pointer did.

	// Resources the gang needs as a whole.
	// +optional
	MinResources corev1.ResourceList `json:"minResources,omitzero" protobuf:"bytes,3,rep,name=minResources,casttype=k8s.io/api/core/v1.ResourceList,castkey=k8s.io/api/core/v1.ResourceName"`

	// Priority class of the gang.
	// +optional
	PriorityClass string `json:"priorityClass,omitempty" protobuf:"bytes,4,opt,name=priorityClass"`

	// Seconds the gang may wait to be scheduled (scheduler-plugins only).
	// +optional
	ScheduleTimeoutSeconds *int32 `json:"scheduleTimeoutSeconds,omitempty" protobuf:"varint,5,opt,name=scheduleTimeoutSeconds"`
}

// CleanPodPolicy says which pods are removed when a job finishes.
// +enum
type CleanPodPolicy string

const (
	CleanPodPolicyUndefined CleanPodPolicy = ""
	CleanPodPolicyAll       CleanPodPolicy = "All"
	CleanPodPolicyRunning   CleanPodPolicy = "Running"
	CleanPodPolicyNone      CleanPodPolicy = "None"
)

// Values of runPolicy.managedBy.
const (
	KubeflowJobController = "kubeflow.org/mpi-operator"
	MultiKueueController  = "kueue.x-k8s.io/multikueue"
)

// LauncherCreationPolicy says when the launcher is created. Like the v0.7.0
// CRD, the server accepts any value; the operator treats every value but
// AtStartup as WaitForWorkersReady.
type LauncherCreationPolicy string

const (
	LauncherCreationPolicyAtStartup           LauncherCreationPolicy = "AtStartup"
	LauncherCreationPolicyWaitForWorkersReady LauncherCreationPolicy = "WaitForWorkersReady"
)

// MPIReplicaType is a key of mpiReplicaSpecs and of replicaStatuses.
type MPIReplicaType string

const (
	MPIReplicaTypeLauncher MPIReplicaType = "Launcher"
	MPIReplicaTypeWorker   MPIReplicaType = "Worker"
)

// MPIImplementation names an MPI implementation.
// +enum
type MPIImplementation string

const (
	MPIImplementationOpenMPI MPIImplementation = "OpenMPI"
	MPIImplementationIntel   MPIImplementation = "Intel"
	MPIImplementationMPICH   MPIImplementation = "MPICH"
)
