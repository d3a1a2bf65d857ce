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
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestFrontDoor: a cluster user (alice, bound to the shipped mpijob-edit in
// namespace fd) works with MPIJobs only through kube-apiserver's URL, with
// kubectl v1.37.2 and with plain HTTP requests, and sees what she would see
// for a built-in type: explain from the aggregated OpenAPI, tables with the
// server's columns, create, watch events, strategic merge patch, server-side
// apply with its conflicts.
func TestFrontDoor(t *testing.T) {
	e := cluster.StartEnvForTest(t, cluster.EnvOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ns = "fd"
	if err := e.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := e.Bind(ctx, "alice", "mpijob-edit", ns); err != nil {
		t.Fatal(err)
	}
	admin, err := e.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	jobs := admin.KubeflowV1alpha2().MPIJobs(ns)
	kubectl := func(stdin string, args ...string) harness.KubectlResult {
		return e.Kubectl("alice").Run(ctx, stdin, args...)
	}

	t.Run("explain", func(t *testing.T) {
		r := kubectl("", "explain", "mpijob.spec.mpiReplicaSpecs")
		if r.ExitCode != 0 {
			t.Fatalf("kubectl explain mpijob.spec.mpiReplicaSpecs: %s", r)
		}
		lines := normalizedLines(r.Stdout)
		for _, want := range []string{
			"GROUP: kubeflow.org",
			"KIND: MPIJob",
			"VERSION: v1alpha2",
			"FIELD: mpiReplicaSpecs <map[string]ReplicaSpec>",
			"The launcher and worker replica specifications, keyed by Launcher and",
			"replicas <integer>",
			"restartPolicy <string>",
			"enum: Always, ExitCode, Never, OnFailure",
			"template <PodTemplateSpec>",
		} {
			if !slices.Contains(lines, want) {
				t.Errorf("kubectl explain mpijob.spec.mpiReplicaSpecs has no line %q:\n%s", want, r.Stdout)
			}
		}
		// Into the core types the template refers to, through the same
		// aggregated OpenAPI document.
		r = kubectl("", "explain", "mpijobs.spec.mpiReplicaSpecs.template.spec.containers.image")
		if r.ExitCode != 0 || !slices.Contains(normalizedLines(r.Stdout), "FIELD: image <string>") {
			t.Errorf("kubectl explain ...template.spec.containers.image: %s", r)
		}
		r = kubectl("", "explain", "mpijob.spec.nosuch")
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, `field "nosuch" does not exist`) {
			t.Errorf("kubectl explain mpijob.spec.nosuch: %s\nwant exit 1 and field \"nosuch\" does not exist", r)
		}
	})

	seed, err := os.ReadFile("../../artifacts/mpijobs/mpi-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seedYAML := strings.Replace(string(seed), "namespace: kube-test", "namespace: "+ns, 1)

	t.Run("create and get", func(t *testing.T) {
		r := kubectl(seedYAML, "create", "-f", "-")
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/mpi-test created" {
			t.Fatalf("kubectl create -f mpi-test.yaml: %s", r)
		}
		r = kubectl("", "get", "mpijobs", "-n", ns)
		headers, rows := cluster.ParseTable(r.Stdout)
		if r.ExitCode != 0 || !slices.Equal(headers, []string{"NAME", "STATE", "WORKERS", "AGE"}) || len(rows) != 1 {
			t.Fatalf("kubectl get mpijobs: %s\nwant the columns NAME STATE WORKERS AGE and one row", r)
		}
		if row := rows[0]; row["NAME"] != "mpi-test" || row["STATE"] != "" || row["WORKERS"] != "2" || !isAge(row["AGE"]) {
			t.Errorf("kubectl get mpijobs, row %q; want mpi-test, no state yet, 2 workers, an age", row)
		}

		// The operator reports progress through /status; STATE follows it.
		job, err := jobs.Get(ctx, "mpi-test", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		job.Status = v1alpha2.JobStatus{Conditions: []v1alpha2.JobCondition{
			{Type: v1alpha2.JobCreated, Status: corev1.ConditionTrue, LastUpdateTime: now, LastTransitionTime: now},
			{Type: v1alpha2.JobRunning, Status: corev1.ConditionTrue, LastUpdateTime: now, LastTransitionTime: now},
		}, StartTime: &now}
		if _, err := jobs.UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		r = kubectl("", "get", "mj", "mpi-test", "-n", ns, "-o", "wide")
		headers, rows = cluster.ParseTable(r.Stdout)
		if r.ExitCode != 0 || !slices.Equal(headers, []string{"NAME", "STATE", "WORKERS", "AGE", "SLOTS", "LAUNCHER IMAGE"}) || len(rows) != 1 {
			t.Fatalf("kubectl get mj mpi-test -o wide: %s", r)
		}
		if row := rows[0]; row["STATE"] != "Running" || row["WORKERS"] != "2" || row["SLOTS"] != "1" ||
			row["LAUNCHER IMAGE"] != "100.79.1.215:20202/paas_cci_w00427225/horovod-mxnet:mnist" {
			t.Errorf("kubectl get mj mpi-test -o wide, row %q", row)
		}
		// The category: kubectl get kubeflow lists MPIJobs.
		r = kubectl("", "get", "kubeflow", "-n", ns, "-o", "name")
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/mpi-test" {
			t.Errorf("kubectl get kubeflow -o name: %s", r)
		}
		r = kubectl("", "get", "mpijob", "nope", "-n", ns)
		if r.ExitCode != 1 || strings.TrimSpace(r.Stderr) != `Error from server (NotFound): mpijobs.kubeflow.org "nope" not found` {
			t.Errorf("kubectl get mpijob nope: %s", r)
		}
	})

	t.Run("watch", func(t *testing.T) {
		wctx, stop := context.WithTimeout(ctx, time.Minute)
		defer stop()
		cmd := e.Kubectl("alice").Command(wctx, "get", "mpijobs", "-n", ns, "-w", "--output-watch-events")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { stop(); _ = cmd.Wait() }()
		lines := make(chan string, 100)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		var seen []string
		next := func(want string) {
			t.Helper()
			timeout := time.After(30 * time.Second)
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("kubectl get -w ended before %q; it printed %q; stderr %s", want, seen, stderr.String())
					}
					seen = append(seen, l)
					if f := strings.Fields(l); len(f) >= 2 && f[0]+" "+f[1] == want {
						return
					}
				case <-timeout:
					t.Fatalf("kubectl get -w: no %q within 30 s; it printed %q; stderr %s", want, seen, stderr.String())
				}
			}
		}
		// The initial list shows as ADDED; once it is there, the watch
		// continues from the list's resourceVersion and misses nothing.
		next("ADDED mpi-test")
		if r := kubectl(harness.MPIJobJSON(ns, "w1", 1), "create", "-f", "-"); r.ExitCode != 0 {
			t.Fatalf("create w1: %s", r)
		}
		next("ADDED w1")
		if r := kubectl("", "patch", "mpijob", "w1", "-n", ns, "--type=merge", "-p", `{"spec":{"slotsPerWorker":2}}`); r.ExitCode != 0 {
			t.Fatalf("patch w1: %s", r)
		}
		next("MODIFIED w1")
		r := kubectl("", "delete", "mpijob", "w1", "-n", ns)
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, `mpijob.kubeflow.org "w1" deleted`) {
			t.Fatalf("kubectl delete mpijob w1: %s", r)
		}
		next("DELETED w1")
		if !slices.Equal(strings.Fields(seen[0]), []string{"EVENT", "NAME", "STATE", "WORKERS", "AGE"}) {
			t.Errorf("kubectl get -w --output-watch-events header %q, want EVENT NAME STATE WORKERS AGE", seen[0])
		}
		t.Logf("kubectl get -w printed:\n%s", strings.Join(seen, "\n"))
	})

	t.Run("strategic merge patch", func(t *testing.T) {
		before, err := jobs.Get(ctx, "mpi-test", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// kubectl patch defaults to a strategic merge patch: the map entry
		// Worker is merged, not replaced, so its template stays.
		r := kubectl("", "patch", "mpijob", "mpi-test", "-n", ns, "-p", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":4}}}}`)
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/mpi-test patched" {
			t.Fatalf("kubectl patch (strategic) Worker replicas 4: %s", r)
		}
		got, err := jobs.Get(ctx, "mpi-test", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w := got.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker]
		if w == nil || w.Replicas == nil || *w.Replicas != 4 {
			t.Fatalf("after the patch Worker = %+v, want 4 replicas", w)
		}
		if !apiequality.Semantic.DeepEqual(w.Template, before.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Template) ||
			!apiequality.Semantic.DeepEqual(got.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeLauncher], before.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeLauncher]) {
			t.Errorf("the strategic patch of Worker.replicas changed more:\nbefore %+v\nafter  %+v", before.Spec, got.Spec)
		}
		if got.Status.StartTime == nil || kubeflowState(got) != "Running" {
			t.Errorf("a spec patch changed the status: %+v", got.Status)
		}
		// Containers merge by name: a new image keeps the container's
		// resources (a JSON merge patch would replace the whole list).
		r = kubectl("", "patch", "mpijob", "mpi-test", "-n", ns, "-p",
			`{"spec":{"mpiReplicaSpecs":{"Worker":{"template":{"spec":{"containers":[{"name":"mpi","image":"horovod:2"}]}}}}}}`)
		if r.ExitCode != 0 {
			t.Fatalf("kubectl patch (strategic) the worker container's image: %s", r)
		}
		got, err = jobs.Get(ctx, "mpi-test", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cs := got.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Template.Spec.Containers
		if len(cs) != 1 || cs[0].Image != "horovod:2" || cs[0].Resources.Limits.Memory().String() != "2Gi" {
			t.Errorf("after the container patch: %+v, want one container mpi, image horovod:2, still 2Gi", cs)
		}
		r = kubectl("", "get", "mpijob", "mpi-test", "-n", ns)
		if _, rows := cluster.ParseTable(r.Stdout); len(rows) != 1 || rows[0]["WORKERS"] != "4" {
			t.Errorf("kubectl get after the patch: %s\nwant WORKERS 4", r)
		}
	})

	t.Run("server-side apply", func(t *testing.T) {
		manifest := func(workers int, slots string) string {
			s := fmt.Sprintf(`apiVersion: kubeflow.org/v1alpha2
kind: MPIJob
metadata:
  name: ssa
  namespace: %s
spec:
  mpiReplicaSpecs:
    Launcher:
      replicas: 1
      template: {spec: {containers: [{name: mpi, image: "launcher:1"}]}}
    Worker:
      replicas: %d
      template: {spec: {containers: [{name: mpi, image: "worker:1"}]}}
`, ns, workers)
			if slots != "" {
				s += "  slotsPerWorker: " + slots + "\n"
			}
			return s
		}
		get := func() *v1alpha2.MPIJob {
			t.Helper()
			j, err := jobs.Get(ctx, "ssa", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		r := kubectl(manifest(2, "1"), "apply", "--server-side", "-f", "-")
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/ssa serverside-applied" {
			t.Fatalf("kubectl apply --server-side (create): %s", r)
		}
		j := get()
		if mf := j.ManagedFields; len(mf) != 1 || mf[0].Manager != "kubectl" || mf[0].Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("managedFields after the apply: %+v, want one Apply entry of kubectl", mf)
		}
		// Applying again with a changed field changes it; a field left out
		// of the manifest that only kubectl owned is removed.
		r = kubectl(manifest(2, ""), "apply", "--server-side", "-f", "-")
		if r.ExitCode != 0 {
			t.Fatalf("kubectl apply --server-side without slotsPerWorker: %s", r)
		}
		if j = get(); j.Spec.SlotsPerWorker != nil {
			t.Errorf("slotsPerWorker = %d after applying a manifest without it, want unset", *j.Spec.SlotsPerWorker)
		}
		// Another manager takes the workers; the next apply conflicts.
		if r := kubectl("", "patch", "mpijob", "ssa", "-n", ns, "-p", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":5}}}}`); r.ExitCode != 0 {
			t.Fatalf("kubectl patch: %s", r)
		}
		r = kubectl(manifest(3, ""), "apply", "--server-side", "-f", "-")
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, `Apply failed with 1 conflict: conflict with "kubectl-patch"`) ||
			!strings.Contains(r.Stderr, ".spec.mpiReplicaSpecs.Worker.replicas") {
			t.Errorf("kubectl apply --server-side over kubectl-patch's replicas: %s\nwant exit 1 and a conflict with \"kubectl-patch\" on .spec.mpiReplicaSpecs.Worker.replicas", r)
		}
		if w := get().Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker]; *w.Replicas != 5 {
			t.Errorf("a conflicting apply changed Worker replicas to %d", *w.Replicas)
		}
		r = kubectl(manifest(3, ""), "apply", "--server-side", "--force-conflicts", "-f", "-")
		if r.ExitCode != 0 {
			t.Fatalf("kubectl apply --server-side --force-conflicts: %s", r)
		}
		if w := get().Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker]; *w.Replicas != 3 {
			t.Errorf("after --force-conflicts Worker replicas = %d, want 3", *w.Replicas)
		}
	})

	t.Run("raw HTTP", func(t *testing.T) {
		// As curl would: the cluster CA, and a bearer token or a client
		// certificate, nothing else.
		tc, err := harness.TLSClientConfig(e.PKI.ClusterCA, harness.KeyPair{})
		if err != nil {
			t.Fatal(err)
		}
		plain := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 30 * time.Second}
		defer plain.CloseIdleConnections()
		tcCert, err := harness.TLSClientConfig(e.PKI.ClusterCA, e.PKI.Admin)
		if err != nil {
			t.Fatal(err)
		}
		withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: tcCert}, Timeout: 30 * time.Second}
		defer withCert.CloseIdleConnections()
		alice := e.Users["alice"].Token
		base := e.URL + "/apis/kubeflow.org/v1alpha2"
		coll := base + "/namespaces/" + ns + "/mpijobs"
		// asAlice sends r with alice's token.
		asAlice := func(r harness.Request) harness.Response {
			t.Helper()
			r.Token = alice
			return harness.SendForTest(t, plain, r)
		}
		wantStatus := func(what string, r harness.Response, code int, reason metav1.StatusReason, message string) {
			t.Helper()
			if r.Code != code || r.Status == nil || r.Status.Reason != reason || r.Status.Code != int32(code) || r.Status.Message != message {
				t.Errorf("%s: %s\nwant %d %s %q", what, r, code, reason, message)
			}
		}

		// Discovery of the group version.
		r := asAlice(harness.Request{URL: base})
		var resources metav1.APIResourceList
		if r.Code != http.StatusOK || json.Unmarshal(r.Body, &resources) != nil || resources.GroupVersion != "kubeflow.org/v1alpha2" {
			t.Fatalf("GET %s: %s", base, r)
		}
		var names []string
		for _, res := range resources.APIResources {
			names = append(names, res.Name)
		}
		if !slices.Equal(names, []string{"mpijobs", "mpijobs/scale", "mpijobs/status"}) {
			t.Errorf("GET %s lists %q, want mpijobs, mpijobs/scale and mpijobs/status", base, names)
		}

		// List, as JSON and as a Table.
		r = asAlice(harness.Request{URL: coll})
		var list v1alpha2.MPIJobList
		if r.Code != http.StatusOK || json.Unmarshal(r.Body, &list) != nil || list.Kind != "MPIJobList" || len(list.Items) == 0 {
			t.Fatalf("GET %s with alice's token: %s", coll, r)
		}
		r = asAlice(harness.Request{URL: coll, Accept: "application/json;as=Table;v=v1;g=meta.k8s.io"})
		var table metav1.Table
		if r.Code != http.StatusOK || json.Unmarshal(r.Body, &table) != nil || table.Kind != "Table" {
			t.Fatalf("GET %s as a Table: %s", coll, r)
		}
		var cols []string
		for _, c := range table.ColumnDefinitions {
			cols = append(cols, c.Name)
		}
		if !slices.Equal(cols, []string{"Name", "State", "Workers", "Age", "Slots", "Launcher Image"}) || len(table.Rows) != len(list.Items) {
			t.Errorf("the Table has columns %q and %d rows, want Name State Workers Age Slots \"Launcher Image\" and %d rows", cols, len(table.Rows), len(list.Items))
		}

		// Create, conflict, read, invalid, patch, delete.
		r = asAlice(harness.Request{Method: http.MethodPost, URL: coll, Body: harness.MPIJobJSON(ns, "raw", 2)})
		var created v1alpha2.MPIJob
		if r.Code != http.StatusCreated || json.Unmarshal(r.Body, &created) != nil || created.UID == "" || created.Name != "raw" {
			t.Fatalf("POST %s: %s, want 201 and the object", coll, r)
		}
		wantStatus("POST the same name again", asAlice(harness.Request{Method: http.MethodPost, URL: coll, Body: harness.MPIJobJSON(ns, "raw", 2)}),
			http.StatusConflict, metav1.StatusReasonAlreadyExists, `mpijobs.kubeflow.org "raw" already exists`)
		wantStatus("GET a missing MPIJob", asAlice(harness.Request{URL: coll + "/nope"}),
			http.StatusNotFound, metav1.StatusReasonNotFound, `mpijobs.kubeflow.org "nope" not found`)
		r = asAlice(harness.Request{Method: http.MethodPost, URL: coll, Body: harness.MPIJobJSON(ns, "zero", 0)})
		if r.Code != http.StatusUnprocessableEntity || r.Status == nil || r.Status.Reason != metav1.StatusReasonInvalid ||
			!strings.Contains(r.Status.Message, "spec.mpiReplicaSpecs[Worker].replicas") {
			t.Errorf("POST an MPIJob with 0 workers: %s, want 422 Invalid about spec.mpiReplicaSpecs[Worker].replicas", r)
		}
		r, err = harness.Send(ctx, plain, harness.Request{Method: http.MethodPatch, URL: coll + "/raw", Token: alice,
			ContentType: "application/merge-patch+json", Body: `{"metadata":{"labels":{"team":"hpc"}}}`})
		var patched v1alpha2.MPIJob
		if err != nil || r.Code != http.StatusOK || json.Unmarshal(r.Body, &patched) != nil || patched.Labels["team"] != "hpc" {
			t.Errorf("PATCH (merge) %s/raw: %v %s", coll, err, r)
		}
		// A client certificate of the cluster CA (admin) works as well.
		r = harness.SendForTest(t, withCert, harness.Request{URL: coll + "/raw"})
		if r.Code != http.StatusOK || !strings.Contains(string(r.Body), `"team":"hpc"`) {
			t.Errorf("GET %s/raw with the admin client certificate: %s", coll, r)
		}
		r = asAlice(harness.Request{Method: http.MethodDelete, URL: coll + "/raw"})
		if r.Code != http.StatusOK {
			t.Errorf("DELETE %s/raw: %s", coll, r)
		}
		wantStatus("GET the deleted MPIJob", asAlice(harness.Request{URL: coll + "/raw"}),
			http.StatusNotFound, metav1.StatusReasonNotFound, `mpijobs.kubeflow.org "raw" not found`)

		// kube-apiserver authenticates: a wrong token is 401, none is
		// system:anonymous (403).
		r = harness.SendForTest(t, plain, harness.Request{URL: coll, Token: "wrong"})
		if r.Code != http.StatusUnauthorized || r.Status == nil || r.Status.Reason != metav1.StatusReasonUnauthorized {
			t.Errorf("GET %s with a wrong token: %s, want 401 Unauthorized", coll, r)
		}
		wantStatus("GET without credentials", harness.SendForTest(t, plain, harness.Request{URL: coll}), http.StatusForbidden, metav1.StatusReasonForbidden,
			`mpijobs.kubeflow.org is forbidden: User "system:anonymous" cannot list resource "mpijobs" in API group "kubeflow.org" in the namespace "fd"`)
	})
}

// normalizedLines are the lines of out with runs of blanks made one space.
func normalizedLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return lines
}

// isAge is whether s looks like an AGE cell (5s, 3m2s, 1h).
func isAge(s string) bool {
	if s == "" {
		return false
	}
	_, err := time.ParseDuration(s)
	return err == nil
}

func kubeflowState(j *v1alpha2.MPIJob) v1alpha2.JobConditionType {
	for i := len(j.Status.Conditions) - 1; i >= 0; i-- {
		if j.Status.Conditions[i].Status == corev1.ConditionTrue {
			return j.Status.Conditions[i].Type
		}
	}
	return ""
}
