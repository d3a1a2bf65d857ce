// Package framework starts a real mpijob-apiserver in the test process: the
// same options and code path as the binary, an embedded etcd in a temporary
// data dir, HTTPS on a free loopback port, and the admin credentials.
package framework

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

// Server is a running in-process server.
type Server struct {
	URL     string
	DataDir string
	// Config is an admin client config (bearer token, trusted serving cert).
	Config *rest.Config
	Client clientset.Interface
	Token  string

	cancel  context.CancelFunc
	running *server.Running
}

// Start runs a server for the test and stops it at cleanup. configure, if
// given, adjusts the options (watch cache, compaction, timeouts) before start.
func Start(t testing.TB, configure ...func(*server.Options)) *Server {
	t.Helper()
	// A short path: unix socket paths are limited to 107 bytes, and
	// t.TempDir() names can be long for table-driven subtests.
	dir, err := os.MkdirTemp("", "mj")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return StartOn(t, dir, configure...)
}

// StartOn runs a server on an existing data dir (to test restarts).
func StartOn(t testing.TB, dataDir string, configure ...func(*server.Options)) *Server {
	t.Helper()
	o := server.NewOptions(testWriter{t})
	o.DataDir = dataDir
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
	ctx, cancel := context.WithCancel(context.Background())
	running, err := o.Start(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &Server{URL: running.URL, DataDir: dataDir, Token: running.AdminToken, cancel: cancel, running: running}
	t.Cleanup(s.Stop)

	s.Config, err = clientcmd.BuildConfigFromFlags("", running.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	s.Config.QPS, s.Config.Burst = -1, 0 // no client-side throttling in tests
	s.Client, err = clientset.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	s.waitReady(t)
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

func (s *Server) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		body, err := s.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		if err == nil && string(body) == "ok" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server at %s not ready after 30s: %v %s", s.URL, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
