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
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/install"
)

func testStrategies() (mpiJobStrategy, statusStrategy) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	s := newStrategy(scheme)
	return s, newStatusStrategy(s)
}

func TestStrategyBasics(t *testing.T) {
	s, _ := testStrategies()
	ctx := context.Background()
	if !s.NamespaceScoped() || s.AllowCreateOnUpdate(ctx) || !s.AllowUnconditionalUpdate(ctx) {
		t.Errorf("namespaced=%v allowCreateOnUpdate=%v allowUnconditionalUpdate=%v; want true false true",
			s.NamespaceScoped(), s.AllowCreateOnUpdate(ctx), s.AllowUnconditionalUpdate(ctx))
	}
}

func TestPrepareForCreate(t *testing.T) {
	s, _ := testStrategies()
	j := newJob("a")
	j.Status = finishedStatus()
	j.Generation = 7
	s.PrepareForCreate(context.Background(), j)
	if len(j.Status.Conditions) != 0 || len(j.Status.ReplicaStatuses) != 0 {
		t.Errorf("status survived create: %+v", j.Status)
	}
	if j.Generation != 1 {
		t.Errorf("generation = %d, want 1", j.Generation)
	}
}

func TestPrepareForUpdateGeneration(t *testing.T) {
	s, _ := testStrategies()
	cases := []struct {
		name   string
		mutate func(j *kubeflow.MPIJob)
		want   int64
	}{
		{"no change", func(*kubeflow.MPIJob) {}, 3},
		{"labels only", func(j *kubeflow.MPIJob) { j.Labels = map[string]string{"a": "b"} }, 3},
		{"status only (dropped)", func(j *kubeflow.MPIJob) { j.Status = finishedStatus() }, 3},
		{"same quantity, other spelling", func(j *kubeflow.MPIJob) {
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Template.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("1000m")
		}, 3},
		{"workers scaled", func(j *kubeflow.MPIJob) {
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas = ptr[int32](4)
		}, 4},
		{"mainContainer set", func(j *kubeflow.MPIJob) { j.Spec.MainContainer = "mpi" }, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldJob := newJob("a")
			oldJob.Generation = 3
			oldJob.Status.Conditions = []kubeflow.JobCondition{cond("Created", corev1.ConditionTrue)}
			newJob := oldJob.DeepCopy()
			newJob.Status = kubeflow.JobStatus{}
			tc.mutate(newJob)
			s.PrepareForUpdate(context.Background(), newJob, oldJob)
			if newJob.Generation != tc.want {
				t.Errorf("generation = %d, want %d", newJob.Generation, tc.want)
			}
			if len(newJob.Status.Conditions) != 1 || newJob.Status.Conditions[0].Type != kubeflow.JobCreated {
				t.Errorf("the stored status was not kept: %+v", newJob.Status)
			}
		})
	}
}

func TestStatusPrepareForUpdate(t *testing.T) {
	_, st := testStrategies()
	oldJob := newJob("a")
	oldJob.Generation = 2
	oldJob.Labels = map[string]string{"keep": "me"}
	oldJob.Finalizers = []string{"example.com/keep"}
	newJob := oldJob.DeepCopy()
	newJob.Spec.SlotsPerWorker = ptr[int32](8)
	newJob.Labels = map[string]string{"changed": "yes"}
	newJob.Annotations = map[string]string{"added": "yes"}
	newJob.Finalizers = nil
	newJob.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "mpi-operator", Subresource: "status"}}
	newJob.Status = finishedStatus()

	st.PrepareForUpdate(context.Background(), newJob, oldJob)

	if *newJob.Spec.SlotsPerWorker != 1 {
		t.Errorf("spec written through /status: slotsPerWorker = %d", *newJob.Spec.SlotsPerWorker)
	}
	if newJob.Labels["keep"] != "me" || newJob.Labels["changed"] != "" || newJob.Annotations != nil || len(newJob.Finalizers) != 1 {
		t.Errorf("metadata written through /status: labels %v annotations %v finalizers %v", newJob.Labels, newJob.Annotations, newJob.Finalizers)
	}
	if newJob.Generation != 2 {
		t.Errorf("generation = %d, want 2", newJob.Generation)
	}
	if len(newJob.ManagedFields) != 1 || newJob.ManagedFields[0].Manager != "mpi-operator" {
		t.Errorf("managedFields of the status writer lost: %v", newJob.ManagedFields)
	}
	if kubeflow.State(&newJob.Status) != kubeflow.JobSucceeded {
		t.Errorf("status not taken: %+v", newJob.Status)
	}
}

func TestGetResetFields(t *testing.T) {
	s, st := testStrategies()
	check := func(name string, got map[fieldpath.APIVersion]*fieldpath.Set, want ...fieldpath.Path) {
		t.Helper()
		if len(got) != 2 {
			t.Fatalf("%s: reset fields keyed %v, want kubeflow.org/v1alpha2 and kubeflow.org/v2beta1", name, got)
		}
		wantSet := fieldpath.NewSet()
		for _, w := range want {
			wantSet.Insert(w)
		}
		for _, version := range []fieldpath.APIVersion{"kubeflow.org/v1alpha2", "kubeflow.org/v2beta1"} {
			set, ok := got[version]
			if !ok {
				t.Fatalf("%s: no reset fields for %s in %v", name, version, got)
			}
			if !set.Equals(wantSet) {
				t.Errorf("%s: %s reset fields %v, want %v", name, version, set, wantSet)
			}
		}
	}
	check("main", s.GetResetFields(), fieldpath.MakePathOrDie("status"),
		fieldpath.MakePathOrDie("metadata", "annotations", "internal.mpijob-apiserver.kubeflow.org/preserved"))
	check("status", st.GetResetFields(), fieldpath.MakePathOrDie("metadata"), fieldpath.MakePathOrDie("spec"))
}

func TestWarnings(t *testing.T) {
	s, st := testStrategies()
	ctx := context.Background()
	j := newJob("a")
	if w := s.WarningsOnCreate(ctx, j); len(w) != 0 {
		t.Errorf("warnings for the seed job: %v", w)
	}

	j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher].RestartPolicy = kubeflow.RestartPolicyExitCode
	w := s.WarningsOnCreate(ctx, j)
	if len(w) != 2 ||
		!strings.HasPrefix(w[0], "spec.mpiReplicaSpecs[Launcher].restartPolicy: ") ||
		!strings.HasPrefix(w[1], "spec.mpiReplicaSpecs[Worker].template.spec.restartPolicy: ") {
		t.Errorf("warnings = %q", w)
	}

	// On update only when the spec changed (the generation moved).
	oldJob := j.DeepCopy()
	oldJob.Generation = 1
	relabelled := oldJob.DeepCopy()
	relabelled.Labels = map[string]string{"a": "b"}
	if w := s.WarningsOnUpdate(ctx, relabelled, oldJob); len(w) != 0 {
		t.Errorf("warnings on a label change: %v", w)
	}
	scaled := oldJob.DeepCopy()
	scaled.Generation = 2
	if w := s.WarningsOnUpdate(ctx, scaled, oldJob); len(w) != 2 {
		t.Errorf("warnings on a spec change = %q, want 2", w)
	}
	if w := st.WarningsOnUpdate(ctx, scaled, oldJob); len(w) != 0 {
		t.Errorf("status writes warn: %v", w)
	}
}

// The generic registry validates metadata on every update by itself; the
// strategy must not report the same problem a second time.
func TestValidateUpdateDoesNotRepeatGenericMetaErrors(t *testing.T) {
	s, st := testStrategies()
	ctx := context.Background()
	oldJob := newJob("a")
	oldJob.ResourceVersion = "5"
	newJob := oldJob.DeepCopy()
	newJob.Labels = map[string]string{"a": "not valid!"}
	if errs := s.ValidateUpdate(ctx, newJob, oldJob); len(errs) != 0 {
		t.Errorf("repeated generic errors: %v", errs)
	}
	if errs := st.ValidateUpdate(ctx, newJob, oldJob); len(errs) != 0 {
		t.Errorf("status: repeated generic errors: %v", errs)
	}

	newJob.Spec.SlotsPerWorker = ptr[int32](0)
	errs := s.ValidateUpdate(ctx, newJob, oldJob)
	if len(errs) != 1 || errs[0].Field != "spec.slotsPerWorker" {
		t.Errorf("errors = %v, want only spec.slotsPerWorker", errs)
	}
}
