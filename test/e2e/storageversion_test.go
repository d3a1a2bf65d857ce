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
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const svNamespace = "sv"

// svJobs are created in the version of their apiVersion: v1alpha2 with
// what only v1alpha2 can say (mainContainer, backoffLimit at the top and in
// runPolicy), v2beta1 with what only v2beta1 can say, and plain ones.
var svJobs = map[string]string{
	"mc": `{"apiVersion":"kubeflow.org/v1alpha2","kind":"MPIJob","metadata":{"name":"mc","labels":{"team":"ml"}},
	  "spec":{"slotsPerWorker":2,"mainContainer":"trainer","backoffLimit":3,"cleanPodPolicy":"Running",
	    "runPolicy":{"backoffLimit":5,"ttlSecondsAfterFinished":60},
	    "mpiReplicaSpecs":{
	      "Launcher":{"replicas":1,"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"},{"name":"trainer","image":"mpi:1"}]}}},
	      "Worker":{"replicas":2,"template":{"spec":{"containers":[{"name":"trainer","image":"mpi:1"}]}}}}}}`,
	"plain": harness.MPIJobJSON(svNamespace, "plain", 2),
	"full": `{"apiVersion":"kubeflow.org/v2beta1","kind":"MPIJob","metadata":{"name":"full"},
	  "spec":{"slotsPerWorker":1,"runLauncherAsWorker":true,"sshAuthMountPath":"/home/mpiuser/.ssh",
	    "launcherCreationPolicy":"WaitForWorkersReady","mpiImplementation":"Intel",
	    "runPolicy":{"cleanPodPolicy":"Running","backoffLimit":2,"suspend":true,"managedBy":"kueue.x-k8s.io/multikueue",
	      "schedulingPolicy":{"queue":"q","scheduleTimeoutSeconds":30}},
	    "mpiReplicaSpecs":{
	      "Launcher":{"replicas":1,"template":{"spec":{"containers":[{"name":"launcher","image":"mpi:2"}]}}},
	      "Worker":{"replicas":2,"template":{"spec":{"containers":[{"name":"worker","image":"mpi:2"}]}}}}}}`,
	"bare": `{"apiVersion":"kubeflow.org/v2beta1","kind":"MPIJob","metadata":{"name":"bare"},
	  "spec":{"mpiReplicaSpecs":{"Launcher":{"replicas":1,"template":{"spec":{"containers":[{"name":"l","image":"mpi:2"}]}}}}}}`,
}

// svStatus are statuses written through /status in the job's version.
var svStatus = map[string]string{
	"mc": `{"status":{"conditions":[{"type":"Created","status":"True","reason":"MPIJobCreated",
	  "lastUpdateTime":"2025-03-02T10:00:01Z","lastTransitionTime":"2025-03-02T10:00:01Z"}],
	  "replicaStatuses":{"Launcher":{"active":1}},"startTime":"2025-03-02T10:00:01Z"}}`,
	"full": `{"status":{"replicaStatuses":{"Worker":{"active":2,"selector":"training.kubeflow.org/job-name=full"}},
	  "startTime":"2025-03-02T10:00:01Z"}}`,
}

var servedVersions = []string{"v1alpha2", "v2beta1"}

// svClient sends admin requests to s.
type svClient struct {
	t  *testing.T
	s  *harness.Server
	hc *http.Client
}

func newSVClient(t *testing.T, s *harness.Server) *svClient {
	t.Helper()
	hc, err := s.Admin.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	return &svClient{t: t, s: s, hc: hc}
}

func (c *svClient) send(r harness.Request) harness.Response {
	c.t.Helper()
	r.URL = c.s.URL + r.URL
	r.Token = c.s.Admin.Token
	return harness.SendForTest(c.t, c.hc, r)
}

func jobPath(version, name string) string {
	return "/apis/kubeflow.org/" + version + "/namespaces/" + svNamespace + "/mpijobs/" + name
}

// create creates the job in the version its body names, and writes its
// status in that version.
func (c *svClient) create(name, body string) {
	c.t.Helper()
	var h struct{ APIVersion string }
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		c.t.Fatal(err)
	}
	version := strings.TrimPrefix(h.APIVersion, "kubeflow.org/")
	harness.ExpectCode(c.t, c.send(harness.Request{Method: http.MethodPost,
		URL: "/apis/kubeflow.org/" + version + "/namespaces/" + svNamespace + "/mpijobs", Body: body}), http.StatusCreated)
	if status, ok := svStatus[name]; ok {
		harness.ExpectCode(c.t, c.send(harness.Request{Method: http.MethodPatch, URL: jobPath(version, name) + "/status",
			ContentType: "application/merge-patch+json", Body: status}), http.StatusOK)
	}
}

// readAll reads every job in every served version: name -> version -> body.
func (c *svClient) readAll(names []string) map[string]map[string][]byte {
	c.t.Helper()
	got := map[string]map[string][]byte{}
	for _, name := range names {
		got[name] = map[string][]byte{}
		for _, v := range servedVersions {
			r := c.send(harness.Request{URL: jobPath(v, name)})
			harness.ExpectCode(c.t, r, http.StatusOK)
			got[name][v] = r.Body
		}
	}
	return got
}

// withoutResourceVersion drops metadata.resourceVersion, the only field a
// rewrite changes: it is etcd's revision of the key. managedFields stay
// compared: an unchanged update adds no entry and moves no timestamp.
func withoutResourceVersion(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatal(err)
	}
	delete(obj["metadata"].(map[string]any), "resourceVersion")
	return obj
}

// expectSameObjects compares what the server answers now with the record,
// byte for byte or, when exact is false, apart from the resourceVersion.
func expectSameObjects(t *testing.T, record, now map[string]map[string][]byte, exact bool) {
	t.Helper()
	for name, versions := range record {
		for v, want := range versions {
			got := now[name][v]
			if exact {
				if !bytes.Equal(got, want) {
					t.Errorf("%s in %s changed:\n got %s\nwant %s", name, v, got, want)
				}
				continue
			}
			g, w := withoutResourceVersion(t, got), withoutResourceVersion(t, want)
			if gj, wj := toJSON(t, g), toJSON(t, w); gj != wj {
				t.Errorf("%s in %s changed beyond its resourceVersion:\n got %s\nwant %s", name, v, gj, wj)
			}
		}
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// etcdJobs are the raw values of the MPIJob keys in the server's embedded
// etcd, by name.
func etcdJobs(t *testing.T, s *harness.Server) map[string][]byte {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Layout().EtcdClientURL()}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	resp, err := c.Get(ctx, "/registry/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string][]byte{}
	prefix := "/mpijobs/" + svNamespace + "/"
	for _, kv := range resp.Kvs {
		if _, name, ok := strings.Cut(string(kv.Key), prefix); ok {
			jobs[name] = kv.Value
		}
	}
	return jobs
}

// expectStored checks that every key holds JSON of apiVersion, with the
// reserved annotation exactly on the jobs named in carried.
func expectStored(t *testing.T, stored map[string][]byte, names []string, apiVersion string, carried ...string) {
	t.Helper()
	if len(stored) != len(names) {
		t.Errorf("etcd holds %d MPIJobs, want %d", len(stored), len(names))
	}
	for _, name := range names {
		var obj struct {
			APIVersion string `json:"apiVersion"`
			Metadata   struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(stored[name], &obj); err != nil {
			t.Errorf("%s: etcd holds no JSON: %v: %q", name, err, stored[name])
			continue
		}
		if obj.APIVersion != apiVersion {
			t.Errorf("%s: stored as %q, want %q", name, obj.APIVersion, apiVersion)
		}
		_, has := obj.Metadata.Annotations[carryover.Annotation]
		want := false
		for _, c := range carried {
			want = want || c == name
		}
		if has != want {
			t.Errorf("%s: reserved annotation present %v, want %v: %s", name, has, want, stored[name])
		}
	}
}

// runCommand runs the server binary's subcommand and fails t unless it
// succeeds; it returns standard output.
func runCommand(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := harness.ServerBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mpijob-apiserver %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// restartWith restarts s with flags appended (a later flag wins).
func restartWith(t *testing.T, s *harness.Server, flags ...string) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s.Args = append(s.Args, flags...)
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func migrateStorage(t *testing.T, s *harness.Server, want string) {
	t.Helper()
	if out := runCommand(t, "migrate-storage", "--kubeconfig", s.Admin.Path); out != want {
		t.Errorf("migrate-storage printed %q, want %q", out, want)
	}
}

// TestStorageVersionSwitch: jobs written in both versions are stored as
// v1alpha2 JSON; after a restart with --storage-version=v2beta1 they read
// the same and their bytes stay, until migrate-storage rewrites each as
// v2beta1 JSON that keeps only mainContainer's shape in the reserved
// annotation; switching back and migrating again gives the first bytes
// back. A snapshot of the mixed data dir restores to the same objects.
func TestStorageVersionSwitch(t *testing.T) {
	s := harness.StartServerForTest(t, harness.ServerOptions{})
	c := newSVClient(t, s)
	names := []string{"bare", "full", "mc", "plain"}
	for _, name := range names {
		c.create(name, svJobs[name])
	}
	record := c.readAll(names)
	v1alpha2Bytes := etcdJobs(t, s)
	// v2beta1's defaults are v2beta1-only fields too.
	expectStored(t, v1alpha2Bytes, names, "kubeflow.org/v1alpha2", "bare", "full")

	restartWith(t, s, "--storage-version=v2beta1")
	c = newSVClient(t, s)
	expectSameObjects(t, record, c.readAll(names), true)
	if got := etcdJobs(t, s); !equalValues(got, v1alpha2Bytes) {
		t.Errorf("a restart changed the stored bytes")
	}
	// A job written now is stored in the new version at once.
	c.create("late", harness.MPIJobJSON(svNamespace, "late", 1))
	names = append(names, "late")
	for name, versions := range c.readAll([]string{"late"}) {
		record[name] = versions
	}
	mixed := etcdJobs(t, s)
	expectStored(t, map[string][]byte{"late": mixed["late"]}, []string{"late"}, "kubeflow.org/v2beta1")

	t.Run("snapshot of the mixed data dir", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "mixed.db")
		runCommand(t, "snapshot", "save", "--data-dir", s.DataDir, file)
		dir, err := os.MkdirTemp("", "mj")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		runCommand(t, "snapshot", "restore", file, "--data-dir", dir)
		restored := harness.StartServerForTest(t, harness.ServerOptions{Name: "restored", DataDir: dir,
			Args: []string{"--storage-version=v2beta1"}})
		expectSameObjects(t, record, newSVClient(t, restored).readAll(names), true)
		if got := etcdJobs(t, restored); !equalValues(got, mixed) {
			t.Errorf("the restored etcd holds other bytes than the saved one")
		}
	})

	migrateStorage(t, s, "4 MPIJobs rewritten, 1 already in the storage version, 0 deleted meanwhile, 0 failed (via kubeflow.org/v1alpha2)\n")
	expectStored(t, etcdJobs(t, s), names, "kubeflow.org/v2beta1", "mc")
	expectSameObjects(t, record, c.readAll(names), false)
	migrateStorage(t, s, "0 MPIJobs rewritten, 5 already in the storage version, 0 deleted meanwhile, 0 failed (via kubeflow.org/v1alpha2)\n")

	restartWith(t, s, "--storage-version=v1alpha2")
	c = newSVClient(t, s)
	migrateStorage(t, s, "5 MPIJobs rewritten, 0 already in the storage version, 0 deleted meanwhile, 0 failed (via kubeflow.org/v1alpha2)\n")
	back := etcdJobs(t, s)
	expectStored(t, back, names, "kubeflow.org/v1alpha2", "bare", "full")
	for name, want := range v1alpha2Bytes {
		if !bytes.Equal(back[name], want) {
			t.Errorf("%s: v1alpha2 bytes after the round trip:\n got %s\nwant %s", name, back[name], want)
		}
	}
	expectSameObjects(t, record, c.readAll(names), false)
}

func equalValues(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
