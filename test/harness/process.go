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

package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds for starting and stopping processes. A start takes about a second;
// the bounds are for a loaded 2-core machine.
const (
	StartTimeout = 2 * time.Minute
	// StopTimeout bounds a graceful stop. An API server drains in-flight
	// requests for up to its --request-timeout (60 s by default), and an
	// open watch holds it that long.
	StopTimeout = 90 * time.Second
	// TeardownTimeout bounds the SIGTERM of a teardown at a test's end,
	// which then SIGKILLs without complaint.
	TeardownTimeout = 5 * time.Second
)

// Process is a child process. Its stderr goes to LogFile and its stdout to
// StdoutFile, both appended to, so that a restarted process keeps the
// earlier output.
type Process struct {
	Name       string
	Bin        string
	Args       []string
	Env        []string // added to the test process's environment
	LogFile    string
	StdoutFile string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// StartProcess starts bin with args and env; its stderr goes to logFile and
// its stdout to logFile+".stdout".
func StartProcess(name, bin, logFile string, args, env []string) (*Process, error) {
	p := &Process{Name: name, Bin: bin, Args: args, Env: env, LogFile: logFile, StdoutFile: logFile + ".stdout"}
	return p, p.start()
}

// Restart starts an exited process again with the same binary, flags,
// environment and log files.
func (p *Process) Restart() error {
	if exited, _ := p.Exited(); !exited {
		return fmt.Errorf("harness: %s (pid %d) is still running", p.Name, p.Pid())
	}
	p.stopOnce, p.stopErr = sync.Once{}, nil
	return p.start()
}

func (p *Process) start() error {
	stderr, err := os.OpenFile(p.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer stderr.Close()
	stdout, err := os.OpenFile(p.StdoutFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer stdout.Close()
	fmt.Fprintf(stderr, "=== %s %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(append([]string{p.Bin}, p.Args...), " "))
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(os.Environ(), p.Env...)
	// Its own process group, and killed if the test process dies without
	// cleaning up (a panic or a test timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("harness: starting %s: %w", p.Name, err)
	}
	p.cmd, p.done, p.err = cmd, make(chan struct{}), nil
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// ExitCode is the exit status of an exited process (-1 when it was killed
// by a signal or still runs).
func (p *Process) ExitCode() int {
	if exited, _ := p.Exited(); !exited {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop sends SIGTERM, waits up to StopTimeout, then SIGKILLs. It returns nil
// for a process that exited 0 or on the signal (an error when it had to be
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

// Kill sends SIGKILL, as a crashed machine would, and waits for the process
// to be gone.
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
	return &slowExitError{fmt.Sprintf("harness: %s (pid %d) did not exit within %s of %s; killed", p.Name, p.Pid(), timeout, sig)}
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
	return fmt.Errorf("harness: %s: %w", p.Name, p.err)
}

// Log is everything the process wrote to stderr.
func (p *Process) Log() string { return readAll(p.LogFile) }

// Stdout is everything the process wrote to stdout.
func (p *Process) Stdout() string { return readAll(p.StdoutFile) }

// LogTail is the last n lines of the process's stderr, indented for a test
// message.
func (p *Process) LogTail(n int) string { return Tail(p.Log(), n) }

func readAll(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(data)
}

// Tail is the last n lines of s, each indented with "  | ".
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  | " + strings.Join(lines, "\n  | ") + "\n"
}
