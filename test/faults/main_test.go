//go:build faults

package faults

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

const (
	readyTimeout = 90 * time.Second // a start takes ~1 s; the bound is for a loaded 2-core machine
	stopTimeout  = 60 * time.Second
	// clientTimeout bounds every API call the tests make, so no test hangs.
	clientTimeout = 30 * time.Second
	namespace     = "default"
)

var binPath string

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	if binPath = os.Getenv("MPIJOB_APISERVER_BIN"); binPath == "" {
		root, err := findRepoRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "faults:", err)
			return 1
		}
		dir, err := os.MkdirTemp("", "mjfbin")
		if err != nil {
			fmt.Fprintln(os.Stderr, "faults:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		binPath = filepath.Join(dir, "mpijob-apiserver")
		start := time.Now()
		build := exec.Command("go", "build", "-o", binPath, "./cmd/mpijob-apiserver")
		build.Dir = root
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "faults: building the server:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "faults: built %s in %s\n", binPath, time.Since(start).Round(time.Millisecond))
	} else if _, err := os.Stat(binPath); err != nil {
		fmt.Fprintln(os.Stderr, "faults: MPIJOB_APISERVER_BIN:", err)
		return 1
	}
	return m.Run()
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(data, []byte("module github.com/mpijob/mpijob-apiserver")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (go.mod of github.com/mpijob/mpijob-apiserver)")
		}
		dir = parent
	}
}

// dataDir is a short temporary directory (the embedded etcd's unix sockets
// live in it, and their paths are limited to 107 bytes).
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mjf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// syncBuffer collects a subprocess's output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  | " + strings.Join(lines, "\n  | ") + "\n"
}

// server is a running mpijob-apiserver process (standalone, embedded etcd).
type server struct {
	dataDir string
	port    int
	cmd     *exec.Cmd
	stderr  *syncBuffer
	exited  chan struct{}
	exitErr error

	// readyAfter is the time from exec to the first 200 from /readyz.
	readyAfter time.Duration
	// config is the admin's client config (system:masters) from
	// <data-dir>/admin.kubeconfig; client is the generated clientset on it.
	config *rest.Config
	client clientset.Interface
	caPool *x509.CertPool
}

func (s *server) url() string { return "https://127.0.0.1:" + strconv.Itoa(s.port) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start execs the binary on dir with a free port, waits for /readyz and
// loads the admin kubeconfig. The process is killed at the test's cleanup if
// it still runs.
func start(t *testing.T, dir string, extraArgs ...string) *server {
	t.Helper()
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s := &server{dataDir: dir, port: port, stderr: &syncBuffer{}, exited: make(chan struct{})}
		args := append([]string{"--data-dir", dir, "--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port)}, extraArgs...)
		s.cmd = exec.Command(binPath, args...)
		s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
		s.cmd.Env = append(os.Environ(), "TMPDIR="+dir)
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			s.exitErr = s.cmd.Wait()
			close(s.exited)
		}()
		t.Cleanup(s.stop)
		err = s.waitReady()
		if err == nil {
			// The server rewrites admin.kubeconfig (truncate, then write)
			// just after it starts serving, so /readyz can answer while
			// the file is empty or still names the previous start's port.
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := s.loadKubeconfig()
				if err == nil {
					return s
				}
				if time.Now().After(deadline) {
					t.Fatal(err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		if attempt < 3 && strings.Contains(s.stderr.String(), "address already in use") {
			continue
		}
		t.Fatal(err)
	}
}

func (s *server) waitReady() error {
	begin := time.Now()
	client := &http.Client{
		Timeout: 2 * time.Second,
		// Only a readiness probe: the kubeconfig with the CA may not exist yet.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec
	}
	defer client.CloseIdleConnections()
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("the server exited before it was ready (%v)\n%s", s.exitErr, tail(s.stderr.String(), 30))
		default:
		}
		if time.Since(begin) > readyTimeout {
			s.kill9()
			return fmt.Errorf("the server was not ready within %s\n%s", readyTimeout, tail(s.stderr.String(), 30))
		}
		resp, err := client.Get(s.url() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.readyAfter = time.Since(begin)
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) loadKubeconfig() error {
	path := filepath.Join(s.dataDir, "admin.kubeconfig")
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return fmt.Errorf("reading the admin kubeconfig: %w", err)
	}
	if cfg.Host != s.url() {
		return fmt.Errorf("%s: server is %q, want %q", path, cfg.Host, s.url())
	}
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling
	cfg.Timeout = clientTimeout
	s.config = cfg
	if s.client, err = clientset.NewForConfig(cfg); err != nil {
		return err
	}
	s.caPool = x509.NewCertPool()
	if !s.caPool.AppendCertsFromPEM(cfg.CAData) {
		return fmt.Errorf("%s: no serving CA", path)
	}
	return nil
}

// kill9 sends SIGKILL and waits for the process to be gone.
func (s *server) kill9() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// stop is the cleanup: SIGTERM, then SIGKILL after stopTimeout.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.kill9()
	}
}

// dumpOnFailure prints the tail of a server's log when the test failed.
func dumpOnFailure(t *testing.T, s *server) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (%s), last lines:\n%s", s.dataDir, tail(s.stderr.String(), 40))
		}
	})
}

// userClient is a plain HTTP/1.1 client for bearer token, trusting the
// server's CA: it shows the raw status and headers (client-go would retry a
// 429 by itself).
func (s *server) httpClient(conns int) *http.Client {
	return &http.Client{
		Timeout: clientTimeout,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: s.caPool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: conns,
		},
	}
}
