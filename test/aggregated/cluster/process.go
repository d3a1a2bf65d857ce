package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds for starting and stopping the processes. A start takes seconds; the
// bounds are for a loaded 2-core machine.
const (
	StartTimeout = 2 * time.Minute
	// StopTimeout bounds a graceful stop. An API server drains in-flight
	// requests for up to its ShutdownTimeout (--request-timeout, 60 s by
	// default), and an open watch (kube-controller-manager's, through the
	// aggregator) holds it that long.
	StopTimeout = 90 * time.Second
	// TeardownTimeout bounds the SIGTERM of a teardown (Cluster.Stop,
	// Server.Close), which then SIGKILLs without complaint: a test's end
	// does not need a graceful exit.
	TeardownTimeout = 5 * time.Second
)

// Binaries are the programs the harness runs.
type Binaries struct {
	KubeAPIServer         string // kube-apiserver v1.37.2
	KubeControllerManager string // kube-controller-manager v1.37.2 (optional)
	Kubectl               string // kubectl v1.37.2
	Etcd                  string // etcd v3.7.0
	MPIJobAPIServer       string // our server, built by `make build`
}

// RepoRoot is the repository's root: the nearest directory above the working
// directory that holds the root module's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/mpijob/mpijob-apiserver\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cluster: no repository root (the go.mod of github.com/mpijob/mpijob-apiserver) above the working directory")
		}
		dir = parent
	}
}

// FindBinaries locates the binaries: $KUBE_APISERVER_BIN,
// $KUBE_CONTROLLER_MANAGER_BIN, $KUBECTL_BIN, $ETCD_BIN and
// $MPIJOB_APISERVER_BIN when set, else
// _output/aggregated/bin/{kube-apiserver,kube-controller-manager,kubectl,etcd}
// (test/aggregated/build.sh) and _output/bin/mpijob-apiserver (make build)
// under the repository root. It fails when kube-apiserver, kubectl or etcd is
// missing; the others are checked when they are started (StartServer,
// StartControllerManager).
func FindBinaries() (Binaries, error) {
	root, err := RepoRoot()
	if err != nil {
		return Binaries{}, err
	}
	pick := func(env, def string) string {
		if v := os.Getenv(env); v != "" {
			return v
		}
		return filepath.Join(root, def)
	}
	b := Binaries{
		KubeAPIServer:         pick("KUBE_APISERVER_BIN", "_output/aggregated/bin/kube-apiserver"),
		KubeControllerManager: pick("KUBE_CONTROLLER_MANAGER_BIN", "_output/aggregated/bin/kube-controller-manager"),
		Kubectl:               pick("KUBECTL_BIN", "_output/aggregated/bin/kubectl"),
		Etcd:                  pick("ETCD_BIN", "_output/aggregated/bin/etcd"),
		MPIJobAPIServer:       pick("MPIJOB_APISERVER_BIN", "_output/bin/mpijob-apiserver"),
	}
	for _, p := range []string{b.KubeAPIServer, b.Kubectl, b.Etcd} {
		if _, err := os.Stat(p); err != nil {
			return b, fmt.Errorf("cluster: %w (run test/aggregated/build.sh first)", err)
		}
	}
	return b, nil
}

// Process is a child process whose output goes to LogFile.
type Process struct {
	Name    string
	LogFile string
	Args    []string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// startProcess starts bin with args; stdout and stderr go to logFile
// (appended, so that a restarted process keeps the earlier log).
func startProcess(name, bin, logFile string, args []string, env []string) (*Process, error) {
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	fmt.Fprintf(log, "=== %s %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(append([]string{bin}, args...), " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), env...)
	// Its own process group, and killed if the test process dies without
	// cleaning up (a panic or a test timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cluster: starting %s: %w", name, err)
	}
	p := &Process{Name: name, LogFile: logFile, Args: args, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, waits up to StopTimeout, then SIGKILLs. It returns nil
// for a process that exited on the signal (an error when it had to be
// killed), and is safe to call more than once.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.signalAndWait(syscall.SIGTERM, StopTimeout) })
	return p.stopErr
}

// Teardown sends SIGTERM, waits up to TeardownTimeout, then SIGKILLs; it
// returns an error only for an exit that was neither of those signals.
func (p *Process) Teardown() error {
	p.stopOnce.Do(func() {
		p.stopErr = p.signalAndWait(syscall.SIGTERM, TeardownTimeout)
		var slow *slowExitError
		if errors.As(p.stopErr, &slow) {
			p.stopErr = nil
		}
	})
	return p.stopErr
}

// Kill sends SIGKILL and waits for the process to go.
func (p *Process) Kill() error {
	p.stopOnce.Do(func() { p.stopErr = p.signalAndWait(syscall.SIGKILL, StopTimeout) })
	return p.stopErr
}

func (p *Process) signalAndWait(sig syscall.Signal, timeout time.Duration) error {
	select {
	case <-p.done:
		return p.exitError(sig)
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.exitError(sig)
	case <-time.After(timeout):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return &slowExitError{fmt.Sprintf("cluster: %s (pid %d) did not exit within %s of %s; killed", p.Name, p.Pid(), timeout, sig)}
}

type slowExitError struct{ msg string }

func (e *slowExitError) Error() string { return e.msg }

func (p *Process) exitError(sig syscall.Signal) error {
	if p.err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == sig {
			return nil
		}
	}
	return fmt.Errorf("cluster: %s: %w", p.Name, p.err)
}

// LogTail is the last n lines of the process's log.
func (p *Process) LogTail(n int) string { return tailFile(p.LogFile, n) }

func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePorts returns n distinct free ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// poll calls check every interval until it returns true or an error, the
// process exits, or ctx ends; the error then carries check's last error.
func poll(ctx context.Context, what string, p *Process, interval time.Duration, check func(context.Context) (bool, error)) error {
	var last error
	for {
		ok, err := check(ctx)
		if ok {
			return nil
		}
		last = err
		if p != nil {
			if exited, err := p.Exited(); exited {
				return fmt.Errorf("cluster: %s exited (%v) while waiting for %s; log %s:\n%s", p.Name, err, what, p.LogFile, p.LogTail(30))
			}
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("cluster: timed out waiting for %s (last error: %v)", what, last)
			if p != nil {
				msg += fmt.Sprintf("; log %s:\n%s", p.LogFile, p.LogTail(30))
			}
			return errors.New(msg)
		case <-time.After(interval):
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
