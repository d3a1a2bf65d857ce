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

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// hubFuncs fill the hub types, the union of both versions.
func hubFuncs() []interface{} {
	return []interface{}{
		oneOf(kubeflow.CleanPodPolicyAll, kubeflow.CleanPodPolicyRunning, kubeflow.CleanPodPolicyNone),
		oneOf(kubeflow.MPIDistributionTypeOpenMPI, kubeflow.MPIDistributionTypeIntelMPI, kubeflow.MPIDistributionTypeMPICH),
		// "" is included: restartPolicy is a plain omitempty string, and
		// leaving it out is how clients leave it unset.
		oneOf("", kubeflow.RestartPolicyAlways, kubeflow.RestartPolicyOnFailure, kubeflow.RestartPolicyNever, kubeflow.RestartPolicyExitCode),
		oneOf(kubeflow.MPIReplicaTypeLauncher, kubeflow.MPIReplicaTypeWorker),
		oneOf[kubeflow.ReplicaType]("Launcher", "Worker"),
		oneOf(kubeflow.JobCreated, kubeflow.JobRunning, kubeflow.JobRestarting, kubeflow.JobSucceeded, kubeflow.JobFailed, kubeflow.JobSuspended),
		oneOf("", kubeflow.LauncherCreationPolicyAtStartup, kubeflow.LauncherCreationPolicyWaitForWorkersReady),

		func(j *kubeflow.MPIJob, c randfill.Continue) {
			c.FillNoCustom(j)
			maybeReservedAnnotation(&j.ObjectMeta, c)
		},
		func(s *kubeflow.MPIJobSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			maybeNil(c, &s.MPIDistribution)
			maybeNil(c, &s.CleanPodPolicy)
			maybeNil(c, &s.RunPolicy)
			mapShape(c, &s.MPIReplicaSpecs, kubeflow.MPIReplicaTypeLauncher, kubeflow.MPIReplicaTypeWorker)
			s.MainContainer = someString(c)
			s.SSHAuthMountPath = someString(c)
		},
		func(p *kubeflow.RunPolicy, c randfill.Continue) {
			*p = kubeflow.RunPolicy{}
			switch c.Intn(4) {
			case 0: // empty
			case 1:
				c.FillNoCustom(p)
				maybeNil(c, &p.CleanPodPolicy)
				maybeNil(c, &p.SchedulingPolicy)
			case 2:
				p.CleanPodPolicy = filled[kubeflow.CleanPodPolicy](c)
				p.TTLSecondsAfterFinished = filled[int32](c)
				p.ActiveDeadlineSeconds = filled[int64](c)
				p.BackoffLimit = filled[int32](c)
				p.SchedulingPolicy = filled[kubeflow.SchedulingPolicy](c)
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
						p.SchedulingPolicy = &kubeflow.SchedulingPolicy{ScheduleTimeoutSeconds: filled[int32](c)}
					}
				}
			}
			if p.ManagedBy != nil {
				*p.ManagedBy = managedBy[c.Intn(len(managedBy))]
			}
		},
		func(p *kubeflow.SchedulingPolicy, c randfill.Continue) {
			*p = kubeflow.SchedulingPolicy{}
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
		func(s *kubeflow.JobStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			listShape(c, &s.Conditions)
			mapShape(c, &s.ReplicaStatuses, "Launcher", "Worker")
		},
		func(s *kubeflow.ReplicaStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			maybeNil(c, &s.LabelSelector)
			s.Selector = someString(c)
		},
	}
}
