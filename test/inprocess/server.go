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

// Package inprocess runs a real mpijob-apiserver inside the test process:
// the same options and code path as the binary, an embedded etcd in a
// temporary data dir, HTTPS on a free loopback port, and the admin
// credentials. Tests that need the server's options (a watch cache off, a
// short shutdown grace, a value the flags refuse) or its embedded etcd use
// it; tests of the binary itself use harness.StartServerForTest.
//
// It imports the server's own packages, so it cannot live in test/harness,
// which the separate test modules import too.
package inprocess

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// ReadyTimeout bounds the wait for /readyz after the server started.
const ReadyTimeout = 30 * time.Second

// Server is a running in-process server.
type Server struct {
	URL     string
	DataDir string
	// Admin is the admin kubeconfig the server wrote into its data dir: a
	// bearer token and the serving CA.
	Admin *harness.Kubeconfig
	// Client is the generated clientset with the admin's credentials.
	Client clientset.Interface

	cancel  context.CancelFunc
	running *server.Running
}

// Layout is the server's data directory.
func (s *Server) Layout() datadir.Layout { return datadir.New(s.DataDir) }

// Start runs a server for the test on a new data dir and stops it at
// cleanup. configure, if given, adjusts the options (watch cache,
// compaction, timeouts) before they are completed and validated.
func Start(t testing.TB, configure ...func(*server.Options)) *Server {
	t.Helper()
	return start(t, NewDataDir(t), configure, nil)
}

// StartOn runs a server on an existing data dir (to test restarts).
func StartOn(t testing.TB, dataDir string, configure ...func(*server.Options)) *Server {
	t.Helper()
	return start(t, dataDir, configure, nil)
}

// StartAfterValidate is Start, but adjust changes the options after they
// are validated: for values the flags refuse, such as an embedded etcd
// limit below the API body limit.
func StartAfterValidate(t testing.TB, adjust func(*server.Options)) *Server {
	t.Helper()
	return start(t, NewDataDir(t), nil, adjust)
}

// NewDataDir is a new directory for a data dir, removed at cleanup. Its path
// is short: the embedded etcd's unix socket paths are limited to 107 bytes,
// and t.TempDir() names can be long for table-driven subtests.
func NewDataDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mj")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func start(t testing.TB, dataDir string, configure []func(*server.Options), afterValidate func(*server.Options)) *Server {
	t.Helper()
	o := server.NewOptions(testWriter{t})
	o.DataDir = dataDir
	// The listener is opened here and handed over, so no other process can
	// take the port between picking and binding it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.SecureServing.Listener = ln
	o.SecureServing.BindPort = ln.Addr().(*net.TCPAddr).Port
	for _, c := range configure {
		c(o)
	}
	if err := o.Complete(); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if afterValidate != nil {
		afterValidate(o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	running, err := o.Start(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &Server{URL: running.URL, DataDir: dataDir, cancel: cancel, running: running}
	t.Cleanup(s.Stop)

	if s.Admin, err = harness.LoadKubeconfig(running.KubeconfigPath); err != nil {
		t.Fatal(err)
	}
	if s.Client, err = s.Admin.Clientset(); err != nil {
		t.Fatal(err)
	}
	if err := s.waitReady(); err != nil {
		t.Fatal(err)
	}
	return s
}

// Stop shuts the server down (API first, then etcd) and waits for it.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	_ = s.running.Wait()
	s.cancel = nil
}

// waitReady polls /readyz, trusting the serving CA, until it answers 200.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	hc, err := s.Admin.HTTPClient()
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	return harness.WaitHTTPOK(ctx, "the in-process server's /readyz at "+s.URL, nil, hc, s.URL+"/readyz?verbose", 50*time.Millisecond)
}

// testWriter sends the server's log to the test's log, shown when the test
// fails or runs with -v.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
