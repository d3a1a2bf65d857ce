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
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// The main resource and /status on real etcd, as a client and the operator
// use them: each persists only its own half of the object.
func TestMainAndStatusWrites(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	ctx := nsContext()
	get := func() *kubeflow.MPIJob {
		t.Helper()
		obj, err := s.rest.Get(ctx, "a", &metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return obj.(*kubeflow.MPIJob)
	}
	update := func(r rest.Updater, j *kubeflow.MPIJob) {
		t.Helper()
		if _, _, err := r.Update(ctx, j.Name, rest.DefaultUpdatedObjectInfo(j), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// Create drops the client's status and starts at generation 1.
	j := newJob("a")
	j.Status = finishedStatus()
	if _, err := s.rest.Create(ctx, j, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := get(); got.Generation != 1 || len(got.Status.Conditions) != 0 {
		t.Fatalf("after create: generation %d, status %+v", got.Generation, got.Status)
	}

	// /status writes the status only: not the spec, not labels.
	j = get()
	j.Status = finishedStatus()
	j.Spec.SlotsPerWorker = ptr[int32](9)
	j.Labels = map[string]string{"from": "status"}
	update(s.status, j)
	got := get()
	if kubeflow.State(&got.Status) != kubeflow.JobSucceeded || *got.Spec.SlotsPerWorker != 1 || got.Labels != nil || got.Generation != 1 {
		t.Fatalf("after /status: state %q slots %d labels %v generation %d",
			kubeflow.State(&got.Status), *got.Spec.SlotsPerWorker, got.Labels, got.Generation)
	}

	// The main resource ignores status; a label does not move the generation.
	j = get()
	j.Status = kubeflow.JobStatus{}
	j.Labels = map[string]string{"app": "mpi"}
	update(s.rest, j)
	got = get()
	if kubeflow.State(&got.Status) != kubeflow.JobSucceeded || got.Labels["app"] != "mpi" || got.Generation != 1 {
		t.Fatalf("after main update: state %q labels %v generation %d", kubeflow.State(&got.Status), got.Labels, got.Generation)
	}

	// A spec change does.
	j = get()
	j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas = ptr[int32](4)
	update(s.rest, j)
	if got := get(); got.Generation != 2 {
		t.Fatalf("after a spec change: generation %d, want 2", got.Generation)
	}
}

func TestStatusUpdateValidation(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	ctx := nsContext()
	obj, err := s.rest.Create(ctx, newJob("a"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j := obj.(*kubeflow.MPIJob)
	j.Status.Conditions = []kubeflow.JobCondition{cond("Done", "True")}
	_, _, err = s.status.Update(ctx, "a", rest.DefaultUpdatedObjectInfo(j), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("err = %v, want 422", err)
	}
	causes := err.(apierrors.APIStatus).Status().Details.Causes
	if len(causes) != 1 || causes[0].Field != "status.conditions[0].type" || causes[0].Type != metav1.CauseTypeFieldValueNotSupported {
		t.Errorf("causes = %+v", causes)
	}
}

// A subresource never creates its parent, whatever the caller asks.
func TestStatusUpdateDoesNotCreate(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	ctx := nsContext()
	_, created, err := s.status.Update(ctx, "a", rest.DefaultUpdatedObjectInfo(newJob("a")), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, true, &metav1.UpdateOptions{})
	if !apierrors.IsNotFound(err) || created {
		t.Fatalf("created=%v err=%v, want 404", created, err)
	}
}

func TestStatusRESTSurface(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	if _, ok := s.status.New().(*kubeflow.MPIJob); !ok {
		t.Errorf("New() = %T", s.status.New())
	}
	if _, ok := s.status.GetResetFields()["kubeflow.org/v1alpha2"]; !ok {
		t.Errorf("GetResetFields() = %v", s.status.GetResetFields())
	}
	table, err := s.status.ConvertToTable(nsContext(), newJob("a"), nil)
	if err != nil || len(table.Rows) != 1 {
		t.Errorf("ConvertToTable: %v, %v", table, err)
	}
	s.status.Destroy() // a no-op; the main REST's Destroy runs at cleanup

	if got := s.rest.ShortNames(); len(got) != 2 || got[0] != "mj" || got[1] != "mpij" {
		t.Errorf("ShortNames() = %v", got)
	}
	if got := s.rest.Categories(); len(got) != 1 || got[0] != "kubeflow" {
		t.Errorf("Categories() = %v", got)
	}
	if got := s.rest.GetSingularName(); got != "mpijob" {
		t.Errorf("GetSingularName() = %q", got)
	}
}
