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

// Package cluster runs a real kube-apiserver v1.37.2 with its own etcd v3.7.0
// on loopback, and mpijob-apiserver behind it in aggregated mode, for tests.
// The processes, etcd, certificates, kubectl and raw requests are the
// project's one test harness (test/harness); this package adds what is
// particular to a cluster: kube-apiserver and kube-controller-manager, their
// PKI and users, the APIService and the RBAC.
//
// Everything listens on 127.0.0.1 only; etcd requires client certificates;
// every wait is bounded; Stop (or the test's cleanup, with the ForTest
// variants) kills every process this package started, and the processes die
// with the test process (Pdeathsig) if it is killed. By default there is no
// kube-controller-manager: no namespace deletion, garbage collection,
// ClusterRole aggregation or
// service account token controller unless a test starts
// kube-controller-manager (Options.Controllers, StartControllerManager).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"

	mpijobclient "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// Fixed names of the test cluster.
const (
	ServiceCIDR = "10.96.0.0/16"
	ServiceIP   = "10.96.0.1" // the kubernetes Service's ClusterIP, in the serving cert

	// Admin is the kubeconfig user with a system:masters client certificate.
	// Mind that the max-in-flight filter never limits system:masters.
	Admin = "admin"

	// ServerNamespace and ServerServiceAccount name mpijob-apiserver's
	// identity as artifacts/deploy runs it. The harness gives that identity a
	// static token, so RBAC that binds the ServiceAccount applies to it.
	ServerNamespace      = "mpijob-system"
	ServerServiceAccount = "mpijob-apiserver"
	ServerUser           = "system:serviceaccount:" + ServerNamespace + ":" + ServerServiceAccount
)

// User is a static-token user of kube-apiserver (--token-auth-file).
// system:authenticated is added by kube-apiserver itself.
type User struct {
	Name   string
	UID    string
	Groups []string
	Token  string
}

// DefaultUsers are alice, bob and nobody (no groups, no bindings) and the
// server's identity.
func DefaultUsers() []User {
	return []User{
		{Name: "alice", UID: "uid-alice", Token: "token-alice"},
		{Name: "bob", UID: "uid-bob", Token: "token-bob"},
		{Name: "nobody", UID: "uid-nobody", Token: "token-nobody"},
		{Name: ServerUser, UID: "uid-mpijob-apiserver", Token: "token-mpijob-apiserver",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ServerNamespace}},
	}
}

// Binaries are the Kubernetes programs a cluster runs. etcd and our server
// are the harness's (harness.EtcdBinary, harness.ServerBinary).
type Binaries struct {
	KubeAPIServer         string // kube-apiserver v1.37.2
	KubeControllerManager string // kube-controller-manager v1.37.2 (optional)
	Kubectl               string // kubectl v1.37.2
}

// FindBinaries locates the binaries: $KUBE_APISERVER_BIN,
// $KUBE_CONTROLLER_MANAGER_BIN and $KUBECTL_BIN when set, else
// _output/aggregated/bin/{kube-apiserver,kube-controller-manager,kubectl}
// (test/aggregated/build.sh) under the repository root. It fails when
// kube-apiserver or kubectl is missing; kube-controller-manager is checked
// when it is started (StartControllerManager).
func FindBinaries() (Binaries, error) {
	pick := func(env, name string) (string, error) {
		if v := os.Getenv(env); v != "" {
			return v, nil
		}
		return harness.RepoPath("_output", "aggregated", "bin", name)
	}
	var b Binaries
	var err error
	if b.KubeAPIServer, err = pick("KUBE_APISERVER_BIN", "kube-apiserver"); err != nil {
		return b, err
	}
	if b.KubeControllerManager, err = pick("KUBE_CONTROLLER_MANAGER_BIN", "kube-controller-manager"); err != nil {
		return b, err
	}
	if b.Kubectl, err = pick("KUBECTL_BIN", "kubectl"); err != nil {
		return b, err
	}
	for _, p := range []string{b.KubeAPIServer, b.Kubectl} {
		if _, err := os.Stat(p); err != nil {
			return b, fmt.Errorf("cluster: %w (run test/aggregated/build.sh first)", err)
		}
	}
	return b, nil
}

// Options tune a Cluster.
type Options struct {
	// Dir holds the PKI, data, kubeconfigs and logs; empty means a new
	// temporary directory that Stop removes.
	Dir string
	// Binaries; nil means FindBinaries().
	Binaries *Binaries
	// Users replace DefaultUsers when non-nil.
	Users []User
	// ExtraArgs are appended to kube-apiserver's flags (a later flag wins).
	ExtraArgs []string
	// Etcd tunes kube-apiserver's etcd; its Dir, Name and TLS are the
	// cluster's.
	Etcd harness.EtcdOptions
	// Controllers, when not empty, starts kube-controller-manager with these
	// controllers (see DefaultControllers) once kube-apiserver is ready.
	Controllers []string
}

// Cluster is a running kube-apiserver with its etcd.
type Cluster struct {
	Dir       string
	Bins      Binaries
	PKI       *PKI
	Etcd      *harness.Etcd
	APIServer *harness.Process
	// ControllerManager runs when Options.Controllers or
	// StartControllerManager asked for it.
	ControllerManager *harness.Process
	Port              int
	URL               string // https://127.0.0.1:<port>
	Users             map[string]User

	// AdminConfig, Client and Aggregator act as Admin.
	AdminConfig *rest.Config
	Client      kubernetes.Interface
	Aggregator  aggregator.Interface

	kubeconfigs map[string]string
	removeDir   bool
	servers     []*Server
}

// Start makes a PKI, starts etcd and kube-apiserver, and waits until
// kube-apiserver is ready, its system namespaces exist and it has published
// the extension-apiserver-authentication ConfigMap.
func Start(ctx context.Context, o Options) (c *Cluster, err error) {
	c = &Cluster{Dir: o.Dir, Users: map[string]User{}, kubeconfigs: map[string]string{}}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "mpijob-aggregated-"); err != nil {
			return nil, err
		}
		c.removeDir = true
	}
	defer func() {
		if err != nil {
			// The start's error is what the caller needs; a teardown error
			// would only hide it.
			_ = c.Stop()
		}
	}()
	if o.Binaries != nil {
		c.Bins = *o.Binaries
	} else if c.Bins, err = FindBinaries(); err != nil {
		return nil, err
	}
	for _, d := range []string{"pki", "logs", "kubeconfig", "home"} {
		if err := os.MkdirAll(filepath.Join(c.Dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	if c.PKI, err = NewPKI(filepath.Join(c.Dir, "pki")); err != nil {
		return nil, err
	}
	users := o.Users
	if users == nil {
		users = DefaultUsers()
	}
	var tokens strings.Builder
	for _, u := range users {
		c.Users[u.Name] = u
		fmt.Fprintf(&tokens, "%s,%s,%s,%q\n", u.Token, u.Name, u.UID, strings.Join(u.Groups, ","))
	}
	tokenFile := filepath.Join(c.Dir, "pki", "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(tokens.String()), 0o600); err != nil {
		return nil, err
	}

	if c.Etcd, err = c.startEtcd(ctx, "etcd-kube", o.Etcd); err != nil {
		return nil, err
	}
	if c.Port, err = harness.FreePort(); err != nil {
		return nil, err
	}
	c.URL = fmt.Sprintf("https://127.0.0.1:%d", c.Port)
	p := c.PKI
	args := []string{
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(c.Port),
		"--advertise-address=127.0.0.1",
		// No controller-manager keeps the kubernetes Service's endpoints, and
		// a loopback endpoint is not valid anyway.
		"--endpoint-reconciler-type=none",
		"--cert-dir=" + filepath.Join(c.Dir, "pki"),
		"--tls-cert-file=" + p.Serving.CertFile,
		"--tls-private-key-file=" + p.Serving.KeyFile,
		"--client-ca-file=" + p.ClusterCA.CertFile,
		"--token-auth-file=" + tokenFile,
		"--authorization-mode=Node,RBAC",
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.ServiceAccountPub,
		"--service-account-signing-key-file=" + p.ServiceAccountKey,
	}
	args = append(args, harness.EtcdServerFlags(c.Etcd)...)
	args = append(args,
		// The front proxy: what kube-apiserver presents to aggregated servers
		// and what it publishes in extension-apiserver-authentication.
		"--requestheader-client-ca-file="+p.FrontProxyCA.CertFile,
		"--requestheader-allowed-names="+FrontProxyClientCN,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-uid-headers=X-Remote-Uid",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+p.FrontProxyClient.CertFile,
		"--proxy-client-key-file="+p.FrontProxyClient.KeyFile,
		// kubeadm's default: the aggregator resolves the APIService's Service
		// itself, so an ExternalName Service to localhost reaches a server on
		// loopback (with routing on, EndpointSlices refuse loopback addresses).
		"--enable-aggregator-routing=false",
		"--profiling=false",
		"--v=1",
	)
	args = append(args, o.ExtraArgs...)
	if c.APIServer, err = harness.StartProcess("kube-apiserver", c.Bins.KubeAPIServer,
		filepath.Join(c.Dir, "logs", "kube-apiserver.log"), args, nil); err != nil {
		return nil, err
	}
	if err := c.writeKubeconfigs(); err != nil {
		return nil, err
	}
	if c.AdminConfig, err = c.RESTConfig(Admin); err != nil {
		return nil, err
	}
	if c.Client, err = kubernetes.NewForConfig(c.AdminConfig); err != nil {
		return nil, err
	}
	if c.Aggregator, err = aggregator.NewForConfig(c.AdminConfig); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, harness.StartTimeout)
	defer cancel()
	if err := c.waitReady(wctx); err != nil {
		return nil, err
	}
	if len(o.Controllers) > 0 {
		if err := c.StartControllerManager(ctx, o.Controllers...); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// startEtcd starts an etcd called name, with its data and log in Dir, that
// requires client certificates of the cluster's etcd CA.
func (c *Cluster) startEtcd(ctx context.Context, name string, o harness.EtcdOptions) (*harness.Etcd, error) {
	o.Dir, o.Name, o.TLS = c.Dir, name, c.PKI.Etcd
	return harness.StartEtcd(ctx, o)
}

// StartForTest is Start for one test (or a TestMain that passes a
// testing.TB of its own): Dir defaults to t.TempDir(), a failure is fatal,
// and the cluster stops when t ends, after logging the tail of every log
// if t failed.
func StartForTest(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	c, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.LogTails(t, 40)
		}
		// A process that died on its own during the test shows here.
		if err := c.Stop(); err != nil {
			t.Logf("stopping the cluster: %v", err)
		}
	})
	return c
}

// Stop tears down every server started through this cluster, then
// kube-controller-manager, kube-apiserver and etcd (each SIGTERM, then SIGKILL
// after harness.TeardownTimeout), and removes Dir if Start made it. It
// returns the errors of processes that had already failed.
func (c *Cluster) Stop() error {
	var errs []error
	for i := len(c.servers) - 1; i >= 0; i-- {
		errs = append(errs, c.servers[i].Close())
	}
	c.servers = nil
	if c.ControllerManager != nil {
		errs = append(errs, c.ControllerManager.Teardown())
	}
	if c.APIServer != nil {
		errs = append(errs, c.APIServer.Teardown())
	}
	if c.Etcd != nil {
		errs = append(errs, c.Etcd.Teardown())
	}
	if c.removeDir {
		errs = append(errs, os.RemoveAll(c.Dir))
	}
	return errors.Join(errs...)
}

// LogTails logs the last n lines of the log of every process this cluster
// started: kube-apiserver, kube-controller-manager, the etcds and our
// servers (their audit logs excluded).
func (c *Cluster) LogTails(t testing.TB, n int) {
	t.Helper()
	procs := []*harness.Process{c.APIServer, c.ControllerManager}
	if c.Etcd != nil {
		procs = append(procs, c.Etcd.Process)
	}
	for _, s := range c.servers {
		if s.Server != nil {
			procs = append(procs, s.Process)
		}
		if s.ownEtcd && s.Etcd != nil {
			procs = append(procs, s.Etcd.Process)
		}
	}
	for _, p := range procs {
		if p != nil {
			t.Logf("--- last %d lines of %s:\n%s", n, p.LogFile, p.LogTail(n))
		}
	}
}

// Kubeconfig is the path of user's kubeconfig (Admin, or a token user).
func (c *Cluster) Kubeconfig(user string) string {
	p, ok := c.kubeconfigs[user]
	if !ok {
		panic(fmt.Sprintf("cluster: no user %q", user))
	}
	return p
}

// RESTConfig is user's client configuration.
func (c *Cluster) RESTConfig(user string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig(user))
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling in tests
	return cfg, nil
}

// ClientFor is a core clientset acting as user.
func (c *Cluster) ClientFor(user string) (kubernetes.Interface, error) {
	cfg, err := c.RESTConfig(user)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// MPIJobClient is our generated clientset acting as user through
// kube-apiserver.
func (c *Cluster) MPIJobClient(user string) (mpijobclient.Interface, error) {
	cfg, err := c.RESTConfig(user)
	if err != nil {
		return nil, err
	}
	return mpijobclient.NewForConfig(cfg)
}

// HTTPClient is an http.Client that authenticates as user, for requests to
// c.URL (curl-like checks).
func (c *Cluster) HTTPClient(user string) (*http.Client, error) {
	cfg, err := c.RESTConfig(user)
	if err != nil {
		return nil, err
	}
	return rest.HTTPClientFor(cfg)
}

// Kubectl is kubectl v1.37.2 acting as user, with its HOME (and so its
// discovery cache) under Dir.
func (c *Cluster) Kubectl(user string) harness.Kubectl {
	return harness.Kubectl{Path: c.Bins.Kubectl, Kubeconfig: c.Kubeconfig(user), Home: filepath.Join(c.Dir, "home")}
}

// kubectlOK runs kubectl as user and returns its stdout; a non-zero exit is
// an error that carries both outputs.
func (c *Cluster) kubectlOK(ctx context.Context, user, stdin string, args ...string) (string, error) {
	r := c.Kubectl(user).Run(ctx, stdin, args...)
	if r.ExitCode != 0 {
		return r.Stdout, fmt.Errorf("cluster: as %s: %s", user, r)
	}
	return r.Stdout, nil
}

// CreateNamespace creates a namespace (an existing one is fine).
func (c *Cluster) CreateNamespace(ctx context.Context, name string) error {
	_, err := c.Client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (c *Cluster) writeKubeconfigs() error {
	write := func(name string, auth *clientcmdapi.AuthInfo) error {
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: c.URL, CertificateAuthorityData: c.PKI.ClusterCA.CertPEM}
		cfg.AuthInfos[name] = auth
		cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: name, Namespace: "default"}
		cfg.CurrentContext = "test"
		file := strings.NewReplacer(":", "_", "/", "_").Replace(name)
		path := filepath.Join(c.Dir, "kubeconfig", file+".kubeconfig")
		if err := clientcmd.WriteToFile(*cfg, path); err != nil {
			return err
		}
		c.kubeconfigs[name] = path
		return nil
	}
	cert, err := os.ReadFile(c.PKI.Admin.CertFile)
	if err != nil {
		return err
	}
	key, err := os.ReadFile(c.PKI.Admin.KeyFile)
	if err != nil {
		return err
	}
	if err := write(Admin, &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}); err != nil {
		return err
	}
	for _, u := range c.Users {
		if err := write(u.Name, &clientcmdapi.AuthInfo{Token: u.Token}); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	hc, err := c.HTTPClient(Admin)
	if err != nil {
		return err
	}
	hc.Timeout = 10 * time.Second
	defer hc.CloseIdleConnections()
	if err := waitOK(ctx, "kube-apiserver /readyz", c.APIServer, hc, c.URL+"/readyz?verbose"); err != nil {
		return err
	}
	// The system namespaces and the front-proxy ConfigMap come from
	// post-start hooks that readyz does not wait for.
	return harness.Poll(ctx, "kube-system and extension-apiserver-authentication", c.APIServer, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		for _, ns := range []string{"default", "kube-system", "kube-public"} {
			if _, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
				return false, err
			}
		}
		cm, err := c.Client.CoreV1().ConfigMaps("kube-system").Get(ctx, "extension-apiserver-authentication", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if cm.Data["requestheader-client-ca-file"] == "" {
			return false, errors.New("extension-apiserver-authentication has no requestheader-client-ca-file yet")
		}
		return true, nil
	})
}

// waitOK polls a health endpoint of p (url, with hc) until it answers 200;
// the error carries the failing checks of a verbose answer.
func waitOK(ctx context.Context, what string, p *harness.Process, hc *http.Client, url string) error {
	return harness.Poll(ctx, what, p, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		r, err := harness.Send(ctx, hc, harness.Request{URL: url})
		if err != nil {
			return false, err
		}
		if r.Code != http.StatusOK {
			return false, fmt.Errorf("%d: %s", r.Code, failedChecks(string(r.Body)))
		}
		return true, nil
	})
}

// failedChecks keeps the failing lines of a verbose /readyz.
func failedChecks(body string) string {
	var failed []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "[-]") {
			failed = append(failed, l)
		}
	}
	if len(failed) == 0 {
		return strings.TrimSpace(body)
	}
	return strings.Join(failed, "; ")
}
