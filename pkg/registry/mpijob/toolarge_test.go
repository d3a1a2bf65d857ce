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
	"errors"
	"net/http"
	"strings"
	"testing"

	"go.etcd.io/etcd/server/v3/embed"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// etcd here refuses requests above 64 KiB, so a 100 KiB object reaches it
// and is refused by etcd itself; a 2.5 MiB one is refused earlier by the
// etcd client's 2 MiB send limit.
const testMaxRequestBytes = 64 * 1024

func smallEtcd(cfg *embed.Config) { cfg.MaxRequestBytes = testMaxRequestBytes }

func bigArgs(bytes int) []string {
	return []string{"-c", strings.Repeat("x", bytes)}
}

// assertTooLarge checks the error a client gets: a 413 Status, which still
// has the shape the request handlers look for to retry once without
// managedFields (k8s.io/apiserver/pkg/endpoints/handlers isTooLargeError).
func assertTooLarge(t *testing.T, err error) {
	t.Helper()
	if !apierrors.IsRequestEntityTooLargeError(err) {
		t.Fatalf("err = %v (%T), want 413", err, err)
	}
	st := err.(apierrors.APIStatus).Status()
	if st.Code != http.StatusRequestEntityTooLarge || st.Status != metav1.StatusFailure {
		t.Errorf("status = %+v", st)
	}
	t.Logf("storage error behind the 413: %T %v", errors.Unwrap(err), errors.Unwrap(err))

	etcdShape := false
	if e, ok := err.(interface{ Code() codes.Code }); ok {
		etcdShape = e.Code() == codes.InvalidArgument && err.Error() == "etcdserver: request is too large"
	}
	grpcShape := false
	if e, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		s := e.GRPCStatus()
		grpcShape = s.Code() == codes.ResourceExhausted && strings.Contains(s.Message(), "trying to send message larger than max")
	}
	if !etcdShape && !grpcShape {
		t.Errorf("the 413 lost the storage error's shape; the handlers will not retry without managedFields")
	}
}

func assertNotStored(t *testing.T, s *testStorage, name string) {
	t.Helper()
	if _, err := s.rest.Get(nsContext(), name, &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get %s after a refused create: %v, want 404", name, err)
	}
}

func TestCreateTooLarge(t *testing.T) {
	s := newTestStorage(t, Options{}, smallEtcd)
	for name, size := range map[string]int{"refused-by-etcd": 100 * 1024, "refused-by-client": 2*1024*1024 + 512*1024} {
		t.Run(name, func(t *testing.T) {
			j := newJob(name)
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher].Template.Spec.Containers[0].Args = bigArgs(size)
			_, err := s.rest.Create(nsContext(), j, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
			assertTooLarge(t, err)
			assertNotStored(t, s, name)
		})
	}
}

func TestUpdateTooLarge(t *testing.T) {
	s := newTestStorage(t, Options{}, smallEtcd)
	ctx := nsContext()
	obj, err := s.rest.Create(ctx, newJob("a"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored := obj.(*kubeflow.MPIJob)
	update := func(r rest.Updater, j *kubeflow.MPIJob) error {
		_, _, err := r.Update(ctx, "a", rest.DefaultUpdatedObjectInfo(j), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
		return err
	}
	assertUnchanged := func() {
		t.Helper()
		obj, err := s.rest.Get(ctx, "a", &metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rv := obj.(*kubeflow.MPIJob).ResourceVersion; rv != stored.ResourceVersion {
			t.Errorf("resourceVersion %s -> %s: a refused write was stored", stored.ResourceVersion, rv)
		}
	}

	t.Run("main resource", func(t *testing.T) {
		j := stored.DeepCopy()
		j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Template.Spec.Containers[0].Args = bigArgs(100 * 1024)
		assertTooLarge(t, update(s.rest, j))
		assertUnchanged()
	})
	t.Run("status", func(t *testing.T) {
		j := stored.DeepCopy()
		j.Status = finishedStatus()
		j.Status.Conditions[0].Message = strings.Repeat("m", 100*1024)
		assertTooLarge(t, update(s.status, j))
		assertUnchanged()
	})
}

func TestInterpretTooLargeLeavesOtherErrors(t *testing.T) {
	for _, err := range []error{
		nil,
		errors.New("boom"),
		apierrors.NewConflict(kubeflow.Resource("mpijobs"), "a", errors.New("x")),
		status.Error(codes.ResourceExhausted, "quota"),
		status.Error(codes.InvalidArgument, "etcdserver: something else"),
	} {
		if got := interpretTooLarge(err); got != err {
			t.Errorf("interpretTooLarge(%v) = %v, want it unchanged", err, got)
		}
	}
	// The refusal as gRPC sends it, in case a client does not translate it.
	if err := interpretTooLarge(status.Error(codes.InvalidArgument, "etcdserver: request is too large")); !apierrors.IsRequestEntityTooLargeError(err) {
		t.Errorf("untranslated refusal: %v, want 413", err)
	}
}
