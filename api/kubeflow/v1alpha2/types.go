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

package v1alpha2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s.io/api/autoscaling/v1.Scale
// +genclient:method=UpdateScale,verb=update,subresource=scale,input=k8s.io/api/autoscaling/v1.Scale,result=k8s.io/api/autoscaling/v1.Scale
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// MPIJob describes a distributed MPI training job: one launcher that runs
// mpirun and a set of workers it reaches over kubexec.
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
	// Number of slots per worker written into the hostfile. The operator uses 1
	// when unset.
	// +optional
	SlotsPerWorker *int32 `json:"slotsPerWorker,omitempty" protobuf:"varint,1,opt,name=slotsPerWorker"`

	// Number of retries before the launcher is marked failed. The operator
	// uses 6 when unset.
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty" protobuf:"varint,2,opt,name=backoffLimit"`

	// Seconds from the start that the launcher may run; takes precedence over
	// backoffLimit.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty" protobuf:"varint,3,opt,name=activeDeadlineSeconds"`

	// What happens to the pods once the job finishes. The operator uses None
	// when unset.
	// +optional
	CleanPodPolicy *CleanPodPolicy `json:"cleanPodPolicy,omitempty" protobuf:"bytes,4,opt,name=cleanPodPolicy,casttype=CleanPodPolicy"`

	// The launcher and worker replica specifications, keyed by Launcher and
	// Worker.
	MPIReplicaSpecs map[MPIReplicaType]*ReplicaSpec `json:"mpiReplicaSpecs" protobuf:"bytes,5,rep,name=mpiReplicaSpecs,castkey=MPIReplicaType"`

	// Name of the container that runs the MPI code.
	// +optional
	MainContainer string `json:"mainContainer,omitempty" protobuf:"bytes,6,opt,name=mainContainer"`

	// Run-time policies; its backoffLimit and activeDeadlineSeconds override
	// the top-level ones.
	// +optional
	RunPolicy *RunPolicy `json:"runPolicy,omitempty" protobuf:"bytes,7,opt,name=runPolicy"`

	// The MPI implementation; the operator uses OpenMPI when unset.
	// +optional
	MPIDistribution *MPIDistributionType `json:"mpiDistribution,omitempty" protobuf:"bytes,8,opt,name=mpiDistribution,casttype=MPIDistributionType"`
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
