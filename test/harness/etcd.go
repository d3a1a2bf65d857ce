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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// EtcdPKI is what an etcd that requires client certificates needs: a CA,
// the members' serving and peer certificate, and a client certificate.
type EtcdPKI struct {
	CA     *CA
	Server KeyPair // serving and peer: 127.0.0.1, ::1 and localhost
	Client KeyPair
}

// NewEtcdPKI makes an EtcdPKI in dir.
func NewEtcdPKI(dir string) (*EtcdPKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ca, err := NewCA(dir, "etcd-ca")
	if err != nil {
		return nil, err
	}
	p := &EtcdPKI{CA: ca}
	if p.Server, err = ca.Issue("etcd-server", CertSpec{
		CommonName: "etcd", DNSNames: []string{"localhost"}, IPs: Loopback, Server: true, Client: true,
	}); err != nil {
		return nil, err
	}
	if p.Client, err = ca.Issue("etcd-client", CertSpec{CommonName: "etcd-client", Client: true}); err != nil {
		return nil, err
	}
	return p, nil
}

// EtcdOptions tune an etcd member or cluster.
type EtcdOptions struct {
	// Dir holds each member's data (Dir/<name>) and log (Dir/<name>.log).
	// The ForTest variants default it to a temporary directory.
	Dir string
	// Name names the member, or prefixes the members' names (<name>-<i>) of
	// a cluster; "etcd" by default.
	Name string
	// TLS, when set, makes every member serve clients and peers over TLS
	// and require client certificates, as a production etcd does;
	// otherwise they speak plain HTTP.
	TLS *EtcdPKI
	// MaxRequestBytes is --max-request-bytes; 0 keeps etcd's 1.5 MiB, which
	// is what a kubeadm cluster runs with.
	MaxRequestBytes int
	// QuotaBackendBytes is --quota-backend-bytes; 0 keeps etcd's 2 GiB.
	QuotaBackendBytes int64
	// ExtraArgs are appended to every member's flags.
	ExtraArgs []string
}

// Etcd is one etcd member running as a process of the etcd program.
type Etcd struct {
	*Process
	Name    string
	URL     string // client URL
	PeerURL string
	DataDir string
	TLS     *EtcdPKI // nil for plain HTTP
}

// StartEtcd starts a one-member etcd and waits until it is healthy.
func StartEtcd(ctx context.Context, o EtcdOptions) (*Etcd, error) {
	if o.Name == "" {
		o.Name = "etcd"
	}
	members, err := startEtcdMembers(ctx, []string{o.Name}, o)
	if err != nil {
		return nil, err
	}
	return members[0], nil
}

// StartEtcdCluster starts an n-member etcd cluster and waits until every
// member is healthy (the cluster has a leader).
func StartEtcdCluster(ctx context.Context, n int, o EtcdOptions) ([]*Etcd, error) {
	if o.Name == "" {
		o.Name = "etcd"
	}
	names := make([]string, n)
	for i := range names {
		names[i] = o.Name + "-" + strconv.Itoa(i)
	}
	return startEtcdMembers(ctx, names, o)
}

func startEtcdMembers(ctx context.Context, names []string, o EtcdOptions) (members []*Etcd, err error) {
	bin, err := EtcdBinary()
	if err != nil {
		return nil, err
	}
	if o.Dir == "" {
		return nil, fmt.Errorf("harness: EtcdOptions.Dir is empty")
	}
	ports, err := FreePorts(2 * len(names))
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if o.TLS != nil {
		scheme = "https"
	}
	var initial []string
	for i, name := range names {
		e := &Etcd{
			Name:    name,
			URL:     fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[2*i]),
			PeerURL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[2*i+1]),
			DataDir: filepath.Join(o.Dir, name),
			TLS:     o.TLS,
		}
		members = append(members, e)
		initial = append(initial, name+"="+e.PeerURL)
	}
	defer func() {
		if err != nil {
			for _, e := range members {
				if e.Process != nil {
					_ = e.Kill()
				}
			}
		}
	}()
	for _, e := range members {
		if err := os.MkdirAll(e.DataDir, 0o700); err != nil {
			return nil, err
		}
		args := append(e.flags(strings.Join(initial, ","), o), o.ExtraArgs...)
		// Temp files follow TMPDIR: keep them with the data.
		if e.Process, err = StartProcess("etcd "+e.Name, bin, filepath.Join(o.Dir, e.Name+".log"), args,
			[]string{"TMPDIR=" + e.DataDir}); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	for _, e := range members {
		if err := e.WaitHealthy(ctx); err != nil {
			return nil, err
		}
	}
	return members, nil
}

func (e *Etcd) flags(initialCluster string, o EtcdOptions) []string {
	args := []string{
		"--name=" + e.Name,
		"--data-dir=" + e.DataDir,
		"--listen-client-urls=" + e.URL,
		"--advertise-client-urls=" + e.URL,
		"--listen-peer-urls=" + e.PeerURL,
		"--initial-advertise-peer-urls=" + e.PeerURL,
		"--initial-cluster=" + initialCluster,
		"--initial-cluster-state=new",
		"--initial-cluster-token=" + o.Name,
		// A test's data: durability across power loss is not a concern.
		"--unsafe-no-fsync",
		"--log-level=warn",
	}
	if t := e.TLS; t != nil {
		args = append(args,
			"--cert-file="+t.Server.CertFile, "--key-file="+t.Server.KeyFile,
			"--trusted-ca-file="+t.CA.CertFile, "--client-cert-auth",
			"--peer-cert-file="+t.Server.CertFile, "--peer-key-file="+t.Server.KeyFile,
			"--peer-trusted-ca-file="+t.CA.CertFile, "--peer-client-cert-auth")
	}
	if o.MaxRequestBytes > 0 {
		args = append(args, "--max-request-bytes="+strconv.Itoa(o.MaxRequestBytes))
	}
	if o.QuotaBackendBytes > 0 {
		args = append(args, "--quota-backend-bytes="+strconv.FormatInt(o.QuotaBackendBytes, 10))
	}
	return args
}

// Restart starts an exited member again on the same ports and data, and
// waits until it is healthy (in a cluster: until it has a leader again).
func (e *Etcd) Restart(ctx context.Context) error {
	if err := e.Process.Restart(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	return e.WaitHealthy(ctx)
}

// WaitHealthy polls the member's /health until it reports true.
func (e *Etcd) WaitHealthy(ctx context.Context) error {
	hc, err := e.httpClient()
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	return Poll(ctx, e.Process.Name+" /health", e.Process, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/health", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var h struct {
			Health string `json:"health"`
		}
		if err := json.Unmarshal(body, &h); err != nil || h.Health != "true" {
			return false, fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		return true, nil
	})
}

func (e *Etcd) httpClient() (*http.Client, error) {
	tr := &http.Transport{}
	if e.TLS != nil {
		tc, err := TLSClientConfig(e.TLS.CA, e.TLS.Client)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}, nil
}

// EtcdClient connects to the members (all of one cluster); the caller closes it.
func EtcdClient(members ...*Etcd) (*clientv3.Client, error) {
	cfg := clientv3.Config{Endpoints: EtcdEndpoints(members...), DialTimeout: 10 * time.Second}
	if t := members[0].TLS; t != nil {
		tc, err := TLSClientConfig(t.CA, t.Client)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
	}
	return clientv3.New(cfg)
}

// Status asks the member alone for its status (2 s bound): its member id,
// the leader it follows and its raft index.
func (e *Etcd) Status(ctx context.Context) (*clientv3.StatusResponse, error) {
	c, err := EtcdClient(e)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.Status(ctx, e.URL)
}

// EtcdLeader is the index among members of the one that reports itself the
// leader.
func EtcdLeader(ctx context.Context, members []*Etcd) (int, error) {
	var errs []error
	for i, m := range members {
		s, err := m.Status(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.Name, err))
			continue
		}
		if s.Leader == s.Header.MemberId {
			return i, nil
		}
	}
	return -1, fmt.Errorf("harness: no etcd member is the leader: %w", errors.Join(errs...))
}

// EtcdHealthy tells whether every member answers a status request.
func EtcdHealthy(ctx context.Context, members []*Etcd) bool {
	for _, m := range members {
		if _, err := m.Status(ctx); err != nil {
			return false
		}
	}
	return true
}

// EtcdEndpoints are the members' client URLs.
func EtcdEndpoints(members ...*Etcd) []string {
	urls := make([]string, len(members))
	for i, e := range members {
		urls[i] = e.URL
	}
	return urls
}

// EtcdServerFlags are the flags that point an API server (ours or
// kube-apiserver) at these members: --etcd-servers and, with TLS, the client
// certificate and CA.
func EtcdServerFlags(members ...*Etcd) []string {
	flags := []string{"--etcd-servers=" + strings.Join(EtcdEndpoints(members...), ",")}
	if t := members[0].TLS; t != nil {
		flags = append(flags, "--etcd-cafile="+t.CA.CertFile,
			"--etcd-certfile="+t.Client.CertFile, "--etcd-keyfile="+t.Client.KeyFile)
	}
	return flags
}

// StartEtcdForTest is StartEtcd that fails t on an error, keeps the data in
// a temporary directory unless o.Dir is set, and kills the member when t
// ends, after logging its log's tail if t failed.
func StartEtcdForTest(t testing.TB, o EtcdOptions) *Etcd {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	e, err := StartEtcd(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	teardownAtEnd(t, e.Process)
	return e
}

// StartEtcdClusterForTest is StartEtcdCluster as StartEtcdForTest is
// StartEtcd.
func StartEtcdClusterForTest(t testing.TB, n int, o EtcdOptions) []*Etcd {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	members, err := StartEtcdCluster(context.Background(), n, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range members {
		teardownAtEnd(t, e.Process)
	}
	return members
}

// EtcdClientForTest is EtcdClient that fails t on an error and closes the
// client when t ends.
func EtcdClientForTest(t testing.TB, members ...*Etcd) *clientv3.Client {
	t.Helper()
	c, err := EtcdClient(members...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// teardownAtEnd stops p when t ends (SIGTERM, then SIGKILL after
// TeardownTimeout); the tail of its log is logged first if t failed.
func teardownAtEnd(t testing.TB, p *Process) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log (%s), last lines:\n%s", p.Name, p.LogFile, p.LogTail(40))
		}
		if err := p.Teardown(); err != nil {
			t.Logf("stopping %s: %v", p.Name, err)
		}
	})
}
