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
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// v2beta1Job is a job that sets every field v1alpha2 cannot express.
func v2beta1Job(name string) *v2beta1.MPIJob {
	spec := func(replicas int32) *v2beta1.ReplicaSpec {
		s := harness.ReplicaSpec(ptr.To(replicas))
		s.Template.Spec.Containers[0].Args = []string{"--keep"}
		return &v2beta1.ReplicaSpec{Replicas: s.Replicas, Template: s.Template}
	}
	return &v2beta1.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v2beta1.MPIJobSpec{
			RunLauncherAsWorker:    ptr.To(true),
			SSHAuthMountPath:       "/home/mpiuser/.ssh",
			LauncherCreationPolicy: v2beta1.LauncherCreationPolicyWaitForWorkersReady,
			RunPolicy: &v2beta1.RunPolicy{
				Suspend:          ptr.To(true),
				ManagedBy:        ptr.To(v2beta1.MultiKueueController),
				SchedulingPolicy: &v2beta1.SchedulingPolicy{ScheduleTimeoutSeconds: ptr.To[int32](30)},
			},
			MPIReplicaSpecs: map[v2beta1.MPIReplicaType]*v2beta1.ReplicaSpec{
				v2beta1.MPIReplicaTypeLauncher: spec(1),
				v2beta1.MPIReplicaTypeWorker:   spec(2),
			},
		},
	}
}

// wire is o as a client reads it, without what every write changes.
func wire(t *testing.T, o metav1.Object) map[string]interface{} {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	md := m["metadata"].(map[string]interface{})
	delete(md, "resourceVersion")
	delete(md, "managedFields")
	return m
}

// Strategic merge patches in v2beta1 merge the replica map entries in
// v2beta1's types: what v1alpha2 cannot express stays.
func TestStrategicMergePatchThroughReplicaMapsV2beta1(t *testing.T) {
	s := inprocess.Start(t)
	ctx := context.Background()
	jobs := s.Client.KubeflowV2beta1().MPIJobs("ns")
	old := s.Client.KubeflowV1alpha2().MPIJobs("ns")
	patch := func(t *testing.T, name, body string, subresources ...string) *v2beta1.MPIJob {
		t.Helper()
		got, err := jobs.Patch(ctx, name, types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{}, subresources...)
		if err != nil {
			t.Fatalf("patch %s: %v", body, err)
		}
		return got
	}
	// expect compares got with want after the patch: the same object but
	// for what change did, the generation it bumps and the write's resourceVersion.
	expect := func(t *testing.T, want, got *v2beta1.MPIJob, change func(*v2beta1.MPIJob)) {
		t.Helper()
		want = want.DeepCopy()
		change(want)
		if d := cmp.Diff(wire(t, want), wire(t, got)); d != "" {
			t.Fatalf("after the patch (-want +got):\n%s", d)
		}
	}

	t.Run("scale workers keeps the v2beta1-only spec", func(t *testing.T) {
		before, err := jobs.Create(ctx, v2beta1Job("scale"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := patch(t, "scale", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":5}}}}`)
		expect(t, before, got, func(j *v2beta1.MPIJob) {
			j.Generation++
			j.Spec.MPIReplicaSpecs[v2beta1.MPIReplicaTypeWorker].Replicas = ptr.To[int32](5)
		})
	})

	t.Run("containers merge by name", func(t *testing.T) {
		before, err := jobs.Create(ctx, v2beta1Job("merge"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := patch(t, "merge", `{"spec":{"mpiReplicaSpecs":{"Launcher":{"template":{"spec":{"containers":[`+
			`{"name":"mpi","image":"mpi:2"}]}}}}}}`)
		expect(t, before, got, func(j *v2beta1.MPIJob) {
			j.Generation++
			j.Spec.MPIReplicaSpecs[v2beta1.MPIReplicaTypeLauncher].Template.Spec.Containers[0].Image = "mpi:2"
		})
	})

	t.Run("status replica counts keep the selectors", func(t *testing.T) {
		created, err := jobs.Create(ctx, v2beta1Job("status"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created.Status.ReplicaStatuses = map[v2beta1.MPIReplicaType]*v2beta1.ReplicaStatus{
			v2beta1.MPIReplicaTypeLauncher: {Active: 1},
			v2beta1.MPIReplicaTypeWorker: {Active: 1, Selector: "job=status",
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"job": "status"}}},
		}
		before, err := jobs.UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := patch(t, "status", `{"status":{"replicaStatuses":{"Worker":{"active":2,"failed":1}}}}`, "status")
		expect(t, before, got, func(j *v2beta1.MPIJob) {
			j.Status.ReplicaStatuses[v2beta1.MPIReplicaTypeWorker].Active = 2
			j.Status.ReplicaStatuses[v2beta1.MPIReplicaTypeWorker].Failed = 1
		})
		got = patch(t, "status", `{"status":{"replicaStatuses":{"Worker":{"labelSelector":{"matchLabels":{"role":"worker"}}}}}}`, "status")
		expect(t, before, got, func(j *v2beta1.MPIJob) {
			w := j.Status.ReplicaStatuses[v2beta1.MPIReplicaTypeWorker]
			w.Active, w.Failed = 2, 1
			w.LabelSelector.MatchLabels["role"] = "worker"
		})
	})

	// The same refusals, codes and messages as in v1alpha2, each version
	// patching a job of its own (same name, other namespace).
	for i, tc := range []struct {
		name, body string
		check      func(error) bool
	}{
		{"delete without a merge key", `{"spec":{"mpiReplicaSpecs":{"Worker":{"template":{"spec":{"containers":[{"$patch":"delete"}]}}}}}}`, apierrors.IsBadRequest},
		{"entry that is not an object", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":3},"Launcher":7}}}`, apierrors.IsInvalid},
		{"removing a required entry", `{"spec":{"mpiReplicaSpecs":{"Launcher":null,"Worker":{"replicas":3}}}}`, apierrors.IsInvalid},
		{"status entry that is not an object", `{"status":{"replicaStatuses":{"Worker":"up"}}}`, apierrors.IsInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("refused-%d", i)
			errs := map[string]error{}
			for version, ns := range map[string]string{"v1alpha2": "ns-a", "v2beta1": "ns-b"} {
				jobsNS := s.Client.KubeflowV2beta1().MPIJobs(ns)
				before, err := jobsNS.Create(ctx, v2beta1Job(name), metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				subresources := []string{}
				if strings.HasPrefix(tc.body, `{"status"`) {
					subresources = append(subresources, "status")
				}
				if version == "v1alpha2" {
					_, errs[version] = s.Client.KubeflowV1alpha2().MPIJobs(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(tc.body), metav1.PatchOptions{}, subresources...)
				} else {
					_, errs[version] = jobsNS.Patch(ctx, name, types.StrategicMergePatchType, []byte(tc.body), metav1.PatchOptions{}, subresources...)
				}
				after, _ := jobsNS.Get(ctx, name, metav1.GetOptions{})
				if after.ResourceVersion != before.ResourceVersion {
					t.Fatalf("%s: a refused patch changed the object", version)
				}
			}
			if !tc.check(errs["v1alpha2"]) || !tc.check(errs["v2beta1"]) {
				t.Fatalf("v1alpha2: %v; v2beta1: %v", errs["v1alpha2"], errs["v2beta1"])
			}
			// The rewritten patch the library quotes holds each job's own resourceVersion.
			rv := regexp.MustCompile(`resourceVersion:[0-9]+`)
			if rv.ReplaceAllString(errs["v1alpha2"].Error(), "") != rv.ReplaceAllString(errs["v2beta1"].Error(), "") {
				t.Fatalf("v2beta1 answers %q, v1alpha2 %q", errs["v2beta1"], errs["v1alpha2"])
			}
		})
	}

	// v1alpha2 refuses a replica type it does not know; v2beta1, like
	// mpi-operator v0.7.0, keeps it and uses it for nothing.
	t.Run("unknown replica type", func(t *testing.T) {
		if _, err := jobs.Create(ctx, v2beta1Job("chief"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"spec":{"mpiReplicaSpecs":{"Chief":{"replicas":1}}}}`)
		_, err := old.Patch(ctx, "chief", types.StrategicMergePatchType, body, metav1.PatchOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `spec.mpiReplicaSpecs[Chief]: Unsupported value: "Chief"`) {
			t.Fatalf("v1alpha2: %v, want 422 naming spec.mpiReplicaSpecs[Chief]", err)
		}
		got, err := jobs.Patch(ctx, "chief", types.StrategicMergePatchType, body, metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("v2beta1: %v", err)
		}
		if c := got.Spec.MPIReplicaSpecs["Chief"]; c == nil || c.Replicas == nil || *c.Replicas != 1 || len(got.Spec.MPIReplicaSpecs) != 3 {
			t.Fatalf("v2beta1 mpiReplicaSpecs = %v, want Launcher, Worker and Chief{replicas 1}", got.Spec.MPIReplicaSpecs)
		}
	})

	t.Run("v1alpha2 patch of a v2beta1 job", func(t *testing.T) {
		created, err := jobs.Create(ctx, v2beta1Job("cross"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created.Status.ReplicaStatuses = map[v2beta1.MPIReplicaType]*v2beta1.ReplicaStatus{
			v2beta1.MPIReplicaTypeWorker: {Active: 1, Selector: "job=cross"},
		}
		before, err := jobs.UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Patch(ctx, "cross", types.StrategicMergePatchType,
			[]byte(`{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":4}}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Patch(ctx, "cross", types.StrategicMergePatchType,
			[]byte(`{"status":{"replicaStatuses":{"Worker":{"succeeded":1}}}}`), metav1.PatchOptions{}, "status"); err != nil {
			t.Fatal(err)
		}
		got, err := jobs.Get(ctx, "cross", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		expect(t, before, got, func(j *v2beta1.MPIJob) {
			j.Generation++
			j.Spec.MPIReplicaSpecs[v2beta1.MPIReplicaTypeWorker].Replicas = ptr.To[int32](4)
			j.Status.ReplicaStatuses[v2beta1.MPIReplicaTypeWorker].Succeeded = 1
		})
	})

	// A v2beta1 write adds its defaults; mpiImplementation is the one
	// v1alpha2 shows, as mpiDistribution.
	t.Run("v2beta1 patch of a v1alpha2 job keeps mainContainer", func(t *testing.T) {
		job := harness.NewMPIJob("ns", "alpha", 2)
		job.Spec.MainContainer = "mpi"
		job.Spec.BackoffLimit = ptr.To[int32](2)
		before, err := old.Create(ctx, job, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		patch(t, "alpha", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":6}}}}`)
		got, err := old.Get(ctx, "alpha", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := before.DeepCopy()
		want.Generation++
		want.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Replicas = ptr.To[int32](6)
		want.Spec.MPIDistribution = ptr.To(v1alpha2.MPIDistributionTypeOpenMPI)
		if d := cmp.Diff(wire(t, want), wire(t, got)); d != "" {
			t.Fatalf("read in v1alpha2 after the v2beta1 patch (-want +got):\n%s", d)
		}
	})
}
