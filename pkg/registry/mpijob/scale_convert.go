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

package mpijob

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// workerReplicasPaths is where spec.replicas of /scale lives in each
// version. Server-side apply moves ownership between the two by it, and
// drops the managedFields entries of a version missing here, so every
// version the storage can serve is listed, enabled or not.
var workerReplicasPaths = func() managedfields.ResourcePathMappings {
	path := fieldpath.MakePathOrDie("spec", "mpiReplicaSpecs", string(kubeflow.MPIReplicaTypeWorker), "replicas")
	out := make(managedfields.ResourcePathMappings, len(servedVersions))
	for _, v := range servedVersions {
		out[v] = path
	}
	return out
}()

// scaleFromJob is the autoscaling/v1 view of a job: its workers.
//
// spec.replicas is spec.mpiReplicaSpecs[Worker].replicas, 0 when the job
// has no Worker spec or leaves its count unset. status.replicas is the
// Worker status's active count. status.selector is the Worker status's
// selector string when the operator set it, else its labelSelector written
// as a string, else "" (the v1alpha2 operator sets neither, and an
// unparsable labelSelector is also ""): a horizontal autoscaler then cannot
// find the pods and says so, which is better than failing every read.
func scaleFromJob(job *kubeflow.MPIJob) *autoscalingv1.Scale {
	scale := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name:              job.Name,
			Namespace:         job.Namespace,
			UID:               job.UID,
			ResourceVersion:   job.ResourceVersion,
			CreationTimestamp: job.CreationTimestamp,
		},
	}
	if w := job.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker]; w != nil && w.Replicas != nil {
		scale.Spec.Replicas = *w.Replicas
	}
	if s := job.Status.ReplicaStatuses[kubeflow.ReplicaType(kubeflow.MPIReplicaTypeWorker)]; s != nil {
		scale.Status.Replicas = s.Active
		scale.Status.Selector = workerSelector(s)
	}
	return scale
}

func workerSelector(s *kubeflow.ReplicaStatus) string {
	if s.Selector != "" {
		return s.Selector
	}
	if s.LabelSelector == nil {
		return ""
	}
	selector, err := metav1.LabelSelectorAsSelector(s.LabelSelector)
	if err != nil {
		return ""
	}
	return selector.String()
}
