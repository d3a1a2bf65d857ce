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

package aggregated

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestImport: the README's migration procedure through a real cluster.
// MPIJobs created through kube-apiserver, with status written through
// /status, exported with kubectl v1.37.2 (get -A -o yaml), deleted, and
// imported with `mpijob-apiserver import --kubeconfig <the cluster's>` come
// back with the export's spec, status, labels and annotations; a second
// import reports every object unchanged and writes nothing. The importer
// acts with the user's RBAC in the cluster: without status rights an object
// is created and its status refused, and a later import by someone with the
// rights completes it.
func TestImport(t *testing.T) {
	e := cluster.StartEnvForTest(t, cluster.EnvOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin, err := e.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"imp-a", "imp-b"} {
		if err := e.CreateNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}

	// The objects, as users and the operator made them.
	at := func(s string) *metav1.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		mt := metav1.NewTime(tm)
		return &mt
	}
	cond := func(typ v1alpha2.JobConditionType, status corev1.ConditionStatus, reason, msg, when string) v1alpha2.JobCondition {
		return v1alpha2.JobCondition{Type: typ, Status: status, Reason: reason, Message: msg, LastUpdateTime: *at(when), LastTransitionTime: *at(when)}
	}
	seed, err := os.ReadFile("../../artifacts/mpijobs/mpi-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.Kubectl(cluster.Admin).Run(ctx, strings.Replace(string(seed), "namespace: kube-test", "namespace: imp-a", 1), "create", "-f", "-"); r.ExitCode != 0 {
		t.Fatalf("kubectl create the seed: %s", r)
	}
	done := harness.NewMPIJob("imp-a", "done", 4)
	done.Labels = map[string]string{"team": "hpc", "app": "resnet"}
	done.Annotations = map[string]string{"example.com/owner": "alice"}
	failed := harness.NewMPIJob("imp-b", "failed", 2)
	failed.Annotations = map[string]string{"example.com/ticket": "42"}
	for _, j := range []*v1alpha2.MPIJob{done, failed, harness.NewMPIJob("imp-b", "fresh", 1)} {
		if _, err := admin.KubeflowV1alpha2().MPIJobs(j.Namespace).Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	statuses := map[string]v1alpha2.JobStatus{
		"imp-a/mpi-test": {
			Conditions: []v1alpha2.JobCondition{
				cond(v1alpha2.JobCreated, corev1.ConditionTrue, "MPIJobCreated", "MPIJob imp-a/mpi-test is created.", "2019-03-01T10:00:00Z"),
				cond(v1alpha2.JobRunning, corev1.ConditionTrue, "MPIJobRunning", "MPIJob imp-a/mpi-test is running.", "2019-03-01T10:01:00Z"),
			},
			ReplicaStatuses: map[v1alpha2.ReplicaType]*v1alpha2.ReplicaStatus{"Launcher": {Active: 1}, "Worker": {Active: 2}},
			StartTime:       at("2019-03-01T10:00:00Z"), LastReconcileTime: at("2019-03-01T10:05:00Z"),
		},
		"imp-a/done": {
			Conditions: []v1alpha2.JobCondition{
				cond(v1alpha2.JobCreated, corev1.ConditionTrue, "MPIJobCreated", "", "2019-03-02T08:00:00Z"),
				cond(v1alpha2.JobRunning, corev1.ConditionFalse, "MPIJobSucceeded", "", "2019-03-02T09:00:00Z"),
				cond(v1alpha2.JobSucceeded, corev1.ConditionTrue, "MPIJobSucceeded", "MPIJob imp-a/done successfully completed.", "2019-03-02T09:00:00Z"),
			},
			ReplicaStatuses: map[v1alpha2.ReplicaType]*v1alpha2.ReplicaStatus{"Launcher": {Succeeded: 1}, "Worker": {}},
			StartTime:       at("2019-03-02T08:00:00Z"), CompletionTime: at("2019-03-02T09:00:00Z"),
		},
		"imp-b/failed": {
			Conditions: []v1alpha2.JobCondition{
				cond(v1alpha2.JobCreated, corev1.ConditionTrue, "MPIJobCreated", "", "2019-03-03T08:00:00Z"),
				cond(v1alpha2.JobFailed, corev1.ConditionTrue, "MPIJobFailed", "launcher exited with 137", "2019-03-03T08:30:00Z"),
			},
			ReplicaStatuses: map[v1alpha2.ReplicaType]*v1alpha2.ReplicaStatus{"Launcher": {Failed: 1}, "Worker": {Active: 2}},
			StartTime:       at("2019-03-03T08:00:00Z"), CompletionTime: at("2019-03-03T08:30:00Z"),
		},
		// imp-b/fresh: not picked up by the operator yet, no status.
	}
	for key, st := range statuses {
		ns, name, _ := strings.Cut(key, "/")
		jobs := admin.KubeflowV1alpha2().MPIJobs(ns)
		j, err := jobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		j.Status = st
		if _, err := jobs.UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("status of %s: %v", key, err)
		}
	}
	keys := []string{"imp-a/done", "imp-a/mpi-test", "imp-b/failed", "imp-b/fresh"}

	// Export, as the README says.
	r := e.Kubectl(cluster.Admin).Run(ctx, "", "get", "mpijobs", "-A", "-o", "yaml")
	if r.ExitCode != 0 {
		t.Fatalf("kubectl get mpijobs -A -o yaml: %s", r)
	}
	file := filepath.Join(t.TempDir(), "mpijobs.yaml")
	if err := os.WriteFile(file, []byte(r.Stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	var export v1alpha2.MPIJobList
	if err := yaml.Unmarshal([]byte(r.Stdout), &export); err != nil {
		t.Fatalf("the export: %v\n%s", err, r.Stdout)
	}
	exported := map[string]v1alpha2.MPIJob{}
	for _, j := range export.Items {
		exported[j.Namespace+"/"+j.Name] = j
	}
	if got := sortedKeys(exported); !slices.Equal(got, keys) {
		t.Fatalf("the export holds %q, want %q", got, keys)
	}
	for key, st := range statuses {
		if !apiequality.Semantic.DeepEqual(exported[key].Status, st) {
			t.Errorf("the export's status of %s:\n%+v\nwant what was written:\n%+v", key, exported[key].Status, st)
		}
	}

	if r := e.Kubectl(cluster.Admin).Run(ctx, "", "delete", "mpijobs", "--all", "-A"); r.ExitCode != 0 {
		t.Fatalf("kubectl delete mpijobs --all -A: %s", r)
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := admin.KubeflowV1alpha2().MPIJobs("").List(ctx, metav1.ListOptions{})
		return err == nil && len(l.Items) == 0, err
	}); err != nil {
		t.Fatalf("MPIJobs left after kubectl delete --all: %v", err)
	}

	// live lists every MPIJob in the cluster by key.
	live := func() map[string]v1alpha2.MPIJob {
		t.Helper()
		l, err := admin.KubeflowV1alpha2().MPIJobs("").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]v1alpha2.MPIJob{}
		for _, j := range l.Items {
			m[j.Namespace+"/"+j.Name] = j
		}
		return m
	}
	// equalToExport compares what a user gets back with what was exported.
	equalToExport := func(t *testing.T) {
		t.Helper()
		got := live()
		if !slices.Equal(sortedKeys(got), keys) {
			t.Fatalf("the cluster holds %q, want %q", sortedKeys(got), keys)
		}
		for _, key := range keys {
			g, x := got[key], exported[key]
			if !apiequality.Semantic.DeepEqual(g.Spec, x.Spec) {
				t.Errorf("%s: spec\n%+v\nwant the export's\n%+v", key, g.Spec, x.Spec)
			}
			if !apiequality.Semantic.DeepEqual(g.Status, x.Status) {
				t.Errorf("%s: status\n%+v\nwant the export's\n%+v", key, g.Status, x.Status)
			}
			if !apiequality.Semantic.DeepEqual(g.Labels, x.Labels) || !apiequality.Semantic.DeepEqual(g.Annotations, x.Annotations) {
				t.Errorf("%s: labels %v, annotations %v; want the export's %v, %v", key, g.Labels, g.Annotations, x.Labels, x.Annotations)
			}
			if g.UID == x.UID {
				t.Errorf("%s has the exported UID %s: it was never deleted and created again", key, g.UID)
			}
		}
	}

	t.Run("import", func(t *testing.T) {
		res := runImport(ctx, t, e, cluster.Admin, file)
		if res.ExitCode != 0 {
			t.Fatalf("import: %s", res)
		}
		wantLines(t, res.Stdout, "created imp-a/done", "created imp-a/mpi-test", "created imp-b/failed", "created imp-b/fresh",
			"4 created, 0 unchanged, 0 refused, 0 differ, 0 status written")
		if strings.TrimSpace(res.Stderr) != "" {
			t.Errorf("import warned: %s", res.Stderr)
		}
		equalToExport(t)
		if r := e.Kubectl("nobody").Run(ctx, "", "get", "mpijobs", "-A"); r.ExitCode != 1 {
			t.Errorf("nobody lists the imported MPIJobs: %s", r) // imports do not bypass RBAC
		}
	})

	t.Run("second import changes nothing", func(t *testing.T) {
		before := live()
		res := runImport(ctx, t, e, cluster.Admin, file)
		if res.ExitCode != 0 {
			t.Fatalf("the second import: %s", res)
		}
		wantLines(t, res.Stdout, "unchanged imp-a/done", "unchanged imp-a/mpi-test", "unchanged imp-b/failed", "unchanged imp-b/fresh",
			"0 created, 4 unchanged, 0 refused, 0 differ, 0 status written")
		after := live()
		for _, key := range keys {
			if b, a := before[key].ResourceVersion, after[key].ResourceVersion; a != b {
				t.Errorf("%s: resourceVersion %s after the second import, %s before", key, a, b)
			}
		}
		equalToExport(t)
	})

	t.Run("with the importing user's RBAC", func(t *testing.T) {
		// alice may edit MPIJobs in imp-b but not write status, and has no
		// rights in imp-a.
		if err := e.Bind(ctx, "alice", "mpijob-edit", "imp-b"); err != nil {
			t.Fatal(err)
		}
		if err := admin.KubeflowV1alpha2().MPIJobs("imp-b").Delete(ctx, "failed", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		res := runImport(ctx, t, e, "alice", file)
		if res.ExitCode == 0 {
			t.Errorf("alice's import exited 0: %s", res)
		}
		lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
		want := map[string]string{
			"imp-a/done":     `refused imp-a/done: mpijobs.kubeflow.org is forbidden: User "alice" cannot create resource "mpijobs" in API group "kubeflow.org" in the namespace "imp-a"`,
			"imp-a/mpi-test": `refused imp-a/mpi-test: mpijobs.kubeflow.org is forbidden: User "alice" cannot create resource "mpijobs" in API group "kubeflow.org" in the namespace "imp-a"`,
			"imp-b/failed":   `refused imp-b/failed: created, but its status was not written (importing again writes it): mpijobs.kubeflow.org "failed" is forbidden: User "alice" cannot update resource "mpijobs/status" in API group "kubeflow.org" in the namespace "imp-b"`,
			"imp-b/fresh":    "unchanged imp-b/fresh",
		}
		for key, w := range want {
			if !slices.Contains(lines, w) {
				t.Errorf("alice's import says nothing like %q about %s:\n%s", w, key, res.Stdout)
			}
		}
		if !slices.Contains(lines, "0 created, 1 unchanged, 3 refused, 0 differ, 0 status written") {
			t.Errorf("alice's import summary:\n%s", res.Stdout)
		}
		j, err := admin.KubeflowV1alpha2().MPIJobs("imp-b").Get(ctx, "failed", metav1.GetOptions{})
		if err != nil || len(j.Status.Conditions) != 0 {
			t.Fatalf("imp-b/failed after alice's import: %v, status %+v; want it created without status", err, j.Status)
		}
		// The admin's import completes it.
		res = runImport(ctx, t, e, cluster.Admin, file)
		if res.ExitCode != 0 {
			t.Fatalf("the admin's import after alice's: %s", res)
		}
		wantLines(t, res.Stdout, "unchanged imp-a/done", "unchanged imp-a/mpi-test", "status written imp-b/failed", "unchanged imp-b/fresh",
			"0 created, 3 unchanged, 0 refused, 0 differ, 1 status written")
		j, err = admin.KubeflowV1alpha2().MPIJobs("imp-b").Get(ctx, "failed", metav1.GetOptions{})
		if err != nil || !apiequality.Semantic.DeepEqual(j.Status, exported["imp-b/failed"].Status) {
			t.Errorf("imp-b/failed after the admin's import: %v\n%+v\nwant the export's status", err, j.Status)
		}
	})
}

// importResult is what one `mpijob-apiserver import` printed and how it
// exited.
type importResult struct {
	Stdout, Stderr string
	// ExitCode is -1 when it did not run or was killed (Err says why).
	ExitCode int
	Err      error
}

func (r importResult) String() string {
	return fmt.Sprintf("exit %d (%v)\nstdout:\n%s\nstderr:\n%s", r.ExitCode, r.Err, r.Stdout, r.Stderr)
}

// runImport runs `mpijob-apiserver import -f file` with user's kubeconfig of
// the cluster (the binary the harness runs as the server).
func runImport(ctx context.Context, t *testing.T, e *cluster.Env, user, file string) importResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Server.Bin, "import", "-f", file, "--kubeconfig", e.Kubeconfig(user))
	cmd.Env = []string{"HOME=" + filepath.Join(e.Dir, "home"), "PATH=" + os.Getenv("PATH")}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := importResult{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: cmd.ProcessState.ExitCode(), Err: err}
	t.Logf("import as %s: exit %d\n%s%s", user, res.ExitCode, res.Stdout, res.Stderr)
	return res
}

// wantLines checks that out is exactly these lines, in any order.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	got := strings.Split(strings.TrimSpace(out), "\n")
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the import printed\n%s\nwant the lines\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
