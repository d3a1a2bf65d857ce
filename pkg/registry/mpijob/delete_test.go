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
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// newStandaloneTestStorage is the storage as standalone mode builds it: the
// store would add garbage-collector finalizers (the generic server's
// default), but no collector runs.
func newStandaloneTestStorage(t *testing.T) *testStorage {
	return newTestStorageWith(t, Options{NoGarbageCollector: true}, nil, generic.UndecoratedStorage, true)
}

func propagation(p metav1.DeletionPropagation) *metav1.DeleteOptions {
	return &metav1.DeleteOptions{PropagationPolicy: &p}
}

func orphanDependents(v bool) *metav1.DeleteOptions {
	//nolint:staticcheck // SA1019: the deprecated field is what old clients send.
	return &metav1.DeleteOptions{OrphanDependents: &v}
}

func createJobs(t *testing.T, s *testStorage, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := s.rest.Create(nsContext(), newJob(n), rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// assertUntouched checks that a refused deletion left the job exactly as it
// was: not gone, not marked for deletion, no finalizer added.
func assertUntouched(t *testing.T, s *testStorage, name string) {
	t.Helper()
	obj, err := s.rest.Get(nsContext(), name, &metav1.GetOptions{})
	if err != nil {
		t.Fatalf("%s after a refused delete: %v", name, err)
	}
	j := obj.(*kubeflow.MPIJob)
	if j.DeletionTimestamp != nil || len(j.Finalizers) != 0 {
		t.Errorf("%s was touched: deletionTimestamp %v, finalizers %v", name, j.DeletionTimestamp, j.Finalizers)
	}
}

func assertRefused(t *testing.T, err error, mentions ...string) {
	t.Helper()
	if !apierrors.IsBadRequest(err) {
		t.Fatalf("err = %v, want 400 BadRequest", err)
	}
	msg := err.(apierrors.APIStatus).Status().Message
	for _, m := range append(mentions, "propagationPolicy", "garbage collector", "Background") {
		if !strings.Contains(msg, m) {
			t.Errorf("message %q does not mention %q", msg, m)
		}
	}
}

func TestDeleteRefusedWithoutGarbageCollector(t *testing.T) {
	s := newStandaloneTestStorage(t)
	createJobs(t, s, "a")
	cases := []struct {
		name     string
		options  *metav1.DeleteOptions
		mentions []string
	}{
		{"Foreground", propagation(metav1.DeletePropagationForeground), []string{`"Foreground"`}},
		{"Orphan", propagation(metav1.DeletePropagationOrphan), []string{`"Orphan"`}},
		{"orphanDependents", orphanDependents(true), []string{"orphanDependents", `"Orphan"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.rest.Delete(nsContext(), "a", rest.ValidateAllObjectFunc, tc.options)
			assertRefused(t, err, tc.mentions...)
			assertUntouched(t, s, "a")
		})
	}
}

func TestDeleteAllowedWithoutGarbageCollector(t *testing.T) {
	s := newStandaloneTestStorage(t)
	cases := []struct {
		name    string
		options *metav1.DeleteOptions
	}{
		{"no options", nil},
		{"no policy", &metav1.DeleteOptions{}},
		{"Background", propagation(metav1.DeletePropagationBackground)},
		{"orphanDependents false", orphanDependents(false)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			createJobs(t, s, "a")
			if _, _, err := s.rest.Delete(nsContext(), "a", rest.ValidateAllObjectFunc, tc.options); err != nil {
				t.Fatal(err)
			}
			if _, err := s.rest.Get(nsContext(), "a", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("after delete: %v, want 404", err)
			}
		})
	}
}

func TestDeleteCollectionWithoutGarbageCollector(t *testing.T) {
	s := newStandaloneTestStorage(t)
	createJobs(t, s, "a", "b")
	list := func() int {
		obj, err := s.rest.List(nsContext(), &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(obj.(*kubeflow.MPIJobList).Items)
	}

	_, err := s.rest.DeleteCollection(nsContext(), rest.ValidateAllObjectFunc, propagation(metav1.DeletePropagationForeground), &metainternalversion.ListOptions{})
	assertRefused(t, err, `"Foreground"`)
	assertUntouched(t, s, "a")
	assertUntouched(t, s, "b")

	if _, err := s.rest.DeleteCollection(nsContext(), rest.ValidateAllObjectFunc, propagation(metav1.DeletePropagationBackground), &metainternalversion.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := list(); n != 0 {
		t.Errorf("%d jobs left after a Background delete collection", n)
	}
}

// Behind kube-apiserver its garbage collector finishes such deletions, so
// the policies are passed on: the store marks the job and adds the
// finalizer the collector removes. That finalizer is what would never go
// away in standalone mode.
func TestDeleteWithGarbageCollector(t *testing.T) {
	s := newTestStorageWith(t, Options{}, nil, generic.UndecoratedStorage, true)
	createJobs(t, s, "a", "b")
	cases := []struct {
		name      string
		policy    metav1.DeletionPropagation
		finalizer string
	}{
		{"a", metav1.DeletePropagationForeground, metav1.FinalizerDeleteDependents},
		{"b", metav1.DeletePropagationOrphan, metav1.FinalizerOrphanDependents},
	}
	for _, tc := range cases {
		if _, _, err := s.rest.Delete(nsContext(), tc.name, rest.ValidateAllObjectFunc, propagation(tc.policy)); err != nil {
			t.Fatalf("%s delete: %v", tc.policy, err)
		}
		obj, err := s.rest.Get(nsContext(), tc.name, &metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		j := obj.(*kubeflow.MPIJob)
		if j.DeletionTimestamp == nil || len(j.Finalizers) != 1 || j.Finalizers[0] != tc.finalizer {
			t.Errorf("%s delete: deletionTimestamp %v finalizers %v, want %s waiting for the collector",
				tc.policy, j.DeletionTimestamp, j.Finalizers, tc.finalizer)
		}
	}
}
