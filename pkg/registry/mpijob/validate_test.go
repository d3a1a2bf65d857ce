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
	"context"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// versionContext is the context of a request to mpijobs in version.
func versionContext(version string) context.Context {
	return genericapirequest.WithRequestInfo(nsContext(), &genericapirequest.RequestInfo{
		IsResourceRequest: true, APIGroup: "kubeflow.org", APIVersion: version, Resource: "mpijobs", Namespace: testNamespace,
	})
}

func errorStrings(errs field.ErrorList) string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// The hub object is judged as the request's version shows it, so the
// errors name the fields the client wrote.
func TestValidateCreatePerVersion(t *testing.T) {
	s, _ := testStrategies()
	cases := []struct {
		name     string
		mutate   func(j *kubeflow.MPIJob)
		v1alpha2 string
		v2beta1  string
		internal string
	}{
		{name: "valid in both", mutate: func(*kubeflow.MPIJob) {}},
		{name: "the other version's Intel name", mutate: func(j *kubeflow.MPIJob) {
			j.Spec.MPIDistribution = ptr(kubeflow.MPIDistributionType("Intel"))
		},
			v1alpha2: `spec.mpiDistribution: Unsupported value: "Intel": supported values: "OpenMPI", "IntelMPI", "MPICH"`,
			v2beta1:  `spec.mpiImplementation: Unsupported value: "IntelMPI": supported values: "Intel", "MPICH", "OpenMPI"`,
			internal: `spec.mpiDistribution: Unsupported value: "Intel": supported values: "OpenMPI", "IntelMPI", "MPICH"`},
		{name: "top-level policies are runPolicy's in v2beta1", mutate: func(j *kubeflow.MPIJob) {
			j.Spec.CleanPodPolicy = ptr(kubeflow.CleanPodPolicy("Sometimes"))
			j.Spec.BackoffLimit = ptr[int32](-1)
		},
			v1alpha2: `spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0` + "\n" +
				`spec.cleanPodPolicy: Unsupported value: "Sometimes": supported values: "All", "Running", "None"`,
			v2beta1: `spec.runPolicy.backoffLimit: Invalid value: -1: must be greater than or equal to 0` + "\n" +
				`spec.runPolicy.cleanPodPolicy: Unsupported value: "Sometimes": supported values: "All", "None", "Running"`,
			internal: `spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0` + "\n" +
				`spec.cleanPodPolicy: Unsupported value: "Sometimes": supported values: "All", "Running", "None"`},
		{name: "no Worker", mutate: func(j *kubeflow.MPIJob) { delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeWorker) },
			v1alpha2: `spec.mpiReplicaSpecs[Worker]: Required value`,
			internal: `spec.mpiReplicaSpecs[Worker]: Required value`},
		{name: "restartPolicy ExitCode", mutate: func(j *kubeflow.MPIJob) {
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].RestartPolicy = "ExitCode"
		},
			v2beta1: `spec.mpiReplicaSpecs[Worker].restartPolicy: Unsupported value: "ExitCode": supported values: "Never", "OnFailure"`},
		{name: "name no DNS-1035 label", mutate: func(j *kubeflow.MPIJob) { j.Name = "1job" },
			v2beta1: `metadata.name: Invalid value: "1job": the host name of the last worker pod, "1job-worker-1", must be a DNS-1035 label: ` +
				`a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []struct {
				ctx  context.Context
				want string
			}{
				{versionContext("v1alpha2"), tc.v1alpha2},
				{versionContext("v2beta1"), tc.v2beta1},
				{nsContext(), tc.internal},
			} {
				j := newJob("a")
				tc.mutate(j)
				before := j.DeepCopy()
				if got := errorStrings(s.Validate(v.ctx, j)); got != v.want {
					t.Errorf("%s:\n got %q\nwant %q", requestVersion(v.ctx), got, v.want)
				}
				if !apiequality.Semantic.DeepEqual(before, j) {
					t.Errorf("%s: validation changed the job", requestVersion(v.ctx))
				}
			}
		})
	}
}

// A job stored by one version's rules can be written back in the other.
func TestValidateUpdateAcrossVersions(t *testing.T) {
	s, _ := testStrategies()
	noWorker := newJob("a")
	noWorker.ResourceVersion = "3"
	delete(noWorker.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeWorker)
	exitCode := newJob("a")
	exitCode.ResourceVersion = "3"
	exitCode.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].RestartPolicy = kubeflow.RestartPolicyExitCode

	cases := []struct {
		name    string
		version string
		old     *kubeflow.MPIJob
		mutate  func(j *kubeflow.MPIJob)
		want    string
	}{
		{"v2beta1 job without Worker, written back in v1alpha2", "v1alpha2", noWorker, func(*kubeflow.MPIJob) {}, ""},
		{"v2beta1 job without Worker, relabelled in v1alpha2", "v1alpha2", noWorker, func(j *kubeflow.MPIJob) { j.Labels = map[string]string{"a": "b"} }, ""},
		{"v2beta1 job without Worker, launcher edited in v1alpha2", "v1alpha2", noWorker, func(j *kubeflow.MPIJob) {
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher].Template.Spec.Containers[0].Image = "other"
		}, ""},
		{"v1alpha2 job with ExitCode, written back in v2beta1", "v2beta1", exitCode, func(*kubeflow.MPIJob) {}, ""},
		{"v1alpha2 job with ExitCode, scaled in v2beta1", "v2beta1", exitCode, func(j *kubeflow.MPIJob) {
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas = ptr[int32](5)
		}, ""},
		{"v1alpha2 job with ExitCode, changed to Always in v2beta1", "v2beta1", exitCode, func(j *kubeflow.MPIJob) {
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].RestartPolicy = kubeflow.RestartPolicyAlways
		}, `spec.mpiReplicaSpecs[Worker].restartPolicy: Unsupported value: "Always": supported values: "Never", "OnFailure"`},
		{"managedBy set in v1alpha2 carry-over is immutable in v2beta1", "v2beta1", noWorker, func(j *kubeflow.MPIJob) {
			j.Spec.RunPolicy = &kubeflow.RunPolicy{ManagedBy: ptr("kueue.x-k8s.io/multikueue")}
		}, `spec.runPolicy.managedBy: Invalid value: "kueue.x-k8s.io/multikueue": field is immutable`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			newJob := tc.old.DeepCopy()
			tc.mutate(newJob)
			if got := errorStrings(s.ValidateUpdate(versionContext(tc.version), newJob, tc.old)); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestValidateStatusUpdatePerVersion(t *testing.T) {
	_, st := testStrategies()
	withConditions := func(types ...kubeflow.JobConditionType) *kubeflow.MPIJob {
		j := newJob("a")
		j.ResourceVersion = "3"
		for _, ct := range types {
			j.Status.Conditions = append(j.Status.Conditions, kubeflow.JobCondition{Type: ct, Status: corev1.ConditionTrue})
		}
		return j
	}
	cases := []struct {
		name     string
		old, new *kubeflow.MPIJob
		v1alpha2 string
		v2beta1  string
	}{
		{name: "Suspended", old: withConditions("Created"), new: withConditions("Created", "Suspended")},
		{name: "a type only v2beta1 accepts", old: withConditions("Created"), new: withConditions("Created", "QuotaReserved"),
			v1alpha2: `status.conditions[1].type: Unsupported value: "QuotaReserved": supported values: "Created", "Running", "Restarting", "Succeeded", "Suspended", "Failed"`},
		{name: "that type stored, a condition appended", old: withConditions("QuotaReserved"), new: withConditions("QuotaReserved", "Running")},
		{name: "a duplicate added", old: withConditions("Created"), new: withConditions("Created", "Created"),
			v2beta1: `status.conditions[1]: Duplicate value: {"type":"Created"}`},
		{name: "a stored duplicate written back", old: withConditions("Created", "Created"), new: withConditions("Created", "Created", "Running")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for version, want := range map[string]string{"v1alpha2": tc.v1alpha2, "v2beta1": tc.v2beta1} {
				if got := errorStrings(st.ValidateUpdate(versionContext(version), tc.new, tc.old)); got != want {
					t.Errorf("%s: got %q\nwant %q", version, got, want)
				}
			}
		})
	}
}
