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

package carryover_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/install"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

func ptr[T any](v T) *T { return &v }

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	install.Install(s)
	return s
}()

// written is stored as a client of version writes it back unchanged, before
// the strategies restore anything: converted to the version, without the
// reserved annotation (the API's serializer drops it), back to the hub.
func written(t *testing.T, version string, stored *kubeflow.MPIJob) *kubeflow.MPIJob {
	t.Helper()
	var out runtime.Object = &v1alpha2.MPIJob{}
	if version == carryover.V2beta1 {
		out = &v2beta1.MPIJob{}
	}
	if err := scheme.Convert(stored.DeepCopy(), out, nil); err != nil {
		t.Fatal(err)
	}
	switch o := out.(type) {
	case *v1alpha2.MPIJob:
		carryover.DropAnnotation(&o.ObjectMeta)
	case *v2beta1.MPIJob:
		carryover.DropAnnotation(&o.ObjectMeta)
	}
	hub := &kubeflow.MPIJob{}
	if err := scheme.Convert(out, hub, nil); err != nil {
		t.Fatal(err)
	}
	hub.TypeMeta = metav1.TypeMeta{}
	return hub
}

func restore(version string, stored, job *kubeflow.MPIJob) *kubeflow.MPIJob {
	out := job.DeepCopy()
	carryover.RestoreSpec(version, stored, out)
	carryover.RestoreStatus(version, stored, out)
	return out
}

func v1alpha2Shaped() *kubeflow.MPIJob {
	return &kubeflow.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "n"},
		Spec: kubeflow.MPIJobSpec{
			MainContainer:         "main",
			CleanPodPolicy:        ptr(kubeflow.CleanPodPolicyAll),
			BackoffLimit:          ptr[int32](1),
			ActiveDeadlineSeconds: ptr[int64](100),
			RunPolicy: &kubeflow.RunPolicy{
				CleanPodPolicy: ptr(kubeflow.CleanPodPolicyRunning),
				BackoffLimit:   ptr[int32](2),
			},
			MPIReplicaSpecs: map[kubeflow.MPIReplicaType]*kubeflow.ReplicaSpec{"Worker": {Replicas: ptr[int32](2), Template: corev1.PodTemplateSpec{}}},
		},
		Status: kubeflow.JobStatus{Conditions: []kubeflow.JobCondition{}, ReplicaStatuses: map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{}},
	}
}

func v2beta1Shaped() *kubeflow.MPIJob {
	return &kubeflow.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "n"},
		Spec: kubeflow.MPIJobSpec{
			SSHAuthMountPath:       "/home/mpiuser/.ssh",
			RunLauncherAsWorker:    ptr(true),
			LauncherCreationPolicy: kubeflow.LauncherCreationPolicyWaitForWorkersReady,
			RunPolicy: &kubeflow.RunPolicy{
				Suspend:          ptr(true),
				ManagedBy:        ptr(v2beta1.MultiKueueController),
				SchedulingPolicy: &kubeflow.SchedulingPolicy{ScheduleTimeoutSeconds: ptr[int32](30)},
			},
		},
		Status: kubeflow.JobStatus{ReplicaStatuses: map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{
			"Worker": {Active: 2, Selector: "app=b", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "b"}}},
		}},
	}
}

// TestRestoreIdempotent: a job read in a version and written back unchanged
// comes back whole; restoring again changes nothing; and restoring onto the
// already-restored object, the shape server-side apply hands the
// strategies, gives what restoring onto the raw shape gives.
func TestRestoreIdempotent(t *testing.T) {
	noRunPolicy := v1alpha2Shaped()
	noRunPolicy.Spec.RunPolicy = nil
	for name, stored := range map[string]*kubeflow.MPIJob{
		"v1alpha2 shape":                 v1alpha2Shaped(),
		"v2beta1 fields":                 v2beta1Shaped(),
		"top-level values, no runPolicy": noRunPolicy,
		"empty":                          {ObjectMeta: metav1.ObjectMeta{Name: "c"}},
	} {
		for _, version := range []string{carryover.V1alpha2, carryover.V2beta1} {
			raw := written(t, version, stored)
			once := restore(version, stored, raw)
			if d := cmp.Diff(stored, once); d != "" {
				t.Errorf("%s, written back in %s: the job changed (-stored +restored):\n%s", name, version, d)
			}
			if d := cmp.Diff(once, restore(version, stored, once)); d != "" {
				t.Errorf("%s, written back in %s: restoring twice differs from once (-once +twice):\n%s", name, version, d)
			}
			if d := cmp.Diff(once, restore(version, stored, stored)); d != "" {
				t.Errorf("%s, written back in %s: restoring onto the restored shape differs from the raw shape (-raw +restored shape):\n%s", name, version, d)
			}
		}
	}
}

// TestNoRunPolicy: a v1alpha2 job with top-level policy values and no
// runPolicy, which v2beta1 shows inside one, keeps having none after a
// v2beta1 write-back; a v2beta1 write that puts something else into the
// runPolicy keeps it.
func TestNoRunPolicy(t *testing.T) {
	stored := v1alpha2Shaped()
	stored.Spec.RunPolicy = nil
	raw := written(t, carryover.V2beta1, stored)
	if raw.Spec.RunPolicy == nil {
		t.Fatalf("v2beta1 shows no runPolicy for top-level values: nothing to test")
	}
	if got := restore(carryover.V2beta1, stored, raw); got.Spec.RunPolicy != nil {
		t.Errorf("written back in v2beta1, the job gained a runPolicy: %+v", *got.Spec.RunPolicy)
	}
	raw.Spec.RunPolicy.TTLSecondsAfterFinished = ptr[int32](60)
	got := restore(carryover.V2beta1, stored, raw)
	if got.Spec.RunPolicy == nil || got.Spec.RunPolicy.TTLSecondsAfterFinished == nil || *got.Spec.RunPolicy.TTLSecondsAfterFinished != 60 {
		t.Errorf("a v2beta1 write of ttlSecondsAfterFinished lost its runPolicy: %+v", got.Spec)
	}
}

// TestV1alpha2WriteClearsWhatItCannotWrite: a v1alpha2 write cannot hold
// v2beta1-only values; whatever the written object holds of them (as when
// an apply configuration carried the reserved annotation into conversion)
// is replaced by the stored object's, or cleared when it has none.
func TestV1alpha2WriteClearsWhatItCannotWrite(t *testing.T) {
	claims := v2beta1Shaped()
	claims.Spec.RunPolicy.BackoffLimit = ptr[int32](3) // something v1alpha2 does show
	for name, stored := range map[string]*kubeflow.MPIJob{
		"stored without v2beta1 fields": {ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "n"},
			Status: kubeflow.JobStatus{ReplicaStatuses: map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{"Worker": {Active: 1}}}},
		"stored with other v2beta1 fields": func() *kubeflow.MPIJob {
			j := v2beta1Shaped()
			j.Spec.SSHAuthMountPath = "/other"
			j.Spec.RunPolicy.Suspend = ptr(false)
			j.Spec.RunPolicy.ManagedBy = nil
			j.Status.ReplicaStatuses["Worker"].Selector = "app=other"
			j.Status.ReplicaStatuses["Worker"].LabelSelector = nil
			return j
		}(),
	} {
		got := restore(carryover.V1alpha2, stored, claims)
		want := carryover.Take(carryover.V1alpha2, stored)
		if d := cmp.Diff(want, carryover.Take(carryover.V1alpha2, got)); d != "" {
			t.Errorf("%s: after a v1alpha2 write, the v2beta1-only values are not the stored ones (-stored +got):\n%s", name, d)
		}
		if rs := got.Status.ReplicaStatuses["Worker"]; rs == nil || rs.Active != 2 {
			t.Errorf("%s: the written replica status was not kept: %+v", name, rs)
		}
		if got.Spec.RunPolicy == nil || got.Spec.RunPolicy.BackoffLimit == nil || *got.Spec.RunPolicy.BackoffLimit != 3 {
			t.Errorf("%s: the written backoffLimit was not kept: %+v", name, got.Spec.RunPolicy)
		}
	}
}
