package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ServerOptions tune an mpijob-apiserver started by StartServer.
type ServerOptions struct {
	// Name tells servers apart in file names (default "mpijob-apiserver").
	Name string
	// Etcd, when set, is the etcd to use (shared by replicas, or kept across
	// a server's restart); otherwise the server gets a new etcd of its own
	// (TOOLCHAIN trap 5: not kube-apiserver's), which Close stops.
	Etcd *Etcd
	// EtcdOptions tune the server's own etcd.
	EtcdOptions EtcdOptions
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

// Server is an mpijob-apiserver in aggregated mode.
type Server struct {
	Cluster *Cluster
	Name    string
	Proc    *Process
	Etcd    *Etcd
	Port    int
	URL     string // https://127.0.0.1:<port>, the server directly
	Dir     string
	// ServingCA signs Serving (127.0.0.1, localhost, ServiceDNSName).
	ServingCA *CA
	Serving   KeyPair
	// Kubeconfig is the server identity's (ServerUser) kubeconfig, given as
	// --kubeconfig, --authentication-kubeconfig and --authorization-kubeconfig.
	Kubeconfig   string
	AuditLogFile string // empty without ServerOptions.AuditPolicyFile
	Args         []string

	ownEtcd  bool
	register bool
	caBundle []byte
}

// StartServer starts our server (c.Bins.MPIJobAPIServer) in aggregated mode
// on a free loopback port, with its own etcd unless o.Etcd is set, as
// ServerUser; waits for its /readyz; and, unless o.NoRegister, registers the
// APIService for it and waits until kube-apiserver reports it Available.
// The identity needs its RBAC first: GrantServerIdentity or ApplyDeployRBAC.
// Cluster.Stop closes it.
func (c *Cluster) StartServer(ctx context.Context, o ServerOptions) (s *Server, err error) {
	if _, err := os.Stat(c.Bins.MPIJobAPIServer); err != nil {
		return nil, fmt.Errorf("cluster: the server binary: %w (run make build, or set MPIJOB_APISERVER_BIN)", err)
	}
	if o.Name == "" {
		o.Name = "mpijob-apiserver"
	}
	s = &Server{Cluster: c, Name: o.Name, Dir: filepath.Join(c.Dir, o.Name), Etcd: o.Etcd, register: !o.NoRegister}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Etcd == nil {
		if s.Etcd, err = StartEtcd(ctx, c.Bins.Etcd, c.Dir, "etcd-"+o.Name, c.PKI, o.EtcdOptions); err != nil {
			return nil, err
		}
		s.ownEtcd = true
	}
	if s.ServingCA, err = NewCA(s.Dir, "serving-ca"); err != nil {
		return nil, err
	}
	if s.Serving, err = s.ServingCA.Issue("serving", CertSpec{
		CommonName: ServiceDNSName,
		DNSNames:   []string{ServiceDNSName, ServiceName + "." + ServerNamespace, "localhost"},
		IPs:        []net.IP{net.ParseIP("127.0.0.1")},
		Server:     true,
	}); err != nil {
		return nil, err
	}
	if !o.InsecureSkipTLSVerify {
		s.caBundle = s.ServingCA.CertPEM
	}
	s.Kubeconfig = c.Kubeconfig(ServerUser)
	if s.Port, err = FreePort(); err != nil {
		return nil, err
	}
	s.URL = fmt.Sprintf("https://127.0.0.1:%d", s.Port)
	s.Args = []string{
		"--mode=aggregated",
		"--data-dir=" + filepath.Join(s.Dir, "data"),
		"--etcd-servers=" + s.Etcd.URL,
		"--etcd-cafile=" + s.Etcd.CAFile,
		"--etcd-certfile=" + s.Etcd.CertFile,
		"--etcd-keyfile=" + s.Etcd.KeyFile,
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(s.Port),
		"--tls-cert-file=" + s.Serving.CertFile,
		"--tls-private-key-file=" + s.Serving.KeyFile,
		"--kubeconfig=" + s.Kubeconfig,
		"--authentication-kubeconfig=" + s.Kubeconfig,
		"--authorization-kubeconfig=" + s.Kubeconfig,
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/version",
		"--profiling=false",
	}
	if o.AuditPolicyFile != "" {
		s.AuditLogFile = filepath.Join(s.Dir, "audit.log")
		s.Args = append(s.Args, "--audit-log-path="+s.AuditLogFile, "--audit-policy-file="+o.AuditPolicyFile)
	}
	s.Args = append(s.Args, o.ExtraArgs...)
	c.servers = append(c.servers, s)
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
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

// Start starts the server process (again, after Stop) with the same flags,
// port and etcd, waits for its /readyz and, when it registers the
// APIService, for the APIService to be Available.
func (s *Server) Start(ctx context.Context) error {
	if s.Proc != nil {
		if exited, _ := s.Proc.Exited(); !exited {
			return fmt.Errorf("cluster: %s is running", s.Name)
		}
	}
	p, err := startProcess(s.Name, s.Cluster.Bins.MPIJobAPIServer, filepath.Join(s.Cluster.Dir, "logs", s.Name+".log"), s.Args, nil)
	if err != nil {
		return err
	}
	s.Proc = p
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if err := s.waitReady(ctx); err != nil {
		return err
	}
	if !s.register {
		return nil
	}
	if err := s.Cluster.RegisterAPIService(ctx, s.Port, s.caBundle); err != nil {
		return err
	}
	return s.Cluster.WaitAPIService(ctx, true, s.Proc)
}

// Register points the APIService at this server (for a server started with
// NoRegister) and waits until it is Available.
func (s *Server) Register(ctx context.Context) error {
	if err := s.Cluster.RegisterAPIService(ctx, s.Port, s.caBundle); err != nil {
		return err
	}
	return s.Cluster.WaitAPIService(ctx, true, s.Proc)
}

// CABundle is what the APIService's caBundle holds for this server (nil when
// it is registered with insecureSkipTLSVerify).
func (s *Server) CABundle() []byte { return s.caBundle }

// Stop stops the server process gracefully (SIGTERM, then SIGKILL and an
// error after StopTimeout); its etcd keeps running. Start starts it again.
// Mind that an open watch holds a graceful exit for up to the server's
// --request-timeout (60 s): kube-controller-manager's controllers keep
// watches open through the aggregator.
func (s *Server) Stop() error {
	if s.Proc == nil {
		return nil
	}
	return s.Proc.Stop()
}

// Close tears down the server and, when it has its own, its etcd (SIGTERM,
// then SIGKILL after TeardownTimeout).
func (s *Server) Close() error {
	var errs []error
	if s.Proc != nil {
		errs = append(errs, s.Proc.Teardown())
	}
	if s.ownEtcd && s.Etcd != nil {
		errs = append(errs, s.Etcd.Teardown())
	}
	return errors.Join(errs...)
}

// HTTPClient is an http.Client for direct requests to s.URL that trusts the
// serving CA and presents the client certificate kp (none when kp is zero):
// for example c.PKI.FrontProxyClient, to act as the aggregator.
func (s *Server) HTTPClient(kp KeyPair) (*http.Client, error) {
	tc, err := TLSClientConfig(s.ServingCA, kp)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}, Timeout: 30 * time.Second}, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	hc, err := s.HTTPClient(KeyPair{})
	if err != nil {
		return err
	}
	hc.Timeout = 10 * time.Second
	defer hc.CloseIdleConnections()
	return poll(ctx, s.Name+" /readyz", s.Proc, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/readyz?verbose", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("%d: %s", resp.StatusCode, failedChecks(string(body)))
		}
		return true, nil
	})
}
