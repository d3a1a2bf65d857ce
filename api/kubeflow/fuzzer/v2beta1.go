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

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// v2beta1Funcs fill the v2beta1 wire types.
func v2beta1Funcs() []interface{} {
	return []interface{}{
		oneOf(v2beta1.CleanPodPolicyAll, v2beta1.CleanPodPolicyRunning, v2beta1.CleanPodPolicyNone),
		// "" is how a client leaves mpiImplementation unset.
		oneOf("", v2beta1.MPIImplementationOpenMPI, v2beta1.MPIImplementationIntel, v2beta1.MPIImplementationMPICH),
		// "" is included: restartPolicy is a plain omitempty string, and
		// leaving it out is how clients leave it unset.
		oneOf("", v2beta1.RestartPolicyAlways, v2beta1.RestartPolicyOnFailure, v2beta1.RestartPolicyNever, v2beta1.RestartPolicyExitCode),
		oneOf(v2beta1.MPIReplicaTypeLauncher, v2beta1.MPIReplicaTypeWorker),
		oneOf(v2beta1.JobCreated, v2beta1.JobRunning, v2beta1.JobRestarting, v2beta1.JobSucceeded, v2beta1.JobFailed, v2beta1.JobSuspended),
		oneOf("", v2beta1.LauncherCreationPolicyAtStartup, v2beta1.LauncherCreationPolicyWaitForWorkersReady),

		func(j *v2beta1.MPIJob, c randfill.Continue) {
			c.FillNoCustom(j)
			maybeReservedAnnotation(&j.ObjectMeta, c)
		},
		func(s *v2beta1.MPIJobSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			maybeNil(c, &s.RunPolicy)
			mapShape(c, &s.MPIReplicaSpecs, v2beta1.MPIReplicaTypeLauncher, v2beta1.MPIReplicaTypeWorker)
			s.SSHAuthMountPath = someString(c)
		},
		func(p *v2beta1.RunPolicy, c randfill.Continue) {
			*p = v2beta1.RunPolicy{}
			switch c.Intn(4) {
			case 0: // empty
			case 1:
				c.FillNoCustom(p)
				maybeNil(c, &p.CleanPodPolicy)
				maybeNil(c, &p.SchedulingPolicy)
			case 2:
				p.CleanPodPolicy = filled[v2beta1.CleanPodPolicy](c)
				p.TTLSecondsAfterFinished = filled[int32](c)
				p.ActiveDeadlineSeconds = filled[int64](c)
				p.BackoffLimit = filled[int32](c)
				p.SchedulingPolicy = filled[v2beta1.SchedulingPolicy](c)
				p.Suspend = filled[bool](c)
				p.ManagedBy = new(string)
			case 3: // only what v1alpha2 cannot express
				for p.Suspend == nil && p.ManagedBy == nil && p.SchedulingPolicy == nil {
					if c.Bool() {
						p.Suspend = filled[bool](c)
					}
					if c.Bool() {
						p.ManagedBy = new(string)
					}
					if c.Bool() {
						p.SchedulingPolicy = &v2beta1.SchedulingPolicy{ScheduleTimeoutSeconds: filled[int32](c)}
					}
				}
			}
			if p.ManagedBy != nil {
				*p.ManagedBy = managedBy[c.Intn(len(managedBy))]
			}
		},
		func(p *v2beta1.SchedulingPolicy, c randfill.Continue) {
			*p = v2beta1.SchedulingPolicy{}
			switch c.Intn(4) {
			case 0: // empty
			case 1:
				c.FillNoCustom(p)
				resourcesShape(c, &p.MinResources)
			case 2:
				p.MinAvailable = filled[int32](c)
				p.Queue = c.String(0)
				p.PriorityClass = c.String(0)
				resourcesShape(c, &p.MinResources)
				p.ScheduleTimeoutSeconds = filled[int32](c)
			case 3: // only what v1alpha2 cannot express
				p.ScheduleTimeoutSeconds = filled[int32](c)
			}
		},
		func(s *v2beta1.JobStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			listShape(c, &s.Conditions)
			mapShape(c, &s.ReplicaStatuses, v2beta1.MPIReplicaTypeLauncher, v2beta1.MPIReplicaTypeWorker)
		},
		func(s *v2beta1.ReplicaStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			maybeNil(c, &s.LabelSelector)
			s.Selector = someString(c)
		},
	}
}
