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
	"reflect"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

func cond(t kubeflow.JobConditionType, s corev1.ConditionStatus) kubeflow.JobCondition {
	return kubeflow.JobCondition{Type: t, Status: s}
}

func TestStatusState(t *testing.T) {
	const (
		T = corev1.ConditionTrue
		F = corev1.ConditionFalse
		U = corev1.ConditionUnknown
	)
	cases := []struct {
		name       string
		conditions []kubeflow.JobCondition
		want       string
	}{
		{"no conditions", nil, ""},
		{"created", []kubeflow.JobCondition{cond("Created", T)}, "Created"},
		{"running", []kubeflow.JobCondition{cond("Created", T), cond("Running", T)}, "Running"},
		{"restarting", []kubeflow.JobCondition{cond("Created", T), cond("Restarting", T)}, "Restarting"},
		{"running again after a restart", []kubeflow.JobCondition{cond("Created", T), cond("Restarting", T), cond("Running", T)}, "Running"},
		// The seed: Running is set False when the job finishes.
		{"succeeded after running", []kubeflow.JobCondition{cond("Created", T), cond("Running", F), cond("Succeeded", T)}, "Succeeded"},
		{"failed after running", []kubeflow.JobCondition{cond("Created", T), cond("Running", F), cond("Failed", T)}, "Failed"},
		{"newest true wins over a later false", []kubeflow.JobCondition{cond("Created", T), cond("Running", T), cond("Restarting", F)}, "Running"},
		{"none true", []kubeflow.JobCondition{cond("Created", F), cond("Running", U)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJob("a")
			j.Status.Conditions = tc.conditions
			_, f, err := GetAttrs(j)
			if err != nil {
				t.Fatal(err)
			}
			if got := f["status.state"]; got != tc.want {
				t.Errorf("status.state = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGetAttrs(t *testing.T) {
	j := newJob("a")
	j.Labels = map[string]string{"app": "mpi"}
	l, f, err := GetAttrs(j)
	if err != nil {
		t.Fatal(err)
	}
	if l["app"] != "mpi" {
		t.Errorf("labels = %v", l)
	}
	want := fields.Set{
		"metadata.name": "a", "metadata.namespace": testNamespace,
		"spec.cleanPodPolicy": "All", "spec.slotsPerWorker": "1", "status.state": "",
		"spec.runPolicy.suspend": "",
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("fields = %v, want %v", f, want)
	}

	// No defaults: unset fields select as "".
	j.Spec.SlotsPerWorker, j.Spec.CleanPodPolicy = nil, nil
	_, f, _ = GetAttrs(j)
	if f["spec.slotsPerWorker"] != "" || f["spec.cleanPodPolicy"] != "" {
		t.Errorf("unset fields = %v, want empty", f)
	}

	if _, _, err := GetAttrs(&kubeflow.MPIJobList{}); err == nil {
		t.Error("GetAttrs accepted a list")
	}
}

// The storage side must offer exactly the fields the scheme side accepts.
func TestSelectableFieldsMatchTheScheme(t *testing.T) {
	var got []string
	for k := range SelectableFields(newJob("a")) {
		got = append(got, k)
	}
	want := append([]string(nil), kubeflow.SelectableFields...)
	sort.Strings(got)
	sort.Strings(want)
	if len(got) != len(want) {
		t.Fatalf("storage fields %v, scheme fields %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("storage fields %v, scheme fields %v", got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	j := newJob("a")
	j.Status = finishedStatus()
	p := Match(labels.Everything(), fields.ParseSelectorOrDie("status.state=Succeeded,spec.slotsPerWorker=1"))
	if ok, err := p.Matches(j); err != nil || !ok {
		t.Errorf("Matches = %v, %v; want true", ok, err)
	}
	p = Match(labels.Everything(), fields.ParseSelectorOrDie("status.state!=Succeeded"))
	if ok, _ := p.Matches(j); ok {
		t.Error("status.state!=Succeeded matched a succeeded job")
	}
}

// Through the watch cache, as the server runs: a watch on status.state
// sees a job enter the selection when the operator reports through /status.
func TestWatchStatusStateThroughCache(t *testing.T) {
	s := newCachedTestStorage(t)
	ctx := nsContext()
	obj, err := s.rest.Create(ctx, newJob("a"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created := obj.(*kubeflow.MPIJob)

	w, err := s.rest.Watch(ctx, &metainternalversion.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("status.state", "Succeeded"),
		ResourceVersion: created.ResourceVersion,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	running := created.DeepCopy()
	running.Status.Conditions = []kubeflow.JobCondition{cond("Created", "True"), cond("Running", "True")}
	obj, _, err = s.status.Update(ctx, "a", rest.DefaultUpdatedObjectInfo(running), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := obj.(*kubeflow.MPIJob).DeepCopy()
	done.Status = finishedStatus()
	if _, _, err := s.status.Update(ctx, "a", rest.DefaultUpdatedObjectInfo(done), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	select {
	case ev := <-w.ResultChan():
		// Entering the selection is an ADDED for this watcher; the Running
		// update before it was filtered out.
		obj := ev.Object
		// The cache hands out its objects wrapped for serialization reuse.
		if wrapped, ok := obj.(interface{ GetObject() runtime.Object }); ok {
			obj = wrapped.GetObject()
		}
		job, ok := obj.(*kubeflow.MPIJob)
		if ev.Type != watch.Added || !ok || kubeflow.State(&job.Status) != kubeflow.JobSucceeded {
			t.Errorf("event %s %#v, want ADDED of the succeeded job", ev.Type, ev.Object)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no event for the job entering status.state=Succeeded")
	}

	list, err := s.rest.List(ctx, &metainternalversion.ListOptions{FieldSelector: fields.OneTermEqualSelector("status.state", "Running")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.(*kubeflow.MPIJobList).Items); n != 0 {
		t.Errorf("status.state=Running listed %d jobs, want 0", n)
	}
}
