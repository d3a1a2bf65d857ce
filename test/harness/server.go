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
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
)

// ServerOptions tune an mpijob-apiserver process.
type ServerOptions struct {
	// Name tells servers apart in log file names ("mpijob-apiserver").
	Name string
	// DataDir is --data-dir; empty means a new short temporary directory
	// (the embedded etcd's unix socket paths must stay under 108 bytes).
	DataDir string
	// LogDir holds the server's logs (<name>.log for stderr,
	// <name>.log.stdout); empty means a new temporary directory.
	LogDir string
	// Aggregated runs --mode=aggregated; otherwise standalone.
	Aggregated bool
	// Etcd are the members of an external etcd; none means the embedded
	// one (standalone only).
	Etcd []*Etcd
	// Port is --secure-port; 0 picks a free one (and picks again if another
	// process takes it first).
	Port int
	// Args are appended to the flags (a later flag wins).
	Args []string
	// Env is added to the server's environment.
	Env []string
}

// Server is an mpijob-apiserver process.
type Server struct {
	*Process
	Name    string
	Port    int
	URL     string // https://127.0.0.1:<port>
	DataDir string
	// ReadyAfter is the time from exec to the first 200 from /readyz, of
	// the latest start.
	ReadyAfter time.Duration
	// Admin is the admin kubeconfig the standalone server writes into its
	// data dir, loaded once it is ready (nil in aggregated mode).
	Admin *Kubeconfig

	aggregated bool
}

// Layout is the server's data directory.
func (s *Server) Layout() datadir.Layout { return datadir.New(s.DataDir) }

// LaunchServer execs the server without waiting for it to be ready.
func LaunchServer(o ServerOptions) (*Server, error) {
	bin, err := ServerBinary()
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = "mpijob-apiserver"
	}
	if o.DataDir == "" {
		if o.DataDir, err = os.MkdirTemp("", "mj"); err != nil {
			return nil, err
		}
	}
	if o.LogDir == "" {
		if o.LogDir, err = os.MkdirTemp("", "mjlog"); err != nil {
			return nil, err
		}
	}
	if o.Port == 0 {
		if o.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	s := &Server{Name: o.Name, Port: o.Port, URL: "https://127.0.0.1:" + strconv.Itoa(o.Port), DataDir: o.DataDir, aggregated: o.Aggregated}
	args := []string{"--data-dir=" + o.DataDir, "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(o.Port)}
	if o.Aggregated {
		args = append(args, "--mode=aggregated")
	}
	if len(o.Etcd) > 0 {
		args = append(args, EtcdServerFlags(o.Etcd...)...)
	}
	// Temp files (the embedded etcd's among them) follow TMPDIR.
	env := append([]string{"TMPDIR=" + o.DataDir}, o.Env...)
	s.Process, err = StartProcess(o.Name, bin, filepath.Join(o.LogDir, o.Name+".log"), append(args, o.Args...), env)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// StartServer execs the server, waits (up to StartTimeout) until /readyz
// answers 200 and, standalone, loads the admin kubeconfig. With a free port
// picked for it, a port another process took first is picked again.
func StartServer(ctx context.Context, o ServerOptions) (*Server, error) {
	for attempt := 0; ; attempt++ {
		s, err := LaunchServer(o)
		if err != nil {
			return nil, err
		}
		err = s.waitStarted(ctx)
		if err == nil {
			return s, nil
		}
		_ = s.Kill()
		if o.Port == 0 && attempt < 3 && strings.Contains(s.Log(), "address already in use") {
			continue
		}
		return nil, err
	}
}

// Restart starts an exited server again with the same flags, port and data
// dir, and waits as StartServer does.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Process.Restart(); err != nil {
		return err
	}
	return s.waitStarted(ctx)
}

func (s *Server) waitStarted(ctx context.Context) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		return err
	}
	s.ReadyAfter = time.Since(start)
	if s.aggregated {
		return nil
	}
	var err error
	// The server writes the kubeconfig before it answers: it is there now.
	s.Admin, err = LoadKubeconfig(s.Layout().AdminKubeconfig())
	if err != nil {
		return err
	}
	if s.Admin.Config.Host != s.URL {
		return fmt.Errorf("harness: %s names server %q, want %q", s.Admin.Path, s.Admin.Config.Host, s.URL)
	}
	return nil
}

// WaitReady polls /readyz until it answers 200.
func (s *Server) WaitReady(ctx context.Context) error {
	hc := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			// Only a readiness probe: the kubeconfig with the serving CA
			// may not exist yet.
			InsecureSkipVerify: true, //nolint:gosec // a probe of a loopback test server; no data is sent
		}},
	}
	defer hc.CloseIdleConnections()
	return WaitHTTPOK(ctx, s.Name+" /readyz", s.Process, hc, s.URL+"/readyz?verbose", 10*time.Millisecond)
}

// StartServerForTest is StartServer that fails t on an error; when t ends it
// stops the server (SIGTERM, then SIGKILL after TeardownTimeout) after
// logging its log's tail if t failed, and removes the data and log
// directories it made.
func StartServerForTest(t testing.TB, o ServerOptions) *Server {
	t.Helper()
	var made []string
	for _, dir := range []*string{&o.DataDir, &o.LogDir} {
		if *dir == "" {
			d, err := os.MkdirTemp("", "mj")
			if err != nil {
				t.Fatal(err)
			}
			*dir = d
			made = append(made, d)
		}
	}
	t.Cleanup(func() {
		for _, d := range made {
			_ = os.RemoveAll(d)
		}
	})
	s, err := StartServer(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	teardownAtEnd(t, s.Process)
	return s
}
