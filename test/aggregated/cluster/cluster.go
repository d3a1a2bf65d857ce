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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"

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
	etcds       []*harness.Etcd // StartEtcdCluster's members

	apiVersionsMu sync.Mutex
	apiVersions   []APIVersion // APIVersions, once known
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

// StartEtcdCluster starts an n-member etcd cluster with the cluster's etcd
// TLS, its members named <name>-<i>, for servers to share
// (ServerOptions.EtcdMembers); Stop stops it after the servers.
func (c *Cluster) StartEtcdCluster(ctx context.Context, name string, n int) ([]*harness.Etcd, error) {
	members, err := harness.StartEtcdCluster(ctx, n, harness.EtcdOptions{Dir: c.Dir, Name: name, TLS: c.PKI.Etcd})
	c.etcds = append(c.etcds, members...)
	return members, err
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
	for _, e := range c.etcds {
		errs = append(errs, e.Teardown())
	}
	c.etcds = nil
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
	for _, e := range c.etcds {
		procs = append(procs, e.Process)
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

// CreateNamespace creates a namespace (an existing one is fine).
func (c *Cluster) CreateNamespace(ctx context.Context, name string) error {
	_, err := c.Client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (c *Cluster) waitReady(ctx context.Context) error {
	hc, err := c.HTTPClient(Admin)
	if err != nil {
		return err
	}
	hc.Timeout = 10 * time.Second
	defer hc.CloseIdleConnections()
	if err := harness.WaitHTTPOK(ctx, "kube-apiserver /readyz", c.APIServer, hc, c.URL+"/readyz?verbose", 200*time.Millisecond); err != nil {
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
