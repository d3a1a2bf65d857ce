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
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

func ptr[T any](v T) *T { return &v }

// validJob is the seed's mpi-test job reduced to what the rules need.
func validJob() *kubeflow.MPIJob {
	return &kubeflow.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: "mpi-test", Namespace: "kube-test", ResourceVersion: "1", UID: "u-1"},
		Spec: kubeflow.MPIJobSpec{
			SlotsPerWorker: ptr[int32](1),
			MPIReplicaSpecs: map[kubeflow.MPIReplicaType]*kubeflow.ReplicaSpec{
				kubeflow.MPIReplicaTypeLauncher: {
					Replicas: ptr[int32](1),
					Template: podTemplate("launcher", "mpioperator/tensorflow-benchmarks:latest"),
				},
				kubeflow.MPIReplicaTypeWorker: {
					Replicas: ptr[int32](2),
					Template: podTemplate("worker", "mpioperator/tensorflow-benchmarks:latest"),
				},
			},
		},
	}
}

func podTemplate(name, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name:  name,
		Image: image,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
		},
	}}}}
}

func launcher(j *kubeflow.MPIJob) *kubeflow.ReplicaSpec {
	return j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher]
}

func worker(j *kubeflow.MPIJob) *kubeflow.ReplicaSpec {
	return j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker]
}

// wantErr is one expected error: its type and its exact field path.
type wantErr struct {
	typ  field.ErrorType
	path string
}

func (w wantErr) String() string { return fmt.Sprintf("%s %s", w.typ, w.path) }

func invalid(path string) wantErr      { return wantErr{field.ErrorTypeInvalid, path} }
func required(path string) wantErr     { return wantErr{field.ErrorTypeRequired, path} }
func notSupported(path string) wantErr { return wantErr{field.ErrorTypeNotSupported, path} }

// assertErrors compares errs with want as sets of (type, path), so a rule
// that reports the right field with the wrong type, or one error too many,
// fails.
func assertErrors(t *testing.T, errs field.ErrorList, want []wantErr) {
	t.Helper()
	got := make([]string, 0, len(errs))
	for _, e := range errs {
		got = append(got, wantErr{e.Type, e.Field}.String())
	}
	exp := make([]string, 0, len(want))
	for _, w := range want {
		exp = append(exp, w.String())
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("errors:\n got: %q\nwant: %q\nfull: %v", got, exp, errs.ToAggregate())
	}
}
