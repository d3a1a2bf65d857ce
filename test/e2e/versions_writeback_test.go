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

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// versionedJob is a job written in one version with every field that
// version has and the other lacks, and a status to match.
type versionedJob struct {
	version, other string
	spec, status   string // JSON
}

var writeBackJobs = []versionedJob{{
	version: "v1alpha2", other: "v2beta1",
	spec: `{"slotsPerWorker": 2, "backoffLimit": 3, "activeDeadlineSeconds": 100, "cleanPodPolicy": "Running",
		"mainContainer": "mpi", "mpiDistribution": "IntelMPI",
		"runPolicy": {"cleanPodPolicy": "All", "backoffLimit": 5, "ttlSecondsAfterFinished": 60,
			"schedulingPolicy": {"minAvailable": 2, "queue": "q"}},
		"mpiReplicaSpecs": ` + writeBackReplicas + `}`,
	status: `{"conditions": [{"type": "Created", "status": "True", "reason": "MPIJobCreated",
			"lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"}],
		"replicaStatuses": {"Launcher": {"active": 1}}, "startTime": "2024-01-01T00:00:01Z"}`,
}, {
	version: "v2beta1", other: "v1alpha2",
	spec: `{"slotsPerWorker": 3, "runLauncherAsWorker": true, "sshAuthMountPath": "/home/mpiuser/.ssh",
		"launcherCreationPolicy": "WaitForWorkersReady", "mpiImplementation": "MPICH",
		"runPolicy": {"cleanPodPolicy": "None", "backoffLimit": 4, "activeDeadlineSeconds": 200, "suspend": true,
			"managedBy": "kueue.x-k8s.io/multikueue", "schedulingPolicy": {"scheduleTimeoutSeconds": 30}},
		"mpiReplicaSpecs": ` + writeBackReplicas + `}`,
	status: `{"conditions": [
			{"type": "Created", "status": "True", "reason": "MPIJobCreated",
				"lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"},
			{"type": "Suspended", "status": "True", "reason": "MPIJobSuspended",
				"lastUpdateTime": "2024-01-01T00:00:02Z", "lastTransitionTime": "2024-01-01T00:00:02Z"}],
		"replicaStatuses": {"Worker": {"active": 2, "labelSelector": {"matchLabels": {"job": "wb"}}, "selector": "job=wb"}}}`,
}}

const writeBackReplicas = `{
	"Launcher": {"replicas": 1, "template": {"spec": {"containers": [{"name": "mpi", "image": "e2e.example/launcher:1"}]}}},
	"Worker": {"replicas": 2, "template": {"spec": {"containers": [{"name": "mpi", "image": "e2e.example/worker:1"}]}}}}`

// TestVersionsWriteBack: what a user does with kubectl (edit, client-side
// apply, merge and JSON patch, replace) and a controller does with the
// generated clientset (UpdateStatus) through one version leaves a job
// written in the other version as it was. Each step changes the label
// "step" only; the read in the original version is compared whole except
// metadata.resourceVersion, metadata.generation, metadata.managedFields,
// metadata.labels
// (checked to be {step: <the step>}) and kubectl's last-applied
// annotation (checked on its own: it holds the applying version's JSON,
// unconverted, as kube-apiserver keeps it).
func TestVersionsWriteBack(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	for _, j := range writeBackJobs {
		t.Run("written-in-"+j.version, func(t *testing.T) {
			ns, name := "versions-wb-"+j.version, "wb"
			manifest := `{"apiVersion": "kubeflow.org/` + j.version + `", "kind": "MPIJob",
				"metadata": {"name": "` + name + `", "namespace": "` + ns + `", "labels": {"step": "created"}},
				"spec": ` + j.spec + `}`
			s.kubectlIn(t, manifest, "create", "-f", "-")
			current := readVersion(t, s, j.version, ns, name)
			current["status"] = decodeJSON(t, []byte(j.status))
			s.kubectlIn(t, mustMarshal(t, current), "replace", "--subresource=status", "-f", "-")
			before := readVersion(t, s, j.version, ns, name)
			if d := cmp.Diff(decodeJSON(t, []byte(j.status)), before["status"]); d != "" {
				t.Fatalf("the status as written in %s (-want +got):\n%s", j.version, d)
			}
			otherBefore := readVersion(t, s, j.other, ns, name)
			res := "mpijobs." + j.other + ".kubeflow.org"

			expectUnchanged := func(t *testing.T, step string) {
				t.Helper()
				after := readVersion(t, s, j.version, ns, name)
				if got := get(after, "metadata", "labels"); cmp.Diff(obj{"step": step}, got) != "" {
					t.Errorf("after %s: labels %v, want {step: %s}", step, got, step)
				}
				if d := cmp.Diff(comparable(before), comparable(after)); d != "" {
					t.Errorf("after %s through %s, the job read in %s changed (-before +after):\n%s", step, j.other, j.version, d)
				}
				if j.version == "v2beta1" {
					// A v1alpha2 write adds nothing v2beta1 shows.
					if d := cmp.Diff(comparable(otherBefore), comparable(readVersion(t, s, j.other, ns, name))); d != "" {
						t.Errorf("after %s, the job read in %s changed (-before +after):\n%s", step, j.other, d)
					}
				}
			}

			t.Run("edit", func(t *testing.T) {
				editor := filepath.Join(t.TempDir(), "editor.sh")
				script := "#!/bin/sh\nsed -i 's/\"step\": \"created\"/\"step\": \"edit\"/' \"$1\"\n"
				if err := os.WriteFile(editor, []byte(script), 0o700); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
				defer cancel()
				cmd := s.kc.Command(ctx, "edit", res, name, "-n", ns, "-o", "json")
				cmd.Env = append(cmd.Env, "KUBE_EDITOR="+editor, "EDITOR="+editor)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("kubectl edit %s: %v\n%s", res, err, out)
				}
				expectUnchanged(t, "edit")
			})
			t.Run("apply", func(t *testing.T) {
				read := readVersion(t, s, j.other, ns, name)
				read["metadata"].(obj)["labels"] = obj{"step": "apply"}
				s.kubectlIn(t, mustMarshal(t, read), "apply", "-f", "-")
				expectUnchanged(t, "apply")
				// The annotation is the applied object in the applying
				// version: its apiVersion and its spec as that version shows it.
				for _, v := range []string{j.version, j.other} {
					after := readVersion(t, s, v, ns, name)
					raw, _ := get(after, "metadata", "annotations", lastApplied).(string)
					var applied obj
					if err := json.Unmarshal([]byte(raw), &applied); err != nil {
						t.Fatalf("read in %s: %s is not JSON: %v: %q", v, lastApplied, err, raw)
					}
					if applied["apiVersion"] != "kubeflow.org/"+j.other {
						t.Errorf("read in %s: %s has apiVersion %v, want kubeflow.org/%s (the applying version)", v, lastApplied, applied["apiVersion"], j.other)
					}
					if d := cmp.Diff(read["spec"], applied["spec"]); d != "" {
						t.Errorf("read in %s: %s holds a spec other than the one applied in %s (-applied +annotation):\n%s", v, lastApplied, j.other, d)
					}
				}
			})
			t.Run("patch-merge", func(t *testing.T) {
				s.kubectl(t, "patch", res, name, "-n", ns, "--type", "merge", "-p", `{"metadata":{"labels":{"step":"patch-merge"}}}`)
				expectUnchanged(t, "patch-merge")
			})
			t.Run("patch-json", func(t *testing.T) {
				s.kubectl(t, "patch", res, name, "-n", ns, "--type", "json", "-p", `[{"op":"replace","path":"/metadata/labels/step","value":"patch-json"}]`)
				expectUnchanged(t, "patch-json")
			})
			t.Run("replace", func(t *testing.T) {
				read := readVersion(t, s, j.other, ns, name)
				read["metadata"].(obj)["labels"] = obj{"step": "replace"}
				s.kubectlIn(t, mustMarshal(t, read), "replace", "-f", "-")
				expectUnchanged(t, "replace")
			})
			t.Run("UpdateStatus", func(t *testing.T) {
				c, err := s.Admin.Clientset()
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				// A condition appended in the other version; everything else
				// of the status, even what that version cannot show, stays.
				when := metav1.NewTime(time.Date(2024, 1, 1, 0, 0, 3, 0, time.UTC))
				switch j.other {
				case "v1alpha2":
					jobs := c.KubeflowV1alpha2().MPIJobs(ns)
					got, err := jobs.Get(ctx, name, metav1.GetOptions{})
					if err != nil {
						t.Fatal(err)
					}
					got.Status.Conditions = append(got.Status.Conditions, v1alpha2.JobCondition{
						Type: v1alpha2.JobRunning, Status: corev1.ConditionTrue, Reason: "MPIJobRunning", LastUpdateTime: when, LastTransitionTime: when})
					if _, err := jobs.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
						t.Fatal(err)
					}
				case "v2beta1":
					jobs := c.KubeflowV2beta1().MPIJobs(ns)
					got, err := jobs.Get(ctx, name, metav1.GetOptions{})
					if err != nil {
						t.Fatal(err)
					}
					got.Status.Conditions = append(got.Status.Conditions, v2beta1.JobCondition{
						Type: v2beta1.JobRunning, Status: corev1.ConditionTrue, Reason: "MPIJobRunning", LastUpdateTime: when, LastTransitionTime: when})
					if _, err := jobs.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				running := obj{"type": "Running", "status": "True", "reason": "MPIJobRunning",
					"lastUpdateTime": "2024-01-01T00:00:03Z", "lastTransitionTime": "2024-01-01T00:00:03Z"}
				for _, o := range []obj{before, otherBefore} {
					st := o["status"].(obj)
					st["conditions"] = append(st["conditions"].([]any), running)
				}
				expectUnchanged(t, "replace")
			})
		})
	}
}

// readVersion is the job as `kubectl get -o json` shows it in version.
func readVersion(t *testing.T, s *server, version, ns, name string) obj {
	t.Helper()
	o := decodeJSON(t, []byte(s.kubectl(t, "get", "mpijobs."+version+".kubeflow.org", name, "-n", ns, "-o", "json")))
	if o["apiVersion"] != "kubeflow.org/"+version {
		t.Fatalf("kubectl get in %s: apiVersion %v", version, o["apiVersion"])
	}
	return o
}

// comparable drops what a write may change: resourceVersion, generation,
// managedFields, labels and kubectl's last-applied annotation.
func comparable(o obj) obj {
	data, err := json.Marshal(o)
	if err != nil {
		panic(err)
	}
	var out obj
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	md := out["metadata"].(obj)
	delete(md, "resourceVersion")
	delete(md, "generation")
	delete(md, "managedFields")
	delete(md, "labels")
	if a, ok := md["annotations"].(obj); ok {
		delete(a, lastApplied)
		if len(a) == 0 {
			delete(md, "annotations")
		}
	}
	return out
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
