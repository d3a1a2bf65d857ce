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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The types below are the kubeflow/common job types that v1alpha2 embeds,
// with the JSON they had in every v1alpha2 release.

// ReplicaSpec describes one kind of replica (the launcher or the workers).
type ReplicaSpec struct {
	// Desired number of pods.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// Pod template of every replica of this type.
	// +optional
	Template corev1.PodTemplateSpec `json:"template,omitempty"`

	// Restart policy of the replicas; it overrides the template's.
	// +optional
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty"`
}

// RestartPolicy is the restart policy of a replica type.
// +enum
type RestartPolicy string

const (
	RestartPolicyAlways    RestartPolicy = "Always"
	RestartPolicyOnFailure RestartPolicy = "OnFailure"
	RestartPolicyNever     RestartPolicy = "Never"
	// RestartPolicyExitCode treats exit codes 1-127 as permanent failures and
	// 128-255 as retryable.
	RestartPolicyExitCode RestartPolicy = "ExitCode"
)

// RunPolicy holds run-time policies of a job.
type RunPolicy struct {
	// Which pods are removed when the job finishes.
	// +optional
	CleanPodPolicy *CleanPodPolicy `json:"cleanPodPolicy,omitempty"`

	// Seconds after the job finishes before it may be removed.
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`

	// Seconds from the start that the job may run.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`

	// Number of retries before the job is marked failed.
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`

	// Gang-scheduling policy.
	// +optional
	SchedulingPolicy *SchedulingPolicy `json:"schedulingPolicy,omitempty"`

	// Whether the job is suspended (v2beta1 only).
	// +optional
	Suspend *bool `json:"suspend,omitempty"`

	// The controller that reconciles the job (v2beta1 only).
	// +optional
	ManagedBy *string `json:"managedBy,omitempty"`
}

// SchedulingPolicy holds gang-scheduling settings.
type SchedulingPolicy struct {
	// Minimum number of pods that must be schedulable together.
	// +optional
	MinAvailable *int32 `json:"minAvailable,omitempty"`

	// Queue the job is scheduled from.
	// +optional
	Queue string `json:"queue,omitempty"`

	// A map, not mpi-operator's pointer to one, which protobuf cannot carry;
	// omitzero keeps {} apart from absent in JSON, as the pointer did.

	// Resources the gang needs as a whole.
	// +optional
	MinResources corev1.ResourceList `json:"minResources,omitzero"`

	// Priority class of the gang.
	// +optional
	PriorityClass string `json:"priorityClass,omitempty"`

	// Seconds the gang may wait to be scheduled (v2beta1 only).
	// +optional
	ScheduleTimeoutSeconds *int32 `json:"scheduleTimeoutSeconds,omitempty"`
}

// JobStatus is the observed state of a job, written by the operator through
// the status subresource.
type JobStatus struct {
	// Observed conditions, oldest first; the last one with status True is the
	// job's current state.
	// +listType=atomic
	Conditions []JobCondition `json:"conditions"`

	// Per replica type counts, keyed by Launcher and Worker.
	ReplicaStatuses map[ReplicaType]*ReplicaStatus `json:"replicaStatuses"`

	// When the operator first acknowledged the job.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// When the job finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// When the job was last reconciled.
	// +optional
	LastReconcileTime *metav1.Time `json:"lastReconcileTime,omitempty"`
}

// ReplicaType is a key of status.replicaStatuses.
type ReplicaType string

// ReplicaStatus counts the pods of one replica type.
type ReplicaStatus struct {
	// Number of running pods.
	// +optional
	Active int32 `json:"active,omitempty"`

	// Number of pods that succeeded.
	// +optional
	Succeeded int32 `json:"succeeded,omitempty"`

	// Number of pods that failed.
	// +optional
	Failed int32 `json:"failed,omitempty"`

	// Selector of the replica type's pods (v2beta1 only).
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`

	// Selector of the replica type's pods as a string (v2beta1 only).
	// +optional
	Selector string `json:"selector,omitempty"`
}

// JobCondition is one observed condition of a job.
type JobCondition struct {
	// Type of the condition.
	Type JobConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// Machine-readable reason of the last transition.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Human-readable details of the last transition.
	// +optional
	Message string `json:"message,omitempty"`
	// When the condition was last updated.
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`
	// When the condition last changed status.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// JobConditionType is the type of a job condition.
// +enum
type JobConditionType string

const (
	JobCreated    JobConditionType = "Created"
	JobRunning    JobConditionType = "Running"
	JobRestarting JobConditionType = "Restarting"
	JobSucceeded  JobConditionType = "Succeeded"
	JobFailed     JobConditionType = "Failed"
	// JobSuspended is written by the v2beta1 operator; both versions accept it.
	JobSuspended JobConditionType = "Suspended"
)
