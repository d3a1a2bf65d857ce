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

package filters_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// Strategic merge patches that step into spec.mpiReplicaSpecs or
// status.replicaStatuses, which the library alone answers with a 500.
func TestStrategicMergePatchThroughReplicaMaps(t *testing.T) {
	s := inprocess.Start(t)
	ctx := context.Background()
	jobs := s.Client.KubeflowV1alpha2().MPIJobs("ns")
	create := func(t *testing.T, name string) *v1alpha2.MPIJob {
		t.Helper()
		worker := harness.ReplicaSpec(ptr.To[int32](2))
		worker.Template.Spec.Containers[0].Args = []string{"--keep"}
		job, err := jobs.Create(ctx, &v1alpha2.MPIJob{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha2.MPIJobSpec{MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
				v1alpha2.MPIReplicaTypeLauncher: harness.ReplicaSpec(nil),
				v1alpha2.MPIReplicaTypeWorker:   worker,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return job
	}
	patch := func(name, body string, opts metav1.PatchOptions, subresources ...string) (*v1alpha2.MPIJob, error) {
		return jobs.Patch(ctx, name, types.StrategicMergePatchType, []byte(body), opts, subresources...)
	}

	t.Run("scale workers", func(t *testing.T) {
		before := create(t, "scale")
		got, err := patch("scale", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":5}}}}`, metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("patch: %v", err)
		}
		w := got.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker]
		if *w.Replicas != 5 || w.Template.Spec.Containers[0].Args[0] != "--keep" {
			t.Fatalf("worker = %+v, want replicas 5 and the rest untouched", w)
		}
		if got.Generation != before.Generation+1 {
			t.Fatalf("generation %d, want %d", got.Generation, before.Generation+1)
		}
		if _, ok := got.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeLauncher]; !ok {
			t.Fatal("the Launcher entry was lost")
		}
	})

	t.Run("containers merge by name", func(t *testing.T) {
		create(t, "merge")
		got, err := patch("merge", `{"spec":{"mpiReplicaSpecs":{"Worker":{"template":{"spec":{"containers":[`+
			`{"name":"mpi","image":"mpi:2"},{"name":"side","image":"side:1"}]}}}}}}`, metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("patch: %v", err)
		}
		cs := got.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Template.Spec.Containers
		if len(cs) != 2 || cs[0].Name != "mpi" || cs[0].Image != "mpi:2" || len(cs[0].Args) != 1 || cs[1].Name != "side" {
			t.Fatalf("containers = %+v, want mpi (new image, args kept) and side", cs)
		}
		got, err = patch("merge", `{"spec":{"mpiReplicaSpecs":{"Worker":{"template":{"spec":{"containers":[`+
			`{"name":"side","$patch":"delete"}]}}}}}}`, metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("delete directive: %v", err)
		}
		if cs := got.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Template.Spec.Containers; len(cs) != 1 || cs[0].Name != "mpi" {
			t.Fatalf("containers after $patch delete = %+v", cs)
		}
	})

	t.Run("removing a required entry is invalid, not a server error", func(t *testing.T) {
		create(t, "remove")
		_, err := patch("remove", `{"spec":{"mpiReplicaSpecs":{"Launcher":null,"Worker":{"replicas":3}}}}`, metav1.PatchOptions{})
		if !apierrors.IsInvalid(err) {
			t.Fatalf("err = %v, want 422 Invalid", err)
		}
		got, _ := jobs.Get(ctx, "remove", metav1.GetOptions{})
		if *got.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Replicas != 2 {
			t.Fatal("a refused patch changed the object")
		}
	})

	t.Run("unknown field under strict validation", func(t *testing.T) {
		create(t, "strict")
		_, err := patch("strict", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicaz":3}}}}`,
			metav1.PatchOptions{FieldValidation: metav1.FieldValidationStrict})
		// kube-apiserver answers an unknown field in a strict strategic
		// merge patch with 422 (create and update give 400).
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `unknown field "spec.mpiReplicaSpecs.replicaz"`) {
			t.Fatalf("err = %v, want 422 naming the unknown field", err)
		}
	})

	t.Run("stale resourceVersion from the client", func(t *testing.T) {
		before := create(t, "stale")
		if _, err := patch("stale", `{"spec":{"slotsPerWorker":2}}`, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := patch("stale", `{"metadata":{"resourceVersion":"`+before.ResourceVersion+`"},`+
			`"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":4}}}}`, metav1.PatchOptions{})
		if !apierrors.IsConflict(err) {
			t.Fatalf("err = %v, want 409 Conflict", err)
		}
	})

	t.Run("dry run writes nothing", func(t *testing.T) {
		before := create(t, "dry")
		got, err := patch("dry", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":7}}}}`,
			metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil || *got.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Replicas != 7 {
			t.Fatalf("dry-run patch: %v", err)
		}
		stored, _ := jobs.Get(ctx, "dry", metav1.GetOptions{})
		if stored.ResourceVersion != before.ResourceVersion {
			t.Fatal("a dry-run patch was written")
		}
	})

	t.Run("missing object", func(t *testing.T) {
		_, err := patch("nope", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":3}}}}`, metav1.PatchOptions{})
		if !apierrors.IsNotFound(err) {
			t.Fatalf("err = %v, want 404", err)
		}
	})

	t.Run("status replica counts", func(t *testing.T) {
		create(t, "status")
		if _, err := patch("status", `{"status":{"replicaStatuses":{"Launcher":{"active":1}}}}`, metav1.PatchOptions{}, "status"); err != nil {
			t.Fatalf("first status patch (nothing stored yet): %v", err)
		}
		got, err := patch("status", `{"status":{"replicaStatuses":{"Launcher":{"succeeded":1},"Worker":{}}}}`, metav1.PatchOptions{}, "status")
		if err != nil {
			t.Fatalf("second status patch: %v", err)
		}
		l := got.Status.ReplicaStatuses["Launcher"]
		if l == nil || l.Active != 1 || l.Succeeded != 1 || got.Status.ReplicaStatuses["Worker"] == nil {
			t.Fatalf("replicaStatuses = %v, want Launcher{active 1, succeeded 1} and Worker{}", got.Status.ReplicaStatuses)
		}
	})
}
