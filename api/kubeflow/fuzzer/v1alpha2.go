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

package fuzzer

import (
	"sigs.k8s.io/randfill"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// v1alpha2Funcs fill the v1alpha2 wire types.
func v1alpha2Funcs() []interface{} {
	return []interface{}{
		oneOf(v1alpha2.CleanPodPolicyAll, v1alpha2.CleanPodPolicyRunning, v1alpha2.CleanPodPolicyNone),
		oneOf(v1alpha2.MPIDistributionTypeOpenMPI, v1alpha2.MPIDistributionTypeIntelMPI, v1alpha2.MPIDistributionTypeMPICH),
		// "" is included: restartPolicy is a plain omitempty string, and
		// leaving it out is how clients leave it unset.
		oneOf("", v1alpha2.RestartPolicyAlways, v1alpha2.RestartPolicyOnFailure, v1alpha2.RestartPolicyNever, v1alpha2.RestartPolicyExitCode),
		oneOf(v1alpha2.MPIReplicaTypeLauncher, v1alpha2.MPIReplicaTypeWorker),
		oneOf[v1alpha2.ReplicaType]("Launcher", "Worker"),
		// Suspended has no v1alpha2 constant, but both versions accept it.
		oneOf(v1alpha2.JobCreated, v1alpha2.JobRunning, v1alpha2.JobRestarting, v1alpha2.JobSucceeded, v1alpha2.JobFailed, "Suspended"),

		func(j *v1alpha2.MPIJob, c randfill.Continue) {
			c.FillNoCustom(j)
			maybeReservedAnnotation(&j.ObjectMeta, c)
		},
		func(s *v1alpha2.MPIJobSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			maybeNil(c, &s.MPIDistribution)
			maybeNil(c, &s.CleanPodPolicy)
			maybeNil(c, &s.RunPolicy)
			mapShape(c, &s.MPIReplicaSpecs, v1alpha2.MPIReplicaTypeLauncher, v1alpha2.MPIReplicaTypeWorker)
			s.MainContainer = someString(c)
		},
		func(p *v1alpha2.RunPolicy, c randfill.Continue) {
			*p = v1alpha2.RunPolicy{}
			switch c.Intn(3) {
			case 0: // empty
			case 1:
				c.FillNoCustom(p)
				maybeNil(c, &p.CleanPodPolicy)
				maybeNil(c, &p.SchedulingPolicy)
			case 2:
				p.CleanPodPolicy = filled[v1alpha2.CleanPodPolicy](c)
				p.TTLSecondsAfterFinished = filled[int32](c)
				p.ActiveDeadlineSeconds = filled[int64](c)
				p.BackoffLimit = filled[int32](c)
				p.SchedulingPolicy = filled[v1alpha2.SchedulingPolicy](c)
			}
		},
		func(p *v1alpha2.SchedulingPolicy, c randfill.Continue) {
			*p = v1alpha2.SchedulingPolicy{}
			switch c.Intn(3) {
			case 0: // empty
			case 1:
				c.FillNoCustom(p)
				resourcesShape(c, &p.MinResources)
			case 2:
				p.MinAvailable = filled[int32](c)
				p.Queue = c.String(0)
				p.PriorityClass = c.String(0)
				resourcesShape(c, &p.MinResources)
			}
		},
		func(s *v1alpha2.JobStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			listShape(c, &s.Conditions)
			mapShape(c, &s.ReplicaStatuses, "Launcher", "Worker")
		},
		func(s *v1alpha2.ReplicaStatus, c randfill.Continue) {
			c.FillNoCustom(s)
		},
	}
}
