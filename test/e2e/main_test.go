package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
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

	"k8s.io/client-go/tools/clientcmd"
)

const (
	readyTimeout = 90 * time.Second // a cold start takes ~1 s; the bound is for a loaded 2-core machine
	stopTimeout  = 60 * time.Second
	cmdTimeout   = 60 * time.Second
	etcdStopped  = "Embedded etcd stopped"
)

var (
	repoRoot    string
	binPath     string
	kubectlPath string
	curlPath    string
	workDir     string // CA files, kubectl caches, HOME for kubectl
	shared      *server
	// wantVersion is the version the binary was stamped with, when known.
	wantVersion = os.Getenv("MPIJOB_APISERVER_VERSION")
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) (code int) {
	var err error
	if repoRoot, err = findRepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if kubectlPath, err = exec.LookPath("kubectl"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: kubectl is required (it is /usr/bin/kubectl on this project's machines):", err)
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

	if binPath = os.Getenv("MPIJOB_APISERVER_BIN"); binPath == "" {
		binPath = filepath.Join(workDir, "mpijob-apiserver")
		start := time.Now()
		build := exec.Command("go", "build", "-o", binPath, "./cmd/mpijob-apiserver")
		build.Dir = repoRoot
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building the server:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", binPath, time.Since(start).Round(time.Millisecond))
	} else if _, err := os.Stat(binPath); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: MPIJOB_APISERVER_BIN:", err)
		return 1
	}

	dataDir, err := os.MkdirTemp("", "mje2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dataDir)
	shared, err = startServer(dataDir, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the shared server:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: shared server on %s (data dir %s): cold start to /readyz %s\n",
		shared.url(), dataDir, shared.readyAfter.Round(time.Millisecond))

	code = m.Run()

	// SIGTERM must drain the server, stop etcd and exit 0.
	exit, took, err := shared.stop()
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "e2e: FAIL: stopping the shared server: %v\n%s", err, tail(shared.stderr.String(), 30))
		code = 1
	case exit != 0:
		fmt.Fprintf(os.Stderr, "e2e: FAIL: the shared server exited %d after SIGTERM (want 0)\n%s", exit, tail(shared.stderr.String(), 30))
		code = 1
	case !strings.Contains(shared.stderr.String(), etcdStopped):
		fmt.Fprintf(os.Stderr, "e2e: FAIL: the shared server did not log %q after SIGTERM\n%s", etcdStopped, tail(shared.stderr.String(), 30))
		code = 1
	default:
		fmt.Fprintf(os.Stderr, "e2e: shared server stopped by SIGTERM in %s, exit 0\n", took.Round(time.Millisecond))
	}
	return code
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

// server is a running mpijob-apiserver subprocess.
type server struct {
	dataDir string
	port    int
	cmd     *exec.Cmd
	stdout  *syncBuffer
	stderr  *syncBuffer
	exited  chan struct{}
	exitErr error

	// readyAfter is the time from exec to the first 200 from /readyz.
	readyAfter time.Duration
	kubeconfig string
	token      string
	caFile     string // the serving CA from the kubeconfig, for curl
	cacheDir   string // kubectl's discovery cache, one per start
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

// launch execs the binary on dataDir and port without waiting for it.
func launch(dataDir string, port int, extraArgs ...string) (*server, error) {
	s := &server{dataDir: dataDir, port: port, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	args := append([]string{"--data-dir", dataDir, "--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port)}, extraArgs...)
	s.cmd = exec.Command(binPath, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	s.cmd.Env = append(os.Environ(), "TMPDIR="+os.TempDir())
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// startServer starts the binary and waits for /readyz. port 0 picks a free
// port (retried if another process takes it first).
func startServer(dataDir string, port int) (*server, error) {
	for attempt := 0; ; attempt++ {
		p := port
		if p == 0 {
			var err error
			if p, err = freePort(); err != nil {
				return nil, err
			}
		}
		s, err := launch(dataDir, p)
		if err != nil {
			return nil, err
		}
		err = s.waitReady()
		if err == nil {
			return s, nil
		}
		if port == 0 && attempt < 3 && strings.Contains(s.stderr.String(), "address already in use") {
			continue
		}
		return nil, err
	}
}

func (s *server) waitReady() error {
	start := time.Now()
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
		if time.Since(start) > readyTimeout {
			_ = s.cmd.Process.Kill()
			<-s.exited
			return fmt.Errorf("the server was not ready within %s\n%s", readyTimeout, tail(s.stderr.String(), 30))
		}
		resp, err := client.Get(s.url() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.readyAfter = time.Since(start)
				break
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return s.loadKubeconfig()
}

func (s *server) loadKubeconfig() error {
	s.kubeconfig = filepath.Join(s.dataDir, "admin.kubeconfig")
	cfg, err := clientcmd.LoadFromFile(s.kubeconfig)
	if err != nil {
		return fmt.Errorf("reading the admin kubeconfig: %w", err)
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return fmt.Errorf("%s: no current context", s.kubeconfig)
	}
	cluster, user := cfg.Clusters[ctx.Cluster], cfg.AuthInfos[ctx.AuthInfo]
	if cluster == nil || user == nil {
		return fmt.Errorf("%s: the current context has no cluster or no user", s.kubeconfig)
	}
	if cluster.Server != s.url() {
		return fmt.Errorf("%s: server is %q, want %q", s.kubeconfig, cluster.Server, s.url())
	}
	if user.Token == "" || len(cluster.CertificateAuthorityData) == 0 {
		return fmt.Errorf("%s: want a bearer token and the serving CA", s.kubeconfig)
	}
	s.token = user.Token
	dir, err := os.MkdirTemp(workDir, "srv")
	if err != nil {
		return err
	}
	s.caFile = filepath.Join(dir, "ca.crt")
	s.cacheDir = filepath.Join(dir, "kubecache")
	return os.WriteFile(s.caFile, cluster.CertificateAuthorityData, 0o600)
}

// stop sends SIGTERM and waits for the exit; it reports the exit code and
// how long the shutdown took. After stopTimeout the process is killed.
func (s *server) stop() (exitCode int, took time.Duration, err error) {
	start := time.Now()
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode(), 0, errors.New("the server had already exited")
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return -1, 0, err
	}
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode(), time.Since(start), nil
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return -1, time.Since(start), fmt.Errorf("no exit within %s of SIGTERM; killed", stopTimeout)
	}
}

// kill is a cleanup for servers a test started; it never fails the test.
func (s *server) kill() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
}

// ---- kubectl ----

// run executes kubectl against this server with its admin kubeconfig.
func (s *server) run(stdin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath, s.kubectlArgs(args)...)
	cmd.Env = kubectlEnv()
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

func (s *server) kubectlArgs(args []string) []string {
	return append([]string{"--kubeconfig", s.kubeconfig, "--cache-dir", s.cacheDir}, args...)
}

func kubectlEnv() []string {
	env := []string{"HOME=" + workDir, "PATH=" + os.Getenv("PATH")}
	if tz := os.Getenv("TZ"); tz != "" {
		env = append(env, "TZ="+tz)
	}
	return env
}

// kubectl runs kubectl and fails the test unless it succeeds.
func (s *server) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := s.run("", args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// kubectlIn runs kubectl with stdin and fails the test unless it succeeds.
func (s *server) kubectlIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := s.run(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// kubectlFails runs kubectl, fails the test if it succeeds, and returns stderr.
func (s *server) kubectlFails(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := s.run(stdin, args...)
	if err == nil {
		t.Fatalf("kubectl %s succeeded, want an error\nstdout: %s\nstderr: %s", strings.Join(args, " "), out, errOut)
	}
	return errOut
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
		args = append(args, "-H", "Authorization: Bearer "+s.token)
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
	args = append(args, s.url()+r.path)
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

// dumpOnFailure prints the tail of a server's log when the test failed.
func dumpOnFailure(t *testing.T, s *server) {
	t.Cleanup(func() {
		if t.Failed() && s != nil {
			t.Logf("server log (%s), last lines:\n%s", s.dataDir, tail(s.stderr.String(), 40))
		}
	})
}
