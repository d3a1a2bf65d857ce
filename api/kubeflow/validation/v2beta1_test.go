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

package validation

import (
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// validV2beta1Job is a job as a v2beta1 client writes it after the CRD
// defaults, with one Worker.
func validV2beta1Job() *v2beta1.MPIJob {
	return &v2beta1.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "kube-test", ResourceVersion: "1", UID: "u-1"},
		Spec: v2beta1.MPIJobSpec{
			SlotsPerWorker:         ptr[int32](1),
			RunLauncherAsWorker:    ptr(false),
			SSHAuthMountPath:       "/root/.ssh",
			LauncherCreationPolicy: v2beta1.LauncherCreationPolicyAtStartup,
			MPIImplementation:      v2beta1.MPIImplementationOpenMPI,
			MPIReplicaSpecs: map[v2beta1.MPIReplicaType]*v2beta1.ReplicaSpec{
				v2beta1.MPIReplicaTypeLauncher: {Replicas: ptr[int32](1), Template: podTemplate("launcher", "mpioperator/mpi-pi:openmpi")},
				v2beta1.MPIReplicaTypeWorker:   {Replicas: ptr[int32](2), Template: podTemplate("worker", "mpioperator/mpi-pi:openmpi")},
			},
		},
	}
}

func v2Launcher(j *v2beta1.MPIJob) *v2beta1.ReplicaSpec {
	return j.Spec.MPIReplicaSpecs[v2beta1.MPIReplicaTypeLauncher]
}

func v2Worker(j *v2beta1.MPIJob) *v2beta1.ReplicaSpec {
	return j.Spec.MPIReplicaSpecs[v2beta1.MPIReplicaTypeWorker]
}

func v2Policy(j *v2beta1.MPIJob) *v2beta1.RunPolicy {
	if j.Spec.RunPolicy == nil {
		j.Spec.RunPolicy = &v2beta1.RunPolicy{}
	}
	return j.Spec.RunPolicy
}

func v2Containers(j *v2beta1.MPIJob) []corev1.Container {
	return v2Worker(j).Template.Spec.Containers
}

// expectErrorStrings compares the errors as a client reads them in a 422's
// message (path, type, value and detail), in any order.
func expectErrorStrings(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := make([]string, 0, len(errs))
	for _, e := range errs {
		got = append(got, e.Error())
	}
	sort.Strings(got)
	exp := append([]string(nil), want...)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("errors:\n got: %q\nwant: %q", got, exp)
	}
}

const (
	v2L = "spec.mpiReplicaSpecs[Launcher]"
	v2W = "spec.mpiReplicaSpecs[Worker]"
	v2C = v2W + ".template.spec.containers"
)

func TestValidateV2beta1MPIJob(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(j *v2beta1.MPIJob)
		want   []string
	}{
		{name: "valid", mutate: func(*v2beta1.MPIJob) {}},
		{name: "valid as sent, before any default", mutate: func(j *v2beta1.MPIJob) {
			j.Spec = v2beta1.MPIJobSpec{MPIReplicaSpecs: map[v2beta1.MPIReplicaType]*v2beta1.ReplicaSpec{
				v2beta1.MPIReplicaTypeLauncher: {Template: podTemplate("launcher", "x")},
				v2beta1.MPIReplicaTypeWorker:   {Replicas: ptr[int32](1), Template: podTemplate("worker", "x")},
			}}
		}},
		{name: "valid without Worker", mutate: func(j *v2beta1.MPIJob) { delete(j.Spec.MPIReplicaSpecs, v2beta1.MPIReplicaTypeWorker) }},
		{name: "valid with zeros and every enum value v2beta1 knows", mutate: func(j *v2beta1.MPIJob) {
			j.Spec.SlotsPerWorker = ptr[int32](0)
			j.Spec.MPIImplementation = v2beta1.MPIImplementationIntel
			j.Spec.RunPolicy = &v2beta1.RunPolicy{
				CleanPodPolicy:          ptr(v2beta1.CleanPodPolicyRunning),
				TTLSecondsAfterFinished: ptr[int32](0),
				ActiveDeadlineSeconds:   ptr[int64](0),
				BackoffLimit:            ptr[int32](0),
				ManagedBy:               ptr(v2beta1.MultiKueueController),
			}
			v2Launcher(j).RestartPolicy = v2beta1.RestartPolicyNever
			v2Worker(j).RestartPolicy = v2beta1.RestartPolicyOnFailure
		}},
		{name: "valid here, refused by the v1alpha2 rules", mutate: func(j *v2beta1.MPIJob) {
			j.Spec.MPIReplicaSpecs["PS"] = &v2beta1.ReplicaSpec{}
			v2Worker(j).Template.Spec.Containers[0].Image = ""
			v2Worker(j).Template.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
		}},

		// metadata
		{name: "name not a DNS-1035 label", mutate: func(j *v2beta1.MPIJob) { j.Name = "1pi" }, want: []string{
			`metadata.name: Invalid value: "1pi": the host name of the last worker pod, "1pi-worker-1", must be a DNS-1035 label: ` +
				`a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`}},
		{name: "name too long for the last worker", mutate: func(j *v2beta1.MPIJob) {
			j.Name = strings.Repeat("a", 54)
			v2Worker(j).Replicas = ptr[int32](100)
		}, want: []string{`metadata.name: Invalid value: "` + strings.Repeat("a", 54) + `": the host name of the last worker pod, "` +
			strings.Repeat("a", 54) + `-worker-99", must be a DNS-1035 label: must be no more than 63 characters`}},
		{name: "the same name fits fewer workers", mutate: func(j *v2beta1.MPIJob) {
			j.Name = strings.Repeat("a", 54)
			v2Worker(j).Replicas = ptr[int32](10)
		}},
		{name: "object meta still validated", mutate: func(j *v2beta1.MPIJob) { j.Labels = map[string]string{"a": "no good!"} }, want: []string{
			`metadata.labels: Invalid value: "no good!": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`}},

		// mpiReplicaSpecs
		{name: "no replica specs", mutate: func(j *v2beta1.MPIJob) { j.Spec.MPIReplicaSpecs = nil },
			want: []string{`spec.mpiReplicaSpecs: Required value: a Launcher replica spec is required`}},
		{name: "no Launcher", mutate: func(j *v2beta1.MPIJob) { delete(j.Spec.MPIReplicaSpecs, v2beta1.MPIReplicaTypeLauncher) },
			want: []string{v2L + `: Required value`}},
		{name: "null Launcher", mutate: func(j *v2beta1.MPIJob) { j.Spec.MPIReplicaSpecs[v2beta1.MPIReplicaTypeLauncher] = nil },
			want: []string{v2L + `: Required value`}},
		{name: "Launcher replicas 2", mutate: func(j *v2beta1.MPIJob) { v2Launcher(j).Replicas = ptr[int32](2) },
			want: []string{v2L + `.replicas: Invalid value: 2: must be 1: a job has exactly one launcher`}},
		{name: "Launcher replicas 0", mutate: func(j *v2beta1.MPIJob) { v2Launcher(j).Replicas = ptr[int32](0) },
			want: []string{v2L + `.replicas: Invalid value: 0: must be 1: a job has exactly one launcher`}},
		{name: "Worker replicas unset", mutate: func(j *v2beta1.MPIJob) { v2Worker(j).Replicas = nil },
			want: []string{v2W + `.replicas: Required value: must be at least 1: the operator takes an unset count as 0`}},
		{name: "Worker replicas 0", mutate: func(j *v2beta1.MPIJob) { v2Worker(j).Replicas = ptr[int32](0) },
			want: []string{v2W + `.replicas: Invalid value: 0: must be greater than or equal to 1`}},
		{name: "restartPolicy Always and ExitCode", mutate: func(j *v2beta1.MPIJob) {
			v2Launcher(j).RestartPolicy = v2beta1.RestartPolicyAlways
			v2Worker(j).RestartPolicy = v2beta1.RestartPolicyExitCode
		}, want: []string{
			v2L + `.restartPolicy: Unsupported value: "Always": supported values: "Never", "OnFailure"`,
			v2W + `.restartPolicy: Unsupported value: "ExitCode": supported values: "Never", "OnFailure"`,
		}},
		{name: "no containers", mutate: func(j *v2beta1.MPIJob) {
			v2Launcher(j).Template.Spec.Containers = nil
			v2Worker(j).Template.Spec.Containers = []corev1.Container{}
		}, want: []string{
			v2L + `.template.spec.containers: Required value: at least one container is required`,
			v2C + `: Required value: at least one container is required`,
		}},

		// spec and runPolicy
		{name: "negative numbers", mutate: func(j *v2beta1.MPIJob) {
			j.Spec.SlotsPerWorker = ptr[int32](-1)
			p := v2Policy(j)
			p.TTLSecondsAfterFinished = ptr[int32](-2)
			p.ActiveDeadlineSeconds = ptr[int64](-3)
			p.BackoffLimit = ptr[int32](-4)
		}, want: []string{
			`spec.slotsPerWorker: Invalid value: -1: must be greater than or equal to 0`,
			`spec.runPolicy.ttlSecondsAfterFinished: Invalid value: -2: must be greater than or equal to 0`,
			`spec.runPolicy.activeDeadlineSeconds: Invalid value: -3: must be greater than or equal to 0`,
			`spec.runPolicy.backoffLimit: Invalid value: -4: must be greater than or equal to 0`,
		}},
		{name: "cleanPodPolicy unknown", mutate: func(j *v2beta1.MPIJob) { v2Policy(j).CleanPodPolicy = ptr(v2beta1.CleanPodPolicy("Sometimes")) },
			want: []string{`spec.runPolicy.cleanPodPolicy: Unsupported value: "Sometimes": supported values: "All", "None", "Running"`}},
		{name: "cleanPodPolicy empty", mutate: func(j *v2beta1.MPIJob) { v2Policy(j).CleanPodPolicy = ptr(v2beta1.CleanPodPolicy("")) },
			want: []string{`spec.runPolicy.cleanPodPolicy: Unsupported value: "": supported values: "All", "None", "Running"`}},
		{name: "v1alpha2's IntelMPI", mutate: func(j *v2beta1.MPIJob) { j.Spec.MPIImplementation = "IntelMPI" },
			want: []string{`spec.mpiImplementation: Unsupported value: "IntelMPI": supported values: "Intel", "MPICH", "OpenMPI"`}},
		{name: "managedBy unknown", mutate: func(j *v2beta1.MPIJob) { v2Policy(j).ManagedBy = ptr("me") },
			want: []string{`spec.runPolicy.managedBy: Unsupported value: "me": supported values: "kubeflow.org/mpi-operator", "kueue.x-k8s.io/multikueue"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := validV2beta1Job()
			tc.mutate(j)
			before := j.DeepCopy()
			expectErrorStrings(t, ValidateV2beta1MPIJob(j), tc.want)
			if !apiequality.Semantic.DeepEqual(before, j) {
				t.Errorf("validation changed the job:\nbefore %+v\nafter  %+v", before.Spec, j.Spec)
			}
		})
	}
}
