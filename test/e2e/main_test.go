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
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const (
	cmdTimeout  = 60 * time.Second
	etcdStopped = "Embedded etcd stopped"
)

var (
	kubectlPath string
	curlPath    string
	workDir     string // CA files and kubectl HOMEs, one per server start
	shared      *server
	// wantVersion is the version the binary was stamped with, when known.
	wantVersion = os.Getenv("MPIJOB_APISERVER_VERSION")
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) (code int) {
	var err error
	if kubectlPath, err = harness.KubectlPath(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if curlPath, err = exec.LookPath("curl"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: curl is required:", err)
		return 1
	}
	if workDir, err = os.MkdirTemp("", "mje2ew"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(workDir)
	// A short data dir of its own: the embedded etcd's unix socket paths
	// must stay under 108 bytes.
	dataDir, err := os.MkdirTemp("", "mje2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dataDir)

	s, err := harness.StartServer(context.Background(), harness.ServerOptions{DataDir: dataDir, LogDir: workDir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the shared server:", err)
		return 1
	}
	if shared, err = drive(s); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		_ = s.Kill()
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: shared server on %s (data dir %s): cold start to /readyz %s\n",
		shared.URL, dataDir, shared.ReadyAfter.Round(time.Millisecond))

	code = m.Run()

	// SIGTERM must drain the server, stop etcd and exit 0.
	begin := time.Now()
	exited, _ := shared.Exited()
	err = shared.Stop()
	took := time.Since(begin)
	switch {
	case exited:
		fmt.Fprintf(os.Stderr, "e2e: FAIL: the shared server had exited (%d) before SIGTERM\n%s", shared.ExitCode(), shared.LogTail(30))
		code = 1
	case err != nil:
		fmt.Fprintf(os.Stderr, "e2e: FAIL: stopping the shared server: %v\n%s", err, shared.LogTail(30))
		code = 1
	case shared.ExitCode() != 0:
		fmt.Fprintf(os.Stderr, "e2e: FAIL: the shared server exited %d after SIGTERM (want 0)\n%s", shared.ExitCode(), shared.LogTail(30))
		code = 1
	case !strings.Contains(shared.Log(), etcdStopped):
		fmt.Fprintf(os.Stderr, "e2e: FAIL: the shared server did not log %q after SIGTERM\n%s", etcdStopped, shared.LogTail(30))
		code = 1
	default:
		fmt.Fprintf(os.Stderr, "e2e: shared server stopped by SIGTERM in %s, exit 0\n", took.Round(time.Millisecond))
	}
	return code
}

// server is a started server and what a user drives it with: kubectl with a
// discovery cache of this start's own, and the serving CA in a file for
// curl.
type server struct {
	*harness.Server
	kc     harness.Kubectl
	caFile string
}

// drive readies a server that has just (re)started for kubectl and curl.
func drive(s *harness.Server) (*server, error) {
	dir, err := os.MkdirTemp(workDir, "srv")
	if err != nil {
		return nil, err
	}
	d := &server{
		Server: s,
		kc:     harness.Kubectl{Path: kubectlPath, Kubeconfig: s.Admin.Path, Home: dir},
		caFile: filepath.Join(dir, "ca.crt"),
	}
	return d, os.WriteFile(d.caFile, s.Admin.CAData, 0o600)
}

// driveForTest is drive that fails t on an error.
func driveForTest(t *testing.T, s *harness.Server) *server {
	t.Helper()
	d, err := drive(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dumpOnFailure logs the tail of the shared server's log when the test
// failed (servers a test starts itself do that on their own).
func dumpOnFailure(t *testing.T, s *server) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (%s), last lines:\n%s", s.LogFile, s.LogTail(40))
		}
	})
}

// ---- kubectl ----

// kubectl runs kubectl and fails the test unless it succeeds.
func (s *server) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return s.kc.Succeeds(t, "", args...)
}

// kubectlIn runs kubectl with stdin and fails the test unless it succeeds.
func (s *server) kubectlIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	return s.kc.Succeeds(t, stdin, args...)
}

// kubectlFails runs kubectl, fails the test if it succeeds, and returns stderr.
func (s *server) kubectlFails(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	return s.kc.Fails(t, stdin, args...)
}

// run runs kubectl with stdin; the caller checks how it exited.
func (s *server) run(stdin string, args ...string) harness.KubectlResult {
	return s.kc.Run(context.Background(), stdin, args...)
}

// ---- curl ----

type curlReq struct {
	method  string
	path    string
	body    []byte
	noToken bool
	token   string // overrides the admin token
	headers []string
}

// curlDo runs curl against this server, trusting its CA from the kubeconfig,
// and returns the HTTP code and the body.
func (s *server) curlDo(r curlReq) (int, []byte, error) {
	dir, err := os.MkdirTemp(workDir, "curl")
	if err != nil {
		return 0, nil, err
	}
	defer os.RemoveAll(dir)
	outFile := filepath.Join(dir, "out")
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	args := []string{"-sS", "--cacert", s.caFile, "-X", method, "-o", outFile, "-w", "%{http_code}"}
	switch {
	case r.token != "":
		args = append(args, "-H", "Authorization: Bearer "+r.token)
	case !r.noToken:
		args = append(args, "-H", "Authorization: Bearer "+s.Admin.Token)
	}
	for _, h := range r.headers {
		args = append(args, "-H", h)
	}
	if r.body != nil {
		in := filepath.Join(dir, "in")
		if err := os.WriteFile(in, r.body, 0o600); err != nil {
			return 0, nil, err
		}
		args = append(args, "-H", "Content-Type: application/json", "--data-binary", "@"+in)
	}
	args = append(args, s.URL+r.path)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	var errb bytes.Buffer
	cmd := exec.CommandContext(ctx, curlPath, args...)
	cmd.Stderr = &errb
	codeOut, err := cmd.Output()
	if err != nil {
		return 0, nil, fmt.Errorf("curl %s %s: %v: %s", method, r.path, err, errb.String())
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(codeOut)))
	if err != nil {
		return 0, nil, fmt.Errorf("curl %s %s: bad status %q", method, r.path, codeOut)
	}
	body, err := os.ReadFile(outFile)
	if errors.Is(err, os.ErrNotExist) {
		err = nil // an empty body
	}
	return code, body, err
}

func (s *server) curl(t *testing.T, r curlReq) (int, []byte) {
	t.Helper()
	code, body, err := s.curlDo(r)
	if err != nil {
		t.Fatal(err)
	}
	return code, body
}
