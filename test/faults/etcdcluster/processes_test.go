//go:build faults

package etcdcluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/tools/clientcmd"

	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

var etcdBin, serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mjbin")
	if err != nil {
		panic(err)
	}
	root, _ := filepath.Abs("../../..")
	etcdBin = filepath.Join(dir, "etcd")
	build := exec.Command("go", "build", "-o", etcdBin, "./test/tools/etcd")
	build.Dir, build.Stdout, build.Stderr = root, os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		panic(err)
	}
	serverBin = os.Getenv("MPIJOB_APISERVER_BIN")
	if serverBin == "" {
		serverBin = filepath.Join(dir, "mpijob-apiserver")
		build := exec.Command("go", "build", "-o", serverBin, "./cmd/mpijob-apiserver")
		build.Dir, build.Stdout, build.Stderr = root, os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// member is one etcd process of the cluster.
type member struct {
	name       string
	dir        string
	clientURL  string
	peerURL    string
	initial    string
	cmd        *exec.Cmd
	logFile    *os.File
	terminated chan struct{}
}

func startCluster(t *testing.T, n int) []*member {
	t.Helper()
	base := t.TempDir()
	members := make([]*member, n)
	var initial []string
	for i := range members {
		m := &member{
			name:      fmt.Sprintf("m%d", i),
			dir:       filepath.Join(base, fmt.Sprintf("m%d", i)),
			clientURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
			peerURL:   fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
		}
		members[i] = m
		initial = append(initial, m.name+"="+m.peerURL)
	}
	for _, m := range members {
		m.initial = strings.Join(initial, ",")
		m.start(t)
	}
	t.Cleanup(func() {
		for _, m := range members {
			m.kill()
		}
	})
	waitFor(t, 30*time.Second, "etcd cluster healthy", func() bool { return clusterHealthy(members) })
	return members
}

func (m *member) start(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(m.dir+".log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	m.logFile = f
	m.cmd = exec.Command(etcdBin, "--name", m.name, "--data-dir", m.dir,
		"--listen-client-urls", m.clientURL, "--advertise-client-urls", m.clientURL,
		"--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
		"--initial-cluster", m.initial, "--initial-cluster-state", "new",
		"--initial-cluster-token", "faults", "--log-level", "warn")
	m.cmd.Stdout, m.cmd.Stderr = f, f
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m.terminated = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(m.cmd, m.terminated)
}

// kill sends SIGKILL, as a crashed machine would, and waits for the exit.
func (m *member) kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.terminated
	m.logFile.Close()
	m.cmd = nil
}

func endpoints(members []*member) []string {
	var eps []string
	for _, m := range members {
		eps = append(eps, m.clientURL)
	}
	return eps
}

func memberStatus(m *member) (*clientv3.StatusResponse, error) {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{m.clientURL}, DialTimeout: time.Second})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Status(ctx, m.clientURL)
}

func clusterHealthy(members []*member) bool {
	for _, m := range members {
		if _, err := memberStatus(m); err != nil {
			return false
		}
	}
	return true
}

// leader returns the index of the current leader.
func leader(t *testing.T, members []*member) int {
	t.Helper()
	for i, m := range members {
		s, err := memberStatus(m)
		if err == nil && s.Leader == s.Header.MemberId {
			return i
		}
	}
	t.Fatal("no leader")
	return -1
}

// replica is one mpijob-apiserver process on the shared etcd cluster.
type replica struct {
	url    string
	client clientset.Interface
	cmd    *exec.Cmd
}

func startReplica(t *testing.T, members []*member, extraArgs ...string) *replica {
	t.Helper()
	dir, err := os.MkdirTemp("", "mjr")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	log, err := os.Create(dir + ".log")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--data-dir", dir, "--secure-port", strconv.Itoa(port),
		"--etcd-servers", strings.Join(endpoints(members), ",")}, extraArgs...)
	cmd := exec.Command(serverBin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		log.Close()
		os.RemoveAll(dir)
		os.Remove(dir + ".log")
	})
	kubeconfig := filepath.Join(dir, "admin.kubeconfig")
	r := &replica{url: fmt.Sprintf("https://127.0.0.1:%d", port), cmd: cmd}
	waitFor(t, 60*time.Second, "replica ready", func() bool {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return false
		}
		cfg.QPS, cfg.Burst = -1, 0
		c, err := clientset.NewForConfig(cfg)
		if err != nil {
			return false
		}
		body, err := c.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		if err != nil || string(body) != "ok" {
			return false
		}
		r.client = c
		return true
	})
	return r
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
