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
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestStartup checks what the first start prints and writes.
func TestStartup(t *testing.T) {
	s := shared
	t.Logf("cold start of the shared server (empty data dir) to /readyz: %s", s.ReadyAfter.Round(time.Millisecond))
	out, kubeconfig := s.Stdout(), s.Layout().AdminKubeconfig()
	if want := "Admin kubeconfig: " + kubeconfig + "\n"; !strings.Contains(out, want) {
		t.Errorf("stdout does not print %q:\n%s", want, out)
	}
	if want := "Try: kubectl --kubeconfig " + kubeconfig + " get mpijobs"; !strings.Contains(out, want) {
		t.Errorf("stdout has no %q line:\n%s", want, out)
	}
	for path, mode := range map[string]os.FileMode{s.DataDir: 0o700, kubeconfig: 0o600} {
		if fi, err := os.Stat(path); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
}

// TestAuthAndHealth covers what anonymous and authenticated curl get.
func TestAuthAndHealth(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)

	t.Run("no token is 401 with a Status", func(t *testing.T) {
		for _, path := range []string{jobsPath(seedNS), jobsPath(seedNS) + "/" + seedName, "/apis", "/apis/kubeflow.org/v1alpha2", "/openapi/v2", "/metrics", "/"} {
			code, body := s.curl(t, curlReq{path: path, noToken: true})
			if code != http.StatusUnauthorized {
				t.Errorf("GET %s without a token: %d, want 401: %s", path, code, body)
				continue
			}
			st := decodeJSON(t, body)
			if st["kind"] != "Status" || st["apiVersion"] != "v1" || st["status"] != "Failure" || st["reason"] != "Unauthorized" || st["code"] != float64(401) {
				t.Errorf("GET %s without a token: body is not an Unauthorized Status: %s", path, body)
			}
		}
		// A refused body must not end the HTTP/2 stream before curl has the
		// whole answer; unfixed, about one POST in six failed with curl
		// "(18) Transferred a partial file", so fifty in a row catch it.
		for i := 0; i < 50; i++ {
			code, body := s.curl(t, curlReq{method: http.MethodPost, path: jobsPath("e2e-anon"), body: []byte(job{name: "x", ns: "e2e-anon"}.yaml()), noToken: true})
			if code != http.StatusUnauthorized {
				t.Fatalf("POST %d without a token: %d, want 401: %s", i, code, body)
			}
		}
	})

	t.Run("wrong token is 401", func(t *testing.T) {
		code, body := s.curl(t, curlReq{path: jobsPath(seedNS), token: "not-the-admin-token"})
		if code != http.StatusUnauthorized {
			t.Errorf("GET with a wrong token: %d, want 401: %s", code, body)
		}
	})

	t.Run("health and version answer anyone", func(t *testing.T) {
		for _, path := range []string{"/livez", "/readyz", "/healthz", "/version"} {
			code, body := s.curl(t, curlReq{path: path, noToken: true})
			if code != http.StatusOK {
				t.Errorf("GET %s without credentials: %d, want 200: %s", path, code, body)
			}
		}
		code, body := s.curl(t, curlReq{path: "/readyz?verbose", noToken: true})
		if code != http.StatusOK || !strings.Contains(string(body), "[+]etcd ok") {
			t.Errorf("GET /readyz?verbose: %d, want 200 with an etcd check:\n%s", code, body)
		}
	})

	t.Run("token admits the rest", func(t *testing.T) {
		for _, path := range []string{"/metrics", "/openapi/v2", "/openapi/v3", "/openapi/v3/apis/kubeflow.org/v1alpha2", "/apis", "/apis/kubeflow.org/v1alpha2"} {
			code, body := s.curl(t, curlReq{path: path})
			if code != http.StatusOK {
				t.Errorf("GET %s with the admin token: %d, want 200: %.300s", path, code, body)
			}
		}
	})

	t.Run("version", func(t *testing.T) {
		code, body := s.curl(t, curlReq{path: "/version", noToken: true})
		if code != http.StatusOK {
			t.Fatalf("GET /version: %d", code)
		}
		v := decodeJSON(t, body)
		got := getStr(v, "gitVersion")
		if got == "" {
			t.Errorf("/version has no gitVersion: %s", body)
		}
		out, err := exec.Command(s.Bin, "--version").CombinedOutput()
		if err != nil {
			t.Errorf("mpijob-apiserver --version: %v: %s", err, out)
		}
		if want := "mpijob-apiserver " + got + "\n"; string(out) != want {
			t.Errorf("mpijob-apiserver --version printed %q, want %q (the same as /version)", out, want)
		}
		if wantVersion != "" {
			if got != wantVersion {
				t.Errorf("/version gitVersion = %q, want the stamped %q", got, wantVersion)
			}
		} else {
			t.Logf("gitVersion %q (MPIJOB_APISERVER_VERSION unset: not compared)", got)
		}
	})
}

// TestSecondServerOnSameDataDir: a second server on a data dir in use fails
// at once with a message about the lock and leaves the first one alone.
func TestSecondServerOnSameDataDir(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	seeded(t)
	kubeconfigBefore, err := os.ReadFile(s.Admin.Path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	second, err := harness.LaunchServer(harness.ServerOptions{Name: "second", DataDir: s.DataDir, LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = second.Teardown() }()
	select {
	case <-second.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("a second server on the same data dir still runs after 20s\n%s", second.LogTail(20))
	}
	_, exitErr := second.Exited()
	t.Logf("the second server exited after %s: %v", time.Since(start).Round(time.Millisecond), exitErr)
	if second.ExitCode() == 0 {
		t.Errorf("the second server exited 0, want a failure")
	}
	msg := second.Output()
	if !strings.Contains(msg, s.DataDir) || !strings.Contains(msg, "lock") || !strings.Contains(msg, strconv.Itoa(s.Pid())) {
		t.Errorf("the second server's message does not name the data dir, the lock and the holder (pid %d):\n%s", s.Pid(), msg)
	}
	t.Logf("its message: %s", strings.TrimSpace(msg))

	// The first is untouched: it serves, its kubeconfig was not rewritten.
	if code, body := s.curl(t, curlReq{path: "/readyz", noToken: true}); code != http.StatusOK {
		t.Errorf("the first server's /readyz: %d %s", code, body)
	}
	if got := names(s.kubectl(t, "get", "mj", "-n", seedNS, "-o", "name")); !slices.Equal(got, []string{seedName}) {
		t.Errorf("the first server lists %q, want [%s]", got, seedName)
	}
	if after, _ := os.ReadFile(s.Admin.Path); !bytes.Equal(after, kubeconfigBefore) {
		t.Errorf("the failed second start rewrote %s", s.Admin.Path)
	}
}

// TestRestartKeepsEverything stops a server with SIGTERM and starts it again
// on the same data dir: every object, the token and the certificate survive.
func TestRestartKeepsEverything(t *testing.T) {
	s := driveForTest(t, harness.StartServerForTest(t, harness.ServerOptions{}))
	t.Logf("cold start (empty data dir) to /readyz: %s", s.ReadyAfter.Round(time.Millisecond))

	var all strings.Builder
	for _, j := range []job{{name: "r1", ns: "e2e-r1", workers: 3}, {name: "r2", ns: "e2e-r1", slots: 2}, {name: "r3", ns: "e2e-r2", cleanPod: "All", labels: map[string]string{"keep": "yes"}}} {
		all.WriteString("---\n" + j.yaml())
	}
	s.kubectlIn(t, all.String(), "create", "-f", "-")
	s.kubectl(t, "create", "-f", repoPath(t, seedManifest))
	s.kubectl(t, "patch", "mj", "r1", "-n", "e2e-r1", "--subresource=status", "--type=merge", "-p",
		`{"status":{"conditions":[{"type":"Running","status":"True"}],"replicaStatuses":{"Worker":{"active":3}}}}`)
	s.kubectl(t, "delete", "mj", "r2", "-n", "e2e-r1")
	before := listAll(t, s)
	if len(before) != 3 {
		t.Fatalf("want 3 objects before the restart, got %q", before)
	}
	kubeconfigBefore, err := os.ReadFile(s.Admin.Path)
	if err != nil {
		t.Fatal(err)
	}
	tokenBefore, firstStart := s.Admin.Token, s.ReadyAfter

	begin := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, s.LogTail(30))
	}
	t.Logf("stopped by SIGTERM in %s", time.Since(begin).Round(time.Millisecond))
	if exit := s.ExitCode(); exit != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", exit)
	}
	log := s.Log()
	if !strings.Contains(log, etcdStopped) {
		t.Errorf("the log does not say %q:\n%s", etcdStopped, harness.Tail(log, 30))
	}
	// The API server drains first, then etcd stops.
	drained := strings.LastIndex(log, "Stopped listening on")
	if drained < 0 || drained > strings.Index(log, etcdStopped) {
		t.Errorf("want the API server to stop listening before etcd stops:\n%s", harness.Tail(log, 30))
	}

	// The same command again (same flags, port and data dir), as a user
	// would restart it.
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = driveForTest(t, s.Server)
	t.Logf("restart on the same data dir to /readyz: %s (first start %s)", s.ReadyAfter.Round(time.Millisecond), firstStart.Round(time.Millisecond))
	if s.Admin.Token != tokenBefore {
		t.Errorf("the restart made a new admin token")
	}
	if after, _ := os.ReadFile(s.Admin.Path); !bytes.Equal(after, kubeconfigBefore) {
		t.Errorf("the restart changed the admin kubeconfig (token, certificate or address)")
	}
	after := listAll(t, s)
	if !slices.Equal(after, before) {
		t.Errorf("objects after the restart:\n  %s\nbefore:\n  %s", strings.Join(after, "\n  "), strings.Join(before, "\n  "))
	}
	if got := s.kubectl(t, "get", "mj", "r1", "-n", "e2e-r1", "-o", "jsonpath={.status.conditions[0].type}/{.status.replicaStatuses.Worker.active}"); got != "Running/3" {
		t.Errorf("r1's status after the restart: %q, want Running/3", got)
	}
	// Still writable, and resource versions keep growing.
	s.kubectlIn(t, job{name: "r4", ns: "e2e-r2"}.yaml(), "create", "-f", "-")
	rv4, _ := strconv.ParseInt(s.kubectl(t, "get", "mj", "r4", "-n", "e2e-r2", "-o", "jsonpath={.metadata.resourceVersion}"), 10, 64)
	for _, line := range before {
		f := strings.Fields(line)
		if rv, _ := strconv.ParseInt(f[len(f)-1], 10, 64); rv >= rv4 {
			t.Errorf("a write after the restart got resourceVersion %d, not above %s", rv4, line)
		}
	}
	// A client from before the restart (the old kubeconfig file) still works.
	if rows := table(s.kubectl(t, "get", "mj", "-n", seedNS)); len(rows) != 2 || rows[1][0] != seedName {
		t.Errorf("kubectl get mj -n %s after the restart: %q", seedNS, rows)
	}
	if err := s.Stop(); err != nil || s.ExitCode() != 0 {
		t.Errorf("stopping the restarted server: exit %d, %v", s.ExitCode(), err)
	}
}

// listAll returns one line per object: namespace/name uid generation
// spec-and-status digest resourceVersion, sorted.
func listAll(t *testing.T, s *server) []string {
	t.Helper()
	out := s.kubectl(t, "get", "mj", "-A", "-o",
		`jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.metadata.uid} {.metadata.generation} {.metadata.labels} {.spec} {.status} {.metadata.resourceVersion}{"\n"}{end}`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	sort.Strings(lines)
	return lines
}
