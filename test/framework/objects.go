package framework

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// ReplicaSpec is a minimal valid replica spec: one container with a name
// and an image, and the given replicas (nil leaves them unset).
func ReplicaSpec(replicas *int32) *v1alpha2.ReplicaSpec {
	return &v1alpha2.ReplicaSpec{
		Replicas: replicas,
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "mpi", Image: "mpi:latest"}},
		}},
	}
}
