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
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// cachedJobs lists the watch cache (resourceVersion 0) until it holds the
// named jobs at least at the given resourceVersions.
func cachedJobs(t *testing.T, s *testStorage, want map[string]string) map[string]*kubeflow.MPIJob {
	t.Helper()
	var got map[string]*kubeflow.MPIJob
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		obj, err := s.rest.List(nsContext(), &metainternalversion.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, err
		}
		got = map[string]*kubeflow.MPIJob{}
		for i := range obj.(*kubeflow.MPIJobList).Items {
			j := &obj.(*kubeflow.MPIJobList).Items[i]
			got[j.Name] = j
		}
		for name, rv := range want {
			if j, ok := got[name]; !ok || j.ResourceVersion != rv {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("the watch cache never held %v: %v", want, err)
	}
	return got
}

func limits(j *kubeflow.MPIJob, rt kubeflow.MPIReplicaType) corev1.ResourceList {
	return j.Spec.MPIReplicaSpecs[rt].Template.Spec.Containers[0].Resources.Limits
}

func sameMap(a, b corev1.ResourceList) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// TestCachedJobsShareRepeatedValues: two jobs with the same resources and
// written the same way hold one copy of their resource lists and
// managedFields in the watch cache.
func TestCachedJobsShareRepeatedValues(t *testing.T) {
	s := newCachedTestStorage(t)
	want := map[string]string{}
	for _, name := range []string{"a", "b"} {
		j := newJob(name)
		j.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "intern-test", Operation: metav1.ManagedFieldsOperationUpdate,
			APIVersion: "kubeflow.org/v1alpha2", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:slotsPerWorker":{}}}`)}}
		obj, err := s.rest.Create(nsContext(), j, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want[name] = obj.(*kubeflow.MPIJob).ResourceVersion
	}
	jobs := cachedJobs(t, s, want)
	a, b := jobs["a"], jobs["b"]
	if !sameMap(limits(a, kubeflow.MPIReplicaTypeLauncher), limits(b, kubeflow.MPIReplicaTypeWorker)) {
		t.Error("equal resource lists of two cached jobs are separate copies")
	}
	fa, fb := a.ManagedFields[0].FieldsV1.GetRawBytes(), b.ManagedFields[0].FieldsV1.GetRawBytes()
	if len(fa) == 0 || &fa[0] != &fb[0] {
		t.Error("equal managedFields of two cached jobs are separate copies")
	}
}

// TestUpdatingAJobLeavesJobsSharingItsValuesAlone: a job whose resources
// change gets its own list; the jobs it shared the old one with keep it,
// in the cache and in etcd.
func TestUpdatingAJobLeavesJobsSharingItsValuesAlone(t *testing.T) {
	s := newCachedTestStorage(t)
	ctx := nsContext()
	for _, name := range []string{"a", "b"} {
		if _, err := s.rest.Create(ctx, newJob(name), rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	obj, err := s.rest.Get(ctx, "a", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := obj.(*kubeflow.MPIJob).DeepCopy()
	a.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher].Template.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("3")
	updated, _, err := s.rest.Update(ctx, "a", rest.DefaultUpdatedObjectInfo(a), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bObj, err := s.rest.Get(ctx, "b", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jobs := cachedJobs(t, s, map[string]string{"a": updated.(*kubeflow.MPIJob).ResourceVersion, "b": bObj.(*kubeflow.MPIJob).ResourceVersion})
	cpu := func(j *kubeflow.MPIJob, rt kubeflow.MPIReplicaType) string {
		q := limits(j, rt)[corev1.ResourceCPU]
		return q.String()
	}
	if got := cpu(jobs["a"], kubeflow.MPIReplicaTypeLauncher); got != "3" {
		t.Errorf("cached a's launcher cpu limit is %s, want 3", got)
	}
	for _, j := range []*kubeflow.MPIJob{jobs["b"], bObj.(*kubeflow.MPIJob)} {
		for _, rt := range []kubeflow.MPIReplicaType{kubeflow.MPIReplicaTypeLauncher, kubeflow.MPIReplicaTypeWorker} {
			if got := cpu(j, rt); got != "1" {
				t.Errorf("b's %s cpu limit became %s after a's update, want 1", rt, got)
			}
		}
	}
	if got := cpu(jobs["a"], kubeflow.MPIReplicaTypeWorker); got != "1" {
		t.Errorf("a's worker cpu limit became %s, want 1", got)
	}
}
