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

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one child process of the benchmark: an etcd or an API server.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
}

func startProc(name, bin string, args ...string) (*proc, error) {
	return startProcEnv(name, nil, bin, args...)
}

// startProcEnv starts a process with extra environment variables.
func startProcEnv(name string, env []string, bin string, args ...string) (*proc, error) {
	p := &proc{name: name, cmd: exec.Command(bin, args...), stderr: &bytes.Buffer{}, done: make(chan struct{})}
	if len(env) > 0 {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

// stop sends SIGTERM and waits, then SIGKILL if the process lingers.
func (p *proc) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logTail is the end of the process's output, for error messages.
func (p *proc) logTail() string {
	s := p.stderr.String()
	if len(s) > 3000 {
		s = s[len(s)-3000:]
	}
	return s
}

// rssBytes reads VmRSS of the process from /proc: the resident memory of the
// API server alone, since etcd runs in its own process for both peers.
func (p *proc) rssBytes() (int64, error) { return p.statusKB("VmRSS:") }

// anonRSSBytes is the part of the RSS that is the process's own memory
// (heap, stacks), without the pages of its executable.
func (p *proc) anonRSSBytes() (int64, error) { return p.statusKB("RssAnon:") }

func (p *proc) statusKB(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s for %s", field, p.name)
}

// cpuSeconds is the user+system CPU the process has used so far.
func (p *proc) cpuSeconds() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat for %s", p.name)
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	const clockTicks = 100 // USER_HZ on Linux
	return (utime + stime) / clockTicks, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startEtcd runs an etcd 3.7.0 process with the configuration both peers
// share, and returns it with its client URL.
func startEtcd(bin, dir, name string) (*proc, string, error) {
	clientPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	p, err := startProc(name, bin,
		"--name", name,
		"--data-dir", filepath.Join(dir, name),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", name+"="+peerURL,
		// Room for 150,000 objects and their history between compactions.
		"--quota-backend-bytes", strconv.FormatInt(8<<30, 10),
		"--max-request-bytes", strconv.Itoa(4<<20),
		"--log-level", "warn")
	if err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			return nil, "", fmt.Errorf("%s exited: %s", name, p.logTail())
		}
		resp, err := http.Get(clientURL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, clientURL, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	return nil, "", fmt.Errorf("%s not healthy within 30s: %s", name, p.logTail())
}

// newHTTPClient speaks HTTP/2 over TLS to a server with a self-signed
// certificate, as kubectl and client-go do (the benchmark measures servers,
// not certificate checks). Each peer gets its own client.
func newHTTPClient(conns int) *http.Client {
	tlsConf := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // self-signed benchmark servers on loopback
	tr := &http.Transport{TLSClientConfig: tlsConf, MaxIdleConnsPerHost: conns, ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

// waitReady polls /readyz until it answers 200, returning how long that took
// from start.
func waitReady(ctx context.Context, p *proc, base string, start time.Time, limit time.Duration) (time.Duration, error) {
	c := newHTTPClient(1)
	defer c.CloseIdleConnections()
	deadline := start.Add(limit)
	for time.Now().Before(deadline) {
		if p.exited() {
			return 0, fmt.Errorf("%s exited: %s", p.name, p.logTail())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s not ready within %s: %s", p.name, limit, p.logTail())
}
