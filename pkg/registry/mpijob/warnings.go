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
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// specWarnings points out values the client wrote that the v1alpha2
// operator will not use as written. They are legal (refusing them would
// break manifests that worked against the CRD), but a user reading the
// stored object should not be surprised by what runs.
func specWarnings(spec *kubeflow.MPIJobSpec) []string {
	var warnings []string
	specsPath := field.NewPath("spec", "mpiReplicaSpecs")
	for _, rt := range []kubeflow.MPIReplicaType{kubeflow.MPIReplicaTypeLauncher, kubeflow.MPIReplicaTypeWorker} {
		rs := spec.MPIReplicaSpecs[rt]
		if rs == nil {
			continue
		}
		rsPath := specsPath.Key(string(rt))
		// The operator overwrites the pod's policy with the replica's and
		// emits a SettedPodTemplateRestartPolicy event.
		if rs.Template.Spec.RestartPolicy != "" {
			warnings = append(warnings, fmt.Sprintf(
				"%s: ignored; the operator sets the pods' restart policy from %s",
				rsPath.Child("template", "spec", "restartPolicy"), rsPath.Child("restartPolicy")))
		}
		// The launcher is a batch/v1 Job, which only allows Never and
		// OnFailure; the operator turns anything but Never into OnFailure.
		if rt == kubeflow.MPIReplicaTypeLauncher &&
			(rs.RestartPolicy == kubeflow.RestartPolicyAlways || rs.RestartPolicy == kubeflow.RestartPolicyExitCode) {
			warnings = append(warnings, fmt.Sprintf(
				"%s: the operator runs the launcher with OnFailure instead of %s (a launcher Job allows only Never or OnFailure)",
				rsPath.Child("restartPolicy"), rs.RestartPolicy))
		}
	}
	return warnings
}
