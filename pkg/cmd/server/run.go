package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"k8s.io/klog/v2"

	"github.com/mpijob/mpijob-apiserver/pkg/embeddedetcd"
)

// Run starts the server and blocks until ctx is cancelled and the server
// has drained; then it stops the embedded etcd, if any.
func (o *Options) Run(ctx context.Context) error {
	s, err := o.Start(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "mpijob-apiserver is serving on %s\n", s.URL)
	fmt.Fprintf(o.Out, "Admin kubeconfig: %s\n", s.KubeconfigPath)
	fmt.Fprintf(o.Out, "Try: kubectl --kubeconfig %s get mpijobs -A\n", s.KubeconfigPath)
	return s.Wait()
}

// Running is a started server.
type Running struct {
	// URL is the server's https address.
	URL string
	// KubeconfigPath is the admin kubeconfig in the data dir.
	KubeconfigPath string
	// AdminToken is the bearer token of the admin user.
	AdminToken string

	done chan struct{}
	err  error
}

// Wait blocks until the server stopped and everything it started is closed.
func (r *Running) Wait() error {
	<-r.done
	return r.err
}

// Done is closed once the server stopped.
func (r *Running) Done() <-chan struct{} { return r.done }

// Start brings the server up: it locks the data dir, starts the embedded
// etcd when no --etcd-servers are given, writes the admin credentials, and
// returns once the HTTPS listener is open. Cancelling ctx shuts it down:
// the API server drains first, then etcd stops, then the lock is released.
func (o *Options) Start(ctx context.Context) (*Running, error) {
	lock, err := embeddedetcd.Lock(o.DataDir)
	if err != nil {
		return nil, err
	}
	var etcd *embeddedetcd.Server
	cleanup := func() {
		if etcd != nil {
			etcd.Stop()
		}
		_ = lock.Unlock()
	}
	endpoints := o.Etcd.StorageConfig.Transport.ServerList
	if o.EmbeddedEtcdEnabled() {
		etcd, err = embeddedetcd.Start(o.DataDir, o.EmbeddedEtcd)
		if err != nil {
			cleanup()
			return nil, err
		}
		endpoints = etcd.Endpoints()
	}
	tokenFile, token, err := ensureAdminToken(o.DataDir)
	if err != nil {
		cleanup()
		return nil, err
	}
	cfg, err := o.Config(endpoints, tokenFile)
	if err != nil {
		cleanup()
		return nil, err
	}
	srv, err := cfg.Complete().New()
	if err != nil {
		cleanup()
		return nil, err
	}
	addr, ok := cfg.GenericConfig.SecureServing.Listener.Addr().(*net.TCPAddr)
	if !ok {
		cleanup()
		return nil, fmt.Errorf("the secure listener is not TCP: %s", cfg.GenericConfig.SecureServing.Listener.Addr())
	}
	host := kubeconfigHost(addr.IP)
	// The generated self-signed certificate's path is filled in by Config.
	kubeconfig, err := writeAdminKubeconfig(o.DataDir, host, addr.Port, o.SecureServing.ServerCert.CertKey.CertFile, token)
	if err != nil {
		cleanup()
		return nil, err
	}

	r := &Running{
		URL:            "https://" + net.JoinHostPort(host, strconv.Itoa(addr.Port)),
		KubeconfigPath: kubeconfig,
		AdminToken:     token,
		done:           make(chan struct{}),
	}
	prepared := srv.GenericAPIServer.PrepareRun()
	go func() {
		defer close(r.done)
		runErr := prepared.RunWithContext(ctx)
		cleanup()
		if runErr != nil && !errors.Is(runErr, context.Canceled) {
			r.err = runErr
		}
		klog.InfoS("mpijob-apiserver stopped")
	}()
	return r, nil
}
