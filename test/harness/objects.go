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

package harness

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// SeedJobForTest is SeedJob named namespace/name that fails t on an error.
func SeedJobForTest(t testing.TB, namespace, name string) Object {
	t.Helper()
	o, err := SeedJob()
	if err != nil {
		t.Fatal(err)
	}
	md := o["metadata"].(Object)
	md["namespace"], md["name"] = namespace, name
	return o
}

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

// NewMPIJob is a small valid MPIJob: one launcher and workers workers, one
// container each.
func NewMPIJob(namespace, name string, workers int32) *v1alpha2.MPIJob {
	one := int32(1)
	container := func(image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "mpi", Image: image}}}}
	}
	return &v1alpha2.MPIJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "kubeflow.org/v1alpha2", Kind: "MPIJob"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha2.MPIJobSpec{
			SlotsPerWorker: &one,
			MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
				v1alpha2.MPIReplicaTypeLauncher: {Replicas: &one, Template: container("mpi-launcher:1")},
				v1alpha2.MPIReplicaTypeWorker:   {Replicas: &workers, Template: container("mpi-worker:1")},
			},
		},
	}
}

// MPIJobJSON is NewMPIJob as JSON, for kubectl -f - and raw requests,
// without the empty status and creationTimestamp that encoding the type
// gives (a user's manifest has neither).
func MPIJobJSON(namespace, name string, workers int32) string {
	data, err := json.Marshal(NewMPIJob(namespace, name, workers))
	if err != nil {
		panic(err)
	}
	var m Object
	if err := json.Unmarshal(data, &m); err != nil {
		panic(err)
	}
	delete(m, "status")
	delete(m["metadata"].(Object), "creationTimestamp")
	if data, err = json.Marshal(m); err != nil {
		panic(err)
	}
	return string(data)
}
