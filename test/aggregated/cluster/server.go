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

package cluster

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// ServerOptions tune an mpijob-apiserver started by StartServer.
type ServerOptions struct {
	// Name tells servers apart in file names (default "mpijob-apiserver").
	Name string
	// Etcd, when set, is the etcd to use (shared by replicas, or kept across
	// a server's restart); otherwise the server gets a new etcd of its own
	// (TOOLCHAIN trap 5: not kube-apiserver's), which Close stops.
	Etcd *harness.Etcd
	// EtcdMembers, when set instead of Etcd, are the members of an etcd
	// cluster (StartEtcdCluster) the server uses, all in --etcd-servers.
	EtcdMembers []*harness.Etcd
	// ServingCA, when set, signs the serving certificate, so that replicas
	// share the caBundle of their APIServices; by default each server has a
	// CA of its own.
	ServingCA *harness.CA
	// BindAddress is --bind-address (default 127.0.0.1). A replica behind
	// --enable-aggregator-routing must be reached on HostIP, since an
	// EndpointSlice may not name a loopback address: 0.0.0.0 serves both
	// that and the harness's probes on 127.0.0.1.
	BindAddress string
	// EtcdOptions tune the server's own etcd; its Dir, Name and TLS are the
	// cluster's.
	EtcdOptions harness.EtcdOptions
	// AuditPolicyFile, when set, turns on --audit-log-path (AuditLogFile)
	// with this --audit-policy-file.
	AuditPolicyFile string
	// InsecureSkipTLSVerify registers the APIService without a caBundle;
	// by default the caBundle is the server's serving CA and the certificate
	// names ServiceDNSName, so kube-apiserver verifies it.
	InsecureSkipTLSVerify bool
	// NoRegister leaves the APIService alone (and so does not wait for it).
	NoRegister bool
	// ExtraArgs are appended to the server's flags (a later flag wins).
	ExtraArgs []string
}

// Server is an mpijob-apiserver in aggregated mode. The embedded
// harness.Server is the process: its URL (https://127.0.0.1:<port>, the
// server directly), Port, Pid and Exited; Stop stops it gracefully (SIGTERM,
// then SIGKILL and an error after harness.StopTimeout) and leaves its etcd
// running, Start starts it again. Mind that an open watch holds a graceful
// exit for up to the server's --request-timeout (60 s):
// kube-controller-manager's controllers keep watches open through the
// aggregator.
type Server struct {
	*harness.Server
	Cluster *Cluster
	Etcd    *harness.Etcd
	Dir     string
	// ServingCA signs Serving (127.0.0.1, localhost, ServiceDNSName).
	ServingCA *harness.CA
	Serving   harness.KeyPair
	// Kubeconfig is the server identity's (ServerUser) kubeconfig, given as
	// --kubeconfig, --authentication-kubeconfig and --authorization-kubeconfig.
	Kubeconfig   string
	AuditLogFile string // empty without ServerOptions.AuditPolicyFile

	ownEtcd  bool
	register bool
	caBundle []byte
}

// StartServer starts our server (harness.ServerBinary) in aggregated mode
// on a free loopback port, with its own etcd unless o.Etcd is set, as
// ServerUser; waits for its /readyz; and, unless o.NoRegister, registers the
// APIService for it and waits until kube-apiserver reports it Available.
// The identity needs its RBAC first: GrantServerIdentity or ApplyDeployRBAC.
// Cluster.Stop closes it.
func (c *Cluster) StartServer(ctx context.Context, o ServerOptions) (s *Server, err error) {
	if o.Name == "" {
		o.Name = "mpijob-apiserver"
	}
	s = &Server{Cluster: c, Dir: filepath.Join(c.Dir, o.Name), Etcd: o.Etcd, register: !o.NoRegister}
	dataDir := filepath.Join(s.Dir, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	members := o.EtcdMembers
	if s.Etcd != nil {
		members = []*harness.Etcd{s.Etcd}
	}
	if len(members) == 0 {
		if s.Etcd, err = c.startEtcd(ctx, "etcd-"+o.Name, o.EtcdOptions); err != nil {
			return nil, err
		}
		s.ownEtcd = true
		members = []*harness.Etcd{s.Etcd}
	}
	if s.ServingCA = o.ServingCA; s.ServingCA == nil {
		if s.ServingCA, err = harness.NewCA(s.Dir, "serving-ca"); err != nil {
			return nil, err
		}
	}
	if s.Serving, err = s.ServingCA.Issue("serving", harness.CertSpec{
		CommonName: ServiceDNSName,
		DNSNames:   []string{ServiceDNSName, ServiceName + "." + ServerNamespace, "localhost"},
		IPs:        servingIPs(o.BindAddress),
		Server:     true,
	}); err != nil {
		return nil, err
	}
	if !o.InsecureSkipTLSVerify {
		s.caBundle = s.ServingCA.CertPEM
	}
	s.Kubeconfig = c.Kubeconfig(ServerUser)
	args := []string{
		"--tls-cert-file=" + s.Serving.CertFile,
		"--tls-private-key-file=" + s.Serving.KeyFile,
		"--kubeconfig=" + s.Kubeconfig,
		"--authentication-kubeconfig=" + s.Kubeconfig,
		"--authorization-kubeconfig=" + s.Kubeconfig,
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/version",
		"--profiling=false",
	}
	if o.BindAddress != "" {
		args = append(args, "--bind-address="+o.BindAddress)
	}
	if o.AuditPolicyFile != "" {
		s.AuditLogFile = filepath.Join(s.Dir, "audit.log")
		args = append(args, "--audit-log-path="+s.AuditLogFile, "--audit-policy-file="+o.AuditPolicyFile)
	}
	c.servers = append(c.servers, s)
	if s.Server, err = harness.StartServer(ctx, harness.ServerOptions{
		Name:       o.Name,
		DataDir:    dataDir,
		LogDir:     filepath.Join(c.Dir, "logs"),
		Aggregated: true,
		Etcd:       members,
		Args:       append(args, o.ExtraArgs...),
	}); err != nil {
		return nil, err
	}
	if !s.register {
		return s, nil
	}
	return s, s.Register(ctx)
}

// StartServerForTest is StartServer that fails t on an error and closes the
// server when t ends.
func (c *Cluster) StartServerForTest(t testing.TB, o ServerOptions) *Server {
	t.Helper()
	s, err := c.StartServer(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Logf("closing %s: %v", s.Name, err)
		}
	})
	return s
}

// Start starts the stopped server process again with the same flags, port
// and etcd, waits for its /readyz and, when it registers the APIService,
// for the APIService to be Available.
func (s *Server) Start(ctx context.Context) error {
	if err := s.Restart(ctx); err != nil {
		return err
	}
	if !s.register {
		return nil
	}
	return s.Register(ctx)
}

// Register points the APIService at this server (for a server started with
// NoRegister) and waits until it is Available.
func (s *Server) Register(ctx context.Context) error {
	if err := s.Cluster.RegisterAPIService(ctx, s.Port, s.caBundle); err != nil {
		return err
	}
	return s.Cluster.WaitAPIService(ctx, true, s.Process)
}

// CABundle is what the APIService's caBundle holds for this server (nil when
// it is registered with insecureSkipTLSVerify).
func (s *Server) CABundle() []byte { return s.caBundle }

// Close tears down the server and, when it has its own, its etcd (SIGTERM,
// then SIGKILL after harness.TeardownTimeout).
func (s *Server) Close() error {
	var errs []error
	if s.Server != nil {
		errs = append(errs, s.Teardown())
	}
	if s.ownEtcd && s.Etcd != nil {
		errs = append(errs, s.Etcd.Teardown())
	}
	return errors.Join(errs...)
}

// HTTPClient is an http.Client for direct requests to s.URL that trusts the
// serving CA and presents the client certificate kp (none when kp is zero):
// for example c.PKI.FrontProxyClient, to act as the aggregator.
func (s *Server) HTTPClient(kp harness.KeyPair) (*http.Client, error) {
	tc, err := harness.TLSClientConfig(s.ServingCA, kp)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}, Timeout: 30 * time.Second}, nil
}

// servingIPs are the addresses a server's certificate names: 127.0.0.1, and
// bindAddress when it is a specific other one.
func servingIPs(bindAddress string) []net.IP {
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	if ip := net.ParseIP(bindAddress); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
		ips = append(ips, ip)
	}
	return ips
}
