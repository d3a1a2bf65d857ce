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
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var ageRE = regexp.MustCompile(`^[0-9]+(s|m|h|d|y)([0-9]+(s|m|h))?$`)

// TestKubectlGet covers kubectl get on the seed: the server-side table, -o wide,
// -o yaml and every name the resource answers to.
func TestKubectlGet(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	seeded(t)

	t.Run("table", func(t *testing.T) {
		rows := table(s.kubectl(t, "get", "mpijobs", "-n", seedNS))
		if len(rows) != 2 {
			t.Fatalf("want a header and one row, got %q", rows)
		}
		if want := []string{"NAME", "STATE", "WORKERS", "AGE"}; !slices.Equal(rows[0], want) {
			t.Errorf("header = %q, want %q", rows[0], want)
		}
		if len(rows[1]) != 4 || !slices.Equal(rows[1][:3], []string{seedName, "Succeeded", "2"}) || !ageRE.MatchString(rows[1][3]) {
			t.Errorf("row = %q, want [mpi-test Succeeded 2 <age>]", rows[1])
		}
	})

	t.Run("wide", func(t *testing.T) {
		rows := table(s.kubectl(t, "get", "mj", "-n", seedNS, "-o", "wide"))
		if len(rows) != 2 {
			t.Fatalf("want a header and one row, got %q", rows)
		}
		if want := []string{"NAME", "STATE", "WORKERS", "AGE", "SLOTS", "LAUNCHER", "IMAGE"}; !slices.Equal(rows[0], want) {
			t.Errorf("header = %q, want %q", rows[0], want)
		}
		if r := rows[1]; len(r) != 6 || !slices.Equal(r[:3], []string{seedName, "Succeeded", "2"}) ||
			!ageRE.MatchString(r[3]) || r[4] != "1" || r[5] != seedImage {
			t.Errorf("row = %q, want [mpi-test Succeeded 2 <age> 1 %s]", r, seedImage)
		}
	})

	t.Run("wide shows the mainContainer's image", func(t *testing.T) {
		const ns = "e2e-wide"
		j := job{name: "side", ns: ns, sidecarFirst: true, launcherImage: "e2e.example/main:7", slots: 4}
		s.kubectlIn(t, j.yaml(), "create", "-f", "-")
		rows := table(s.kubectl(t, "get", "mj", "-n", ns, "-o", "wide"))
		// No status: STATE is empty, so the row has one cell less.
		if len(rows) != 2 || len(rows[1]) != 5 {
			t.Fatalf("want a header and a row of 5 cells, got %q", rows)
		}
		if r := rows[1]; r[0] != "side" || r[1] != "2" || !ageRE.MatchString(r[2]) || r[3] != "4" || r[4] != "e2e.example/main:7" {
			t.Errorf("row = %q, want [side 2 <age> 4 e2e.example/main:7] (LAUNCHER IMAGE is the mainContainer's)", r)
		}
	})

	t.Run("names", func(t *testing.T) {
		for _, res := range []string{"mpijob", "mpijobs", "mj", "mpij", "mpijobs.kubeflow.org", "mpijobs.v1alpha2.kubeflow.org", "kubeflow"} {
			got := names(s.kubectl(t, "get", res, "-n", seedNS, "-o", "name"))
			if !slices.Equal(got, []string{seedName}) {
				t.Errorf("kubectl get %s -n %s -o name = %q, want [%s]", res, seedNS, got, seedName)
			}
		}
	})

	t.Run("default namespace of the kubeconfig", func(t *testing.T) {
		// The admin kubeconfig's context has namespace default: nothing there.
		r := s.run("", "get", "mj")
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "" || !strings.Contains(r.Stderr, "No resources found in default namespace") {
			t.Errorf("%s\nwant no resources in default", r)
		}
	})

	t.Run("all namespaces", func(t *testing.T) {
		rows := table(s.kubectl(t, "get", "mj", "-A"))
		if len(rows) < 2 || !slices.Equal(rows[0][:2], []string{"NAMESPACE", "NAME"}) {
			t.Fatalf("unexpected table %q", rows)
		}
		found := false
		for _, r := range rows[1:] {
			found = found || r[0] == seedNS && r[1] == seedName
		}
		if !found {
			t.Errorf("kubectl get mj -A does not list %s/%s: %q", seedNS, seedName, rows)
		}
	})

	t.Run("yaml", func(t *testing.T) {
		o := yamlToObj(t, []byte(s.kubectl(t, "get", "mpijob", seedName, "-n", seedNS, "-o", "yaml")))
		exampleItem := get(seedList(t), "items", 0).(obj)
		if o["apiVersion"] != apiVersion || o["kind"] != "MPIJob" {
			t.Errorf("apiVersion/kind = %v/%v", o["apiVersion"], o["kind"])
		}
		if getStr(o, "metadata", "name") != seedName || getStr(o, "metadata", "namespace") != seedNS || getStr(o, "metadata", "uid") == "" {
			t.Errorf("metadata = %v", o["metadata"])
		}
		if at := findKey(o, "selfLink", ""); len(at) > 0 {
			t.Errorf("selfLink served at %v", at)
		}
		if d := cmp.Diff(canonicalSpec(t, exampleItem["spec"].(obj)), o["spec"]); d != "" {
			t.Errorf("spec (-want +got):\n%s", d)
		}
		if d := cmp.Diff(exampleItem["status"], o["status"]); d != "" {
			t.Errorf("status (-seed +got):\n%s", d)
		}
	})

	t.Run("single object json", func(t *testing.T) {
		o := decodeJSON(t, []byte(s.kubectl(t, "get", "mj", seedName, "-n", seedNS, "-o", "json")))
		if got := get(o, "status", "conditions"); len(got.([]any)) != 3 {
			t.Errorf("status.conditions = %v, want the seed's three", got)
		}
		if got := s.kubectl(t, "get", "mj", seedName, "-n", seedNS, "-o", "jsonpath={.spec.mpiReplicaSpecs.Worker.replicas}/{.spec.slotsPerWorker}/{.spec.cleanPodPolicy}"); got != "2/1/All" {
			t.Errorf("jsonpath = %q, want 2/1/All", got)
		}
	})
}

// TestKubectlSelectors covers -l and --field-selector over every selectable field.
func TestKubectlSelectors(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	seeded(t)
	const ns = "e2e-sel"
	jobs := []job{
		{name: "a", ns: ns, labels: map[string]string{"app": "a", "tier": "x"}, cleanPod: "None", slots: 1},
		{name: "b", ns: ns, labels: map[string]string{"app": "b", "tier": "x"}, cleanPod: "Running", slots: 2},
		{name: "c", ns: ns, cleanPod: "All"},
	}
	var all strings.Builder
	for _, j := range jobs {
		all.WriteString("---\n" + j.yaml())
	}
	s.kubectlIn(t, all.String(), "create", "-f", "-")

	cases := []struct {
		ns   string
		args []string
		want []string
	}{
		{ns, []string{"-l", "app=a"}, []string{"a"}},
		{ns, []string{"-l", "tier=x"}, []string{"a", "b"}},
		{ns, []string{"-l", "tier!=x"}, []string{"c"}},
		{ns, []string{"-l", "app in (b,c)"}, []string{"b"}},
		{ns, []string{"-l", "!app"}, []string{"c"}},
		{ns, []string{"-l", "app"}, []string{"a", "b"}},
		{ns, []string{"--field-selector", "metadata.name=b"}, []string{"b"}},
		{ns, []string{"--field-selector", "metadata.namespace=" + ns}, []string{"a", "b", "c"}},
		{ns, []string{"--field-selector", "spec.cleanPodPolicy=All"}, []string{"c"}},
		{ns, []string{"--field-selector", "spec.cleanPodPolicy!=All"}, []string{"a", "b"}},
		{ns, []string{"--field-selector", "spec.slotsPerWorker=2"}, []string{"b"}},
		{ns, []string{"--field-selector", "spec.slotsPerWorker="}, []string{"c"}},
		{ns, []string{"--field-selector", "status.state=Succeeded"}, nil},
		{ns, []string{"--field-selector", "status.state="}, []string{"a", "b", "c"}},
		{ns, []string{"-l", "tier=x", "--field-selector", "spec.cleanPodPolicy=None"}, []string{"a"}},
		{seedNS, []string{"--field-selector", "status.state=Succeeded"}, []string{seedName}},
		{seedNS, []string{"--field-selector", "status.state!=Succeeded"}, nil},
		{seedNS, []string{"--field-selector", "status.state=Running"}, nil},
		{seedNS, []string{"--field-selector", "spec.cleanPodPolicy=All,status.state=Succeeded"}, []string{seedName}},
	}
	for _, c := range cases {
		args := append([]string{"get", "mj", "-n", c.ns, "-o", "name"}, c.args...)
		got := names(s.kubectl(t, args...))
		if !slices.Equal(got, c.want) {
			t.Errorf("kubectl get mj -n %s %s = %q, want %q", c.ns, strings.Join(c.args, " "), got, c.want)
		}
	}

	t.Run("unknown field", func(t *testing.T) {
		errOut := s.kubectlFails(t, "", "get", "mj", "-n", ns, "--field-selector", "spec.nope=1")
		if !strings.Contains(errOut, "BadRequest") || !strings.Contains(errOut, "spec.nope") {
			t.Errorf("want a BadRequest naming spec.nope, got %q", errOut)
		}
		for _, f := range []string{"metadata.name", "metadata.namespace", "spec.cleanPodPolicy", "spec.slotsPerWorker", "status.state"} {
			if !strings.Contains(errOut, f) {
				t.Errorf("the error does not name the supported field %s: %q", f, errOut)
			}
		}
	})

	t.Run("bad label selector", func(t *testing.T) {
		errOut := s.kubectlFails(t, "", "get", "mj", "-n", ns, "-l", "a b c")
		if !strings.Contains(errOut, "unable to parse requirement") && !strings.Contains(errOut, "BadRequest") {
			t.Errorf("want a selector parse error, got %q", errOut)
		}
	})
}

// TestKubectlWatch runs kubectl get -w and reads what it prints while objects
// are created, modified and deleted.
func TestKubectlWatch(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	const ns = "e2e-watch"
	s.kubectlIn(t, job{name: "w0", ns: ns}.yaml(), "create", "-f", "-")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := s.kc.Command(ctx, "get", "mj", "-n", ns, "-w", "--output-watch-events")
	// A file, so that a failure can show what kubectl said while it runs.
	stderrFile := filepath.Join(t.TempDir(), "stderr")
	errOut, err := os.Create(stderrFile)
	if err != nil {
		t.Fatal(err)
	}
	defer errOut.Close()
	cmd.Stderr = errOut
	stderr := func() string { data, _ := os.ReadFile(stderrFile); return string(data) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	defer stop()

	var seen [][]string
	// next reads lines until one is about name; it fails after a bound.
	next := func(name string) []string {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("kubectl get -w ended; printed %q, stderr %q", seen, stderr())
				}
				f := strings.Fields(l)
				seen = append(seen, f)
				if len(f) > 1 && f[1] == name {
					return f
				}
			case <-timeout:
				t.Fatalf("no line about %s from kubectl get -w within 30s; printed %q, stderr %q", name, seen, stderr())
			}
		}
	}

	// The initial list: the header and w0 as ADDED. After it the watch runs
	// from the list's resourceVersion, so nothing below can be missed.
	if f := next("w0"); f[0] != "ADDED" {
		t.Fatalf("first event for w0 = %q, want ADDED", f)
	}
	if want := []string{"EVENT", "NAME", "STATE", "WORKERS", "AGE"}; !slices.Equal(seen[0], want) {
		t.Errorf("header = %q, want %q", seen[0], want)
	}

	s.kubectlIn(t, job{name: "w1", ns: ns, workers: 2}.yaml(), "create", "-f", "-")
	if f := next("w1"); len(f) < 4 || f[0] != "ADDED" || f[2] != "2" {
		t.Errorf("after create: %q, want ADDED w1 with 2 workers", f)
	}
	s.kubectl(t, "patch", "mj", "w1", "-n", ns, "--type=merge", "-p", `{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":5}}}}`)
	if f := next("w1"); len(f) < 4 || f[0] != "MODIFIED" || f[2] != "5" {
		t.Errorf("after patch: %q, want MODIFIED w1 with 5 workers", f)
	}
	s.kubectl(t, "delete", "mj", "w1", "-n", ns)
	if f := next("w1"); f[0] != "DELETED" {
		t.Errorf("after delete: %q, want DELETED w1", f)
	}
	stop()
	t.Logf("kubectl get -w printed:\n%s", func() string {
		var b strings.Builder
		for _, f := range seen {
			b.WriteString("  " + strings.Join(f, " ") + "\n")
		}
		return b.String()
	}())
}

// TestKubectlExplain needs the OpenAPI v2/v3 documents with model names.
func TestKubectlExplain(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	cases := map[string][]string{
		"mpijob":                      {"KIND:", "MPIJob", "VERSION:", "v1alpha2", "spec", "status"},
		"mpijob.spec":                 {"FIELD: spec", "cleanPodPolicy", "slotsPerWorker", "mpiReplicaSpecs", "backoffLimit", "mainContainer", "runPolicy", "mpiDistribution"},
		"mpijob.spec.mpiReplicaSpecs": {"FIELD: mpiReplicaSpecs", "replicas", "restartPolicy", "template"},
		"mj.status.conditions":        {"FIELD: conditions", "type", "status", "lastTransitionTime"},
	}
	for path, want := range cases {
		out := s.kubectl(t, "explain", path)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("kubectl explain %s does not mention %q:\n%s", path, w, out)
			}
		}
		// The field has a description, not only a type.
		_, desc, _ := strings.Cut(out, "DESCRIPTION:")
		desc, _, _ = strings.Cut(desc, "FIELDS:")
		if strings.TrimSpace(desc) == "" || strings.Contains(desc, "<empty>") {
			t.Errorf("kubectl explain %s has no description:\n%s", path, out)
		}
	}
}

// TestKubectlApplyServerSide covers server-side apply: create, change,
// managed fields, a conflicting second manager, force, dry run, and status
// as a reset field of the main resource.
func TestKubectlApplyServerSide(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	const ns = "e2e-apply"
	j := job{name: "ssa", ns: ns, workers: 2, slots: 1}
	replicas := func() string {
		return s.kubectl(t, "get", "mj", "ssa", "-n", ns, "-o", "jsonpath={.spec.mpiReplicaSpecs.Worker.replicas}")
	}

	if out := s.kubectlIn(t, j.yaml(), "apply", "--server-side", "--field-manager=e2e-a", "-f", "-"); !strings.Contains(out, "mpijob.kubeflow.org/ssa serverside-applied") {
		t.Errorf("first apply printed %q", out)
	}
	j.workers = 3
	s.kubectlIn(t, j.yaml(), "apply", "--server-side", "--field-manager=e2e-a", "-f", "-")
	if got := replicas(); got != "3" {
		t.Errorf("after the second apply Worker replicas = %s, want 3", got)
	}
	o := decodeJSON(t, []byte(s.kubectl(t, "get", "mj", "ssa", "-n", ns, "-o", "json", "--show-managed-fields")))
	managers := map[string]string{}
	mf, _ := get(o, "metadata", "managedFields").([]any)
	for _, m := range mf {
		managers[getStr(m, "manager")] = getStr(m, "operation")
	}
	if managers["e2e-a"] != "Apply" {
		t.Errorf("managedFields = %v, want manager e2e-a with operation Apply", mf)
	}
	if got := get(o, "metadata", "generation"); got != float64(2) {
		t.Errorf("generation = %v after one spec change, want 2", got)
	}

	t.Run("conflict", func(t *testing.T) {
		j := j
		j.workers = 4
		errOut := s.kubectlFails(t, j.yaml(), "apply", "--server-side", "--field-manager=e2e-b", "-f", "-")
		if !strings.Contains(errOut, "conflict") || !strings.Contains(errOut, `"e2e-a"`) || !strings.Contains(errOut, ".spec.mpiReplicaSpecs") {
			t.Errorf("want a conflict with e2e-a over .spec.mpiReplicaSpecs..., got %q", errOut)
		}
		if got := replicas(); got != "3" {
			t.Errorf("after the refused apply Worker replicas = %s, want 3", got)
		}
		s.kubectlIn(t, j.yaml(), "apply", "--server-side", "--field-manager=e2e-b", "--force-conflicts", "-f", "-")
		if got := replicas(); got != "4" {
			t.Errorf("after the forced apply Worker replicas = %s, want 4", got)
		}
	})

	t.Run("dry run", func(t *testing.T) {
		j := j
		j.workers = 9
		s.kubectlIn(t, j.yaml(), "apply", "--server-side", "--field-manager=e2e-b", "--force-conflicts", "--dry-run=server", "-f", "-")
		if got := replicas(); got != "4" {
			t.Errorf("a server dry run changed Worker replicas to %s", got)
		}
	})

	t.Run("client-side apply", func(t *testing.T) {
		csa := job{name: "csa", ns: ns, workers: 2}
		if out := s.kubectlIn(t, csa.yaml(), "apply", "-f", "-"); !strings.Contains(out, "mpijob.kubeflow.org/csa created") {
			t.Errorf("first apply printed %q", out)
		}
		csa.workers = 3
		if out := s.kubectlIn(t, csa.yaml(), "apply", "-f", "-"); !strings.Contains(out, "mpijob.kubeflow.org/csa configured") {
			t.Errorf("changed apply printed %q", out)
		}
		state := func() string {
			return s.kubectl(t, "get", "mj", "csa", "-n", ns, "-o", "jsonpath={.spec.mpiReplicaSpecs.Worker.replicas}/{.metadata.generation}/{.metadata.resourceVersion}")
		}
		before := state()
		if !strings.HasPrefix(before, "3/2/") {
			t.Errorf("after client-side apply replicas/generation/resourceVersion = %s, want 3/2/<rv>", before)
		}
		// Applying the same manifest again writes nothing. kubectl prints
		// "configured" rather than "unchanged" here: it cannot compute a
		// strategic patch through the mpiReplicaSpecs map (neither from the
		// OpenAPI v3 nor the v2 schema; it warns and falls back to a JSON
		// merge patch, whose lists differ from the served ones by the
		// defaulted `resources: {}`), a kubectl limitation, not a write.
		r := s.run(csa.yaml(), "apply", "-f", "-")
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, "mpijob.kubeflow.org/csa ") {
			t.Fatalf("repeated apply: %s", r)
		}
		t.Logf("repeated client-side apply printed %q, stderr %q", strings.TrimSpace(r.Stdout), strings.TrimSpace(r.Stderr))
		if after := state(); after != before {
			t.Errorf("a repeated apply of the same manifest changed replicas/generation/resourceVersion from %s to %s", before, after)
		}
	})

	t.Run("status is ignored on the main resource", func(t *testing.T) {
		j := job{name: "ssa-status", ns: ns, status: "conditions:\n- type: Succeeded\n  status: \"True\"\nreplicaStatuses: {}\n"}
		s.kubectlIn(t, j.yaml(), "apply", "--server-side", "--field-manager=e2e-a", "-f", "-")
		o := decodeJSON(t, []byte(s.kubectl(t, "get", "mj", "ssa-status", "-n", ns, "-o", "json")))
		if c, _ := get(o, "status", "conditions").([]any); len(c) != 0 {
			t.Errorf("status written through the main resource was stored: %v", o["status"])
		}
	})
}

// TestKubectlPatch covers merge, JSON and strategic-merge patches, status
// patches, generation and validation.
func TestKubectlPatch(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	const ns = "e2e-patch"
	s.kubectlIn(t, job{name: "p", ns: ns, workers: 2, slots: 1}.yaml(), "create", "-f", "-")
	jp := func(path string) string {
		return s.kubectl(t, "get", "mj", "p", "-n", ns, "-o", "jsonpath={"+path+"}")
	}
	expect := func(what, path, want string) {
		t.Helper()
		if got := jp(path); got != want {
			t.Errorf("%s: %s = %q, want %q", what, path, got, want)
		}
	}
	expect("created", ".metadata.generation", "1")

	out := s.kubectl(t, "patch", "mj", "p", "-n", ns, "--type=merge", "-p", `{"spec":{"slotsPerWorker":3}}`)
	if !strings.Contains(out, "mpijob.kubeflow.org/p patched") {
		t.Errorf("merge patch printed %q", out)
	}
	expect("merge patch", ".spec.slotsPerWorker", "3")
	expect("merge patch", ".metadata.generation", "2")

	s.kubectl(t, "patch", "mj", "p", "-n", ns, "--type=json", "-p", `[{"op":"replace","path":"/spec/mpiReplicaSpecs/Worker/replicas","value":4}]`)
	expect("json patch", ".spec.mpiReplicaSpecs.Worker.replicas", "4")
	expect("json patch", ".metadata.generation", "3")

	t.Run("strategic", func(t *testing.T) {
		// A strategic merge patch outside mpiReplicaSpecs.
		s.kubectl(t, "patch", "mj", "p", "-n", ns, "--type=strategic", "-p", `{"metadata":{"labels":{"smp":"yes"}},"spec":{"backoffLimit":2}}`)
		expect("strategic patch", ".metadata.labels.smp", "yes")
		expect("strategic patch", ".spec.backoffLimit", "2")
		expect("strategic patch", ".metadata.generation", "4")

		// Through mpiReplicaSpecs (a map of replica specs): containers merge
		// by name, so the worker keeps its resources; a JSON merge patch
		// would have replaced the whole list.
		r := s.run("", "patch", "mj", "p", "-n", ns, "--type=strategic", "-p",
			`{"spec":{"mpiReplicaSpecs":{"Worker":{"template":{"spec":{"containers":[{"name":"mpi","image":"e2e.example/worker:2"}]}}}}}}`)
		if r.ExitCode != 0 {
			t.Fatalf("kubectl patch --type=strategic through spec.mpiReplicaSpecs: %s", r)
		}
		c := jp(".spec.mpiReplicaSpecs.Worker.template.spec.containers[*].name") + " " +
			jp(".spec.mpiReplicaSpecs.Worker.template.spec.containers[0].image") + " " +
			jp(".spec.mpiReplicaSpecs.Worker.template.spec.containers[0].resources.limits.memory")
		if c != "mpi e2e.example/worker:2 2Gi" {
			t.Errorf("after the strategic patch the worker containers are %q, want one container mpi with the new image and its 2Gi limit", c)
		}
		expect("strategic patch", ".metadata.generation", "5")
	})
	gen := jp(".metadata.generation")

	s.kubectl(t, "patch", "mj", "p", "-n", ns, "--type=merge", "-p", `{"metadata":{"labels":{"e2e":"yes"}}}`)
	expect("label patch", ".metadata.labels.e2e", "yes")
	expect("label patch (metadata only)", ".metadata.generation", gen)

	// Status through the main resource is ignored; through /status it is
	// the only thing written.
	s.kubectl(t, "patch", "mj", "p", "-n", ns, "--type=merge", "-p", `{"status":{"startTime":"2020-01-02T03:04:05Z"}}`)
	expect("status patch on the main resource", ".status.startTime", "")
	s.kubectl(t, "patch", "mj", "p", "-n", ns, "--subresource=status", "--type=merge", "-p",
		`{"spec":{"slotsPerWorker":7},"status":{"startTime":"2020-01-02T03:04:05Z","conditions":[{"type":"Running","status":"True"}]}}`)
	expect("status patch", ".status.startTime", "2020-01-02T03:04:05Z")
	expect("spec in a status patch", ".spec.slotsPerWorker", "3")
	expect("status patch", ".metadata.generation", gen)
	if got := names(s.kubectl(t, "get", "mj", "-n", ns, "-o", "name", "--field-selector", "status.state=Running")); !slices.Equal(got, []string{"p"}) {
		t.Errorf("status.state=Running after the status patch selects %q, want [p]", got)
	}

	t.Run("invalid", func(t *testing.T) {
		errOut := s.kubectlFails(t, "", "patch", "mj", "p", "-n", ns, "--type=merge", "-p", `{"spec":{"slotsPerWorker":0}}`)
		if !strings.Contains(errOut, `The MPIJob "p" is invalid`) || !strings.Contains(errOut, "spec.slotsPerWorker") {
			t.Errorf("want a 422 naming spec.slotsPerWorker, got %q", errOut)
		}
		errOut = s.kubectlFails(t, "", "patch", "mj", "p", "-n", ns, "--type=json", "-p", `[{"op":"remove","path":"/spec/mpiReplicaSpecs/Worker"}]`)
		if !strings.Contains(errOut, `The MPIJob "p" is invalid`) || !strings.Contains(errOut, "spec.mpiReplicaSpecs[Worker]") {
			t.Errorf("want a 422 naming the missing Worker, got %q", errOut)
		}
		expect("refused patches", ".spec.slotsPerWorker", "3")
		expect("refused patches", ".metadata.generation", gen)
	})
}

// TestKubectlReplace covers replace -f, with and without a resourceVersion.
func TestKubectlReplace(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	const ns = "e2e-replace"
	j := job{name: "r", ns: ns, workers: 2}
	s.kubectlIn(t, j.yaml(), "create", "-f", "-")
	stale := yamlToObj(t, []byte(s.kubectl(t, "get", "mj", "r", "-n", ns, "-o", "yaml")))

	j.workers, j.slots = 6, 2
	if out := s.kubectlIn(t, j.yaml(), "replace", "-f", "-"); !strings.Contains(out, "mpijob.kubeflow.org/r replaced") {
		t.Errorf("replace printed %q", out)
	}
	if got := s.kubectl(t, "get", "mj", "r", "-n", ns, "-o", "jsonpath={.spec.mpiReplicaSpecs.Worker.replicas}/{.spec.slotsPerWorker}/{.metadata.generation}"); got != "6/2/2" {
		t.Errorf("after replace workers/slots/generation = %s, want 6/2/2", got)
	}

	// The object as read before the replace, changed: its resourceVersion
	// is stale now, so the update is a conflict and changes nothing.
	stale["spec"].(obj)["slotsPerWorker"] = 5
	data, _ := json.Marshal(stale)
	errOut := s.kubectlFails(t, string(data), "replace", "-f", "-")
	if !strings.Contains(errOut, "Conflict") && !strings.Contains(errOut, "the object has been modified") {
		t.Errorf("want a conflict for a stale resourceVersion, got %q", errOut)
	}
	if got := s.kubectl(t, "get", "mj", "r", "-n", ns, "-o", "jsonpath={.spec.slotsPerWorker}"); got != "2" {
		t.Errorf("after the refused replace slotsPerWorker = %s, want 2", got)
	}

	// Replacing something that does not exist is a 404.
	errOut = s.kubectlFails(t, job{name: "missing", ns: ns}.yaml(), "replace", "-f", "-")
	if !strings.Contains(errOut, "NotFound") {
		t.Errorf("want NotFound, got %q", errOut)
	}
	// Creating twice is a 409.
	errOut = s.kubectlFails(t, j.yaml(), "create", "-f", "-")
	if !strings.Contains(errOut, "AlreadyExists") {
		t.Errorf("want AlreadyExists, got %q", errOut)
	}
}

// TestKubectlDelete covers delete by name, cascade policies and delete --all.
func TestKubectlDelete(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	const ns = "e2e-delete"
	var all strings.Builder
	for _, n := range []string{"d1", "d2", "d3", "d4"} {
		all.WriteString("---\n" + job{name: n, ns: ns}.yaml())
	}
	s.kubectlIn(t, all.String(), "create", "-f", "-")

	for _, c := range []struct{ cascade, policy string }{{"foreground", "Foreground"}, {"orphan", "Orphan"}} {
		errOut := s.kubectlFails(t, "", "delete", "mj", "d1", "-n", ns, "--cascade="+c.cascade)
		if !strings.Contains(errOut, "Error from server (BadRequest)") || !strings.Contains(errOut, `propagationPolicy "`+c.policy+`"`) ||
			!strings.Contains(errOut, "garbage collector") {
			t.Errorf("delete --cascade=%s: want the server's refusal naming the policy and the missing garbage collector, got %q", c.cascade, errOut)
		}
	}
	if got := names(s.kubectl(t, "get", "mj", "-n", ns, "-o", "name")); !slices.Equal(got, []string{"d1", "d2", "d3", "d4"}) {
		t.Fatalf("after the refused deletes: %q, want all four", got)
	}

	if out := s.kubectl(t, "delete", "mj", "d1", "-n", ns); !strings.Contains(out, `mpijob.kubeflow.org "d1" deleted`) {
		t.Errorf("delete printed %q", out)
	}
	s.kubectl(t, "delete", "mj", "d2", "-n", ns, "--cascade=background")
	if errOut := s.kubectlFails(t, "", "get", "mj", "d1", "-n", ns); !strings.Contains(errOut, "NotFound") {
		t.Errorf("get after delete: want NotFound, got %q", errOut)
	}
	if errOut := s.kubectlFails(t, "", "delete", "mj", "d1", "-n", ns); !strings.Contains(errOut, "NotFound") {
		t.Errorf("second delete: want NotFound, got %q", errOut)
	}
	if got := names(s.kubectl(t, "get", "mj", "-n", ns, "-o", "name")); !slices.Equal(got, []string{"d3", "d4"}) {
		t.Errorf("after deleting d1 and d2: %q", got)
	}
	// delete --all is a deletecollection.
	s.kubectl(t, "delete", "mj", "--all", "-n", ns)
	if got := names(s.kubectl(t, "get", "mj", "-n", ns, "-o", "name")); len(got) != 0 {
		t.Errorf("after delete --all: %q", got)
	}
}

func TestKubectlAPIResources(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	rows := table(s.kubectl(t, "api-resources", "--api-group=kubeflow.org"))
	want := [][]string{{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"}, {"mpijobs", "mj,mpij", "kubeflow.org/v1alpha2", "true", "MPIJob"}}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("kubectl api-resources --api-group=kubeflow.org (-want +got):\n%s", d)
	}
	out := s.kubectl(t, "api-resources", "--api-group=kubeflow.org", "-o", "wide")
	for _, w := range []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", "kubeflow"} {
		if !strings.Contains(out, w) {
			t.Errorf("api-resources -o wide does not list %q:\n%s", w, out)
		}
	}
	if out := s.kubectl(t, "api-versions"); !strings.Contains(out, "kubeflow.org/v1alpha2") {
		t.Errorf("api-versions = %q", out)
	}
}
