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
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// useBinaries makes the harness run the binaries of the flags: it takes the
// server and etcd from $MPIJOB_APISERVER_BIN and $ETCD_BIN (absolute, so
// that they do not depend on the working directory of a child).
func useBinaries(cfg *config) error {
	for env, bin := range map[string]string{"MPIJOB_APISERVER_BIN": cfg.serverBin, "ETCD_BIN": cfg.etcdBin} {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return err
		}
		if err := os.Setenv(env, abs); err != nil {
			return err
		}
	}
	return nil
}

// stop stops a child of the benchmark (SIGTERM, then SIGKILL after
// harness.StopTimeout) and says so when it did not exit cleanly; nil is
// nothing to stop.
func stop(p *harness.Process) {
	if p == nil {
		return
	}
	if err := p.Stop(); err != nil {
		logf("stopping %s: %v", p.Name, err)
	}
}

// rssBytes reads VmRSS of the process from /proc: the resident memory of the
// API server alone, since etcd runs in its own process for both peers.
func rssBytes(p *harness.Process) (int64, error) { return statusKB(p, "VmRSS:") }

// anonRSSBytes is the part of the RSS that is the process's own memory
// (heap, stacks), without the pages of its executable.
func anonRSSBytes(p *harness.Process) (int64, error) { return statusKB(p, "RssAnon:") }

func statusKB(p *harness.Process, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s for %s", field, p.Name)
}

// cpuSeconds is the user+system CPU the process has used so far.
func cpuSeconds(p *harness.Process) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat for %s", p.Name)
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	const clockTicks = 100 // USER_HZ on Linux
	return (utime + stime) / clockTicks, nil
}

// startEtcd runs an etcd with the configuration every etcd of the benchmark
// shares, its data in dir/name.
func startEtcd(ctx context.Context, dir, name string) (*harness.Etcd, error) {
	return harness.StartEtcd(ctx, harness.EtcdOptions{
		Dir: dir, Name: name,
		// Room for 150,000 objects and their history between compactions.
		QuotaBackendBytes: 8 << 30,
		MaxRequestBytes:   4 << 20,
		// The harness turns fsync off for tests; a benchmark's etcd syncs as
		// a production etcd does, or the create floor and the creates through
		// both peers would measure an etcd nobody runs.
		ExtraArgs: []string{"--unsafe-no-fsync=false"},
	})
}

// newHTTPClient speaks HTTP/2 over TLS to a server with a self-signed
// certificate, as kubectl and client-go do (the benchmark measures servers,
// not certificate checks). Each peer gets its own client.
func newHTTPClient(conns int) *http.Client {
	tlsConf := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // self-signed benchmark servers on loopback
	tr := &http.Transport{TLSClientConfig: tlsConf, MaxIdleConnsPerHost: conns, ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

// waitReady polls /readyz of p, serving at base, until it answers 200.
func waitReady(ctx context.Context, p *harness.Process, base string) error {
	c := newHTTPClient(1)
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, harness.StartTimeout)
	defer cancel()
	return harness.WaitHTTPOK(ctx, p.Name+" /readyz", p, c, base+"/readyz?verbose", 10*time.Millisecond)
}
