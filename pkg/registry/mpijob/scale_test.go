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
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	generatedopenapi "github.com/mpijob/mpijob-apiserver/pkg/generated/openapi"
)

func workerStatus(s *kubeflow.ReplicaStatus) kubeflow.JobStatus {
	return kubeflow.JobStatus{ReplicaStatuses: map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{"Worker": s}}
}

func TestScaleFromJob(t *testing.T) {
	created := metav1.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	base := func() *kubeflow.MPIJob {
		j := newJob("a")
		j.UID, j.ResourceVersion, j.CreationTimestamp = types.UID("u-1"), "42", created
		j.Labels, j.Generation = map[string]string{"app": "mpi"}, 7
		return j
	}
	meta := metav1.ObjectMeta{Name: "a", Namespace: testNamespace, UID: "u-1", ResourceVersion: "42", CreationTimestamp: created}
	cases := []struct {
		name string
		edit func(*kubeflow.MPIJob)
		want autoscalingv1.ScaleSpec
		st   autoscalingv1.ScaleStatus
	}{
		{"workers", func(*kubeflow.MPIJob) {}, autoscalingv1.ScaleSpec{Replicas: 2}, autoscalingv1.ScaleStatus{}},
		{"no Worker spec", func(j *kubeflow.MPIJob) { delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeWorker) },
			autoscalingv1.ScaleSpec{}, autoscalingv1.ScaleStatus{}},
		{"Worker count unset", func(j *kubeflow.MPIJob) { j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas = nil },
			autoscalingv1.ScaleSpec{}, autoscalingv1.ScaleStatus{}},
		{"active workers only", func(j *kubeflow.MPIJob) {
			j.Status = workerStatus(&kubeflow.ReplicaStatus{Active: 3, Failed: 1, Succeeded: 2})
		},
			autoscalingv1.ScaleSpec{Replicas: 2}, autoscalingv1.ScaleStatus{Replicas: 3}},
		{"launcher status is not counted", func(j *kubeflow.MPIJob) {
			j.Status = kubeflow.JobStatus{ReplicaStatuses: map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{
				"Launcher": {Active: 1, Selector: "role=launcher"}, "Worker": nil}}
		}, autoscalingv1.ScaleSpec{Replicas: 2}, autoscalingv1.ScaleStatus{}},
		{"selector string first", func(j *kubeflow.MPIJob) {
			j.Status = workerStatus(&kubeflow.ReplicaStatus{Active: 2, Selector: "app=mpi,role=worker",
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"other": "x"}}})
		}, autoscalingv1.ScaleSpec{Replicas: 2}, autoscalingv1.ScaleStatus{Replicas: 2, Selector: "app=mpi,role=worker"}},
		{"labelSelector as a string", func(j *kubeflow.MPIJob) {
			j.Status = workerStatus(&kubeflow.ReplicaStatus{Active: 1, LabelSelector: &metav1.LabelSelector{
				MatchLabels:      map[string]string{"role": "worker", "app": "mpi"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "zone", Operator: metav1.LabelSelectorOpIn, Values: []string{"b", "a"}}},
			}})
		}, autoscalingv1.ScaleSpec{Replicas: 2}, autoscalingv1.ScaleStatus{Replicas: 1, Selector: "app=mpi,role=worker,zone in (a,b)"}},
		{"unparsable labelSelector", func(j *kubeflow.MPIJob) {
			j.Status = workerStatus(&kubeflow.ReplicaStatus{Active: 1, LabelSelector: &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "zone", Operator: "Near"}},
			}})
		}, autoscalingv1.ScaleSpec{Replicas: 2}, autoscalingv1.ScaleStatus{Replicas: 1}},
		{"empty labelSelector", func(j *kubeflow.MPIJob) {
			j.Status = workerStatus(&kubeflow.ReplicaStatus{LabelSelector: &metav1.LabelSelector{}})
		}, autoscalingv1.ScaleSpec{Replicas: 2}, autoscalingv1.ScaleStatus{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := base()
			c.edit(j)
			want := &autoscalingv1.Scale{ObjectMeta: meta, Spec: c.want, Status: c.st}
			if d := cmp.Diff(want, scaleFromJob(j)); d != "" {
				t.Errorf("scaleFromJob (-want +got):\n%s", d)
			}
		})
	}
}

func TestSetWorkerReplicas(t *testing.T) {
	j := newJob("a")
	if err := setWorkerReplicas(j, 5); err != nil || *j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas != 5 {
		t.Fatalf("setting 5 workers: %v, replicas %v", err, j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas)
	}

	delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeWorker)
	if err := setWorkerReplicas(j, 0); err != nil {
		t.Errorf("writing back the 0 of a job without workers: %v", err)
	}
	if _, ok := j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker]; ok {
		t.Error("writing back 0 made a Worker spec")
	}
	err := setWorkerReplicas(j, 2)
	if !apierrors.IsInvalid(err) {
		t.Fatalf("scaling a job without workers to 2: %v, want Invalid", err)
	}
	status := err.(apierrors.APIStatus).Status()
	want := `Scale.autoscaling "a" is invalid: spec.replicas: Invalid value: 2: this MPIJob has no Worker replica spec (spec.mpiReplicaSpecs[Worker]) to scale; add one, with its pod template, to the MPIJob itself`
	if status.Message != want || status.Code != 422 || len(status.Details.Causes) != 1 || status.Details.Causes[0].Field != "spec.replicas" {
		t.Errorf("scaling a job without workers: %+v\nwant message %s", status, want)
	}
	if _, ok := j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker]; ok {
		t.Error("a refused scale made a Worker spec")
	}
}

func TestScaleStorage(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	scale := NewScaleREST(s.rest)
	ctx := nsContext()
	j := newJob("a")
	if _, err := s.rest.Create(ctx, j, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	current, err := s.rest.Get(ctx, "a", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	job := current.(*kubeflow.MPIJob)
	// This store's codec is plain v1alpha2, which has no selectors: those
	// are TestScaleFromJob's.
	job.Status = workerStatus(&kubeflow.ReplicaStatus{Active: 2})
	if _, _, err := s.status.Update(ctx, "a", rest.DefaultUpdatedObjectInfo(job), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	got, err := scale.Get(ctx, "a", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc := got.(*autoscalingv1.Scale)
	if sc.Spec.Replicas != 2 || sc.Status.Replicas != 2 || sc.Name != "a" || sc.ResourceVersion == "" {
		t.Fatalf("Get: %+v", sc)
	}

	update := func(sc *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
		out, created, err := scale.Update(ctx, "a", rest.DefaultUpdatedObjectInfo(sc), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, true, &metav1.UpdateOptions{})
		if created {
			t.Error("a scale update reported a create")
		}
		if err != nil {
			return nil, err
		}
		return out.(*autoscalingv1.Scale), nil
	}
	stale := sc.DeepCopy()
	sc.Spec.Replicas = 4
	if sc, err = update(sc); err != nil || sc.Spec.Replicas != 4 || sc.Status.Replicas != 2 {
		t.Fatalf("Update to 4: %+v, %v", sc, err)
	}
	after, err := s.rest.Get(ctx, "a", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored := after.(*kubeflow.MPIJob)
	want := job.DeepCopy()
	want.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas = ptr[int32](4)
	want.Generation, want.ResourceVersion, want.ManagedFields = 2, stored.ResourceVersion, stored.ManagedFields
	if d := cmp.Diff(want, stored); d != "" {
		t.Errorf("the job after a scale (-want +got):\n%s", d)
	}

	stale.Spec.Replicas = 6
	if _, err := update(stale); !apierrors.IsConflict(err) {
		t.Errorf("Update with a stale resourceVersion: %v, want a Conflict", err)
	}
	zero := sc.DeepCopy()
	zero.Spec.Replicas = 0
	_, err = update(zero)
	if !apierrors.IsInvalid(err) {
		t.Fatalf("Update to 0: %v, want Invalid", err)
	}
	wantMsg := `MPIJob.kubeflow.org "a" is invalid: spec.mpiReplicaSpecs[Worker].replicas: Invalid value: 0: must be greater than or equal to 1 (written through the scale subresource's spec.replicas)`
	if msg := err.(apierrors.APIStatus).Status().Message; msg != wantMsg {
		t.Errorf("Update to 0: message %q, want %q", msg, wantMsg)
	}

	missing := sc.DeepCopy()
	missing.Name, missing.ResourceVersion = "b", ""
	if _, _, err := scale.Update(ctx, "b", rest.DefaultUpdatedObjectInfo(missing), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, true, &metav1.UpdateOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Update of a missing job, even with forceAllowCreate: %v, want NotFound", err)
	}
	if _, err := scale.Get(ctx, "b", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Get of a missing job: %v, want NotFound", err)
	}
}

// The generated definitions hold autoscaling/v1 Scale; the server publishes
// it for autoscaling/v1 only, not for the internal version it also registers.
func TestPublishServedScaleKinds(t *testing.T) {
	scale := autoscalingv1.Scale{}.OpenAPIModelName()
	ref := func(name string) spec.Ref { return spec.MustCreateRef("#/definitions/" + name) }
	if _, ok := generatedopenapi.GetOpenAPIDefinitions(ref)[scale]; !ok {
		t.Errorf("the generated OpenAPI definitions have no %s", scale)
	}
	namer := func(name string) (string, spec.Extensions) {
		return name, spec.Extensions{"x-kubernetes-group-version-kind": []interface{}{
			map[string]interface{}{"group": "autoscaling", "version": "__internal", "kind": "Scale"},
			map[string]interface{}{"group": "autoscaling", "version": "v1", "kind": "Scale"},
		}}
	}
	v2 := &common.Config{GetDefinitionName: namer}
	v3 := &common.OpenAPIV3Config{GetDefinitionName: namer}
	PublishServedScaleKinds(v2, v3)
	wantKinds := []interface{}{map[string]interface{}{"group": "autoscaling", "version": "v1", "kind": "Scale"}}
	for what, name := range map[string]func(string) (string, spec.Extensions){"v2": v2.GetDefinitionName, "v3": v3.GetDefinitionName} {
		if n, ext := name(scale); n != scale || !cmp.Equal(ext["x-kubernetes-group-version-kind"], wantKinds) {
			t.Errorf("%s definition name: %s %v, want %s published for autoscaling/v1 only", what, n, ext, scale)
		}
	}
	PublishServedScaleKinds(nil, nil)
}
