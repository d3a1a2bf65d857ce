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

// ReplicaSpec describes the pods of one replica type.
type ReplicaSpec struct {
	// Desired number of pods: Launcher 1; Worker at least 1.
	// +optional
	Replicas *int32 `json:"replicas,omitempty" protobuf:"varint,1,opt,name=replicas"`

	// Pod template of every replica of this type.
	// +optional
	Template corev1.PodTemplateSpec `json:"template,omitempty" protobuf:"bytes,2,opt,name=template"`

	// Restart policy of the replicas: Never or OnFailure. The operator uses
	// OnFailure for the launcher and Never for workers when unset.
	// +optional
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty" protobuf:"bytes,3,opt,name=restartPolicy,casttype=RestartPolicy"`
}

// RestartPolicy is a replica's restart policy.
type RestartPolicy string

const (
	RestartPolicyAlways    RestartPolicy = "Always"
	RestartPolicyOnFailure RestartPolicy = "OnFailure"
	RestartPolicyNever     RestartPolicy = "Never"
	// RestartPolicyExitCode treats exit codes 1-127 as permanent failures and
	// 128-255 as retryable.
	RestartPolicyExitCode RestartPolicy = "ExitCode"
)

// JobStatus is the observed state of an MPIJob.
type JobStatus struct {
	// Observed conditions, oldest first; the last one with status True is the
	// job's current state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []JobCondition `json:"conditions,omitempty" protobuf:"bytes,1,rep,name=conditions"`

	// Per replica type counts, keyed by Launcher and Worker.
	// +optional
	ReplicaStatuses map[MPIReplicaType]*ReplicaStatus `json:"replicaStatuses,omitempty" protobuf:"bytes,2,rep,name=replicaStatuses,castkey=MPIReplicaType"`

	// When the operator first acknowledged the job.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty" protobuf:"bytes,3,opt,name=startTime"`

	// When the job finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty" protobuf:"bytes,4,opt,name=completionTime"`

	// When the job was last reconciled.
	// +optional
	LastReconcileTime *metav1.Time `json:"lastReconcileTime,omitempty" protobuf:"bytes,5,opt,name=lastReconcileTime"`
}

// ReplicaStatus counts the pods of one replica type.
type ReplicaStatus struct {
	// Number of running pods.
	// +optional
	Active int32 `json:"active,omitempty" protobuf:"varint,1,opt,name=active"`

	// Number of pods that succeeded.
	// +optional
	Succeeded int32 `json:"succeeded,omitempty" protobuf:"varint,2,opt,name=succeeded"`

	// Number of pods that failed.
	// +optional
	Failed int32 `json:"failed,omitempty" protobuf:"varint,3,opt,name=failed"`

	// Selector of the replica type's pods. Deprecated: use selector.
	// +optional
	// +mapType=atomic
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty" protobuf:"bytes,4,opt,name=labelSelector"`

	// Selector of the replica type's pods, in the string form of a label
	// selector; the Worker's is the /scale selector.
	// +optional
	Selector string `json:"selector,omitempty" protobuf:"bytes,5,opt,name=selector"`
}

// JobCondition is one observed condition of a job.
type JobCondition struct {
	// Type of the condition.
	Type JobConditionType `json:"type" protobuf:"bytes,1,opt,name=type,casttype=JobConditionType"`
	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status" protobuf:"bytes,2,opt,name=status,casttype=k8s.io/api/core/v1.ConditionStatus"`
	// Machine-readable reason of the last transition.
	// +optional
	Reason string `json:"reason,omitempty" protobuf:"bytes,3,opt,name=reason"`
	// Human-readable details of the last transition.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,4,opt,name=message"`
	// When the condition was last updated.
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty" protobuf:"bytes,5,opt,name=lastUpdateTime"`
	// When the condition last changed status.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty" protobuf:"bytes,6,opt,name=lastTransitionTime"`
}

// JobConditionType is the type of a job condition.
type JobConditionType string

const (
	JobCreated    JobConditionType = "Created"
	JobRunning    JobConditionType = "Running"
	JobRestarting JobConditionType = "Restarting"
	JobSucceeded  JobConditionType = "Succeeded"
	JobSuspended  JobConditionType = "Suspended"
	JobFailed     JobConditionType = "Failed"
)
