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

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"k8s.io/klog/v2"

	"github.com/mpijob/mpijob-apiserver/pkg/apiserver"
	"github.com/mpijob/mpijob-apiserver/pkg/embeddedetcd"
)

// Run starts the server and blocks until ctx is cancelled and the server
// has drained; then it stops the embedded etcd, if any.
func (o *Options) Run(ctx context.Context) error {
	s, err := o.Start(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "mpijob-apiserver (%s mode) is serving on %s\n", o.Mode, s.URL)
	if s.KubeconfigPath != "" {
		fmt.Fprintf(o.Out, "Admin kubeconfig: %s\n", s.KubeconfigPath)
		fmt.Fprintf(o.Out, "Try: kubectl --kubeconfig %s get mpijobs -A\n", s.KubeconfigPath)
	}
	return s.Wait()
}

// Running is a started server.
type Running struct {
	// URL is the server's https address.
	URL string
	// KubeconfigPath is the admin kubeconfig in the data dir (standalone).
	KubeconfigPath string
	// AdminToken is the bearer token of the admin user (standalone).
	AdminToken string

	done chan struct{}
	err  error
}

// Wait blocks until the server stopped and everything it started is closed.
func (r *Running) Wait() error {
	<-r.done
	return r.err
}

// Start brings the server up and returns once the HTTPS listener is open.
// Standalone, it first locks the data dir, starts the embedded etcd when no
// --etcd-servers are given and writes the admin credentials. Cancelling ctx
// shuts it down: the API server drains first, then etcd stops, then the lock
// is released.
func (o *Options) Start(ctx context.Context) (*Running, error) {
	if o.Mode == ModeAggregated {
		cfg, err := o.Config()
		if err != nil {
			return nil, err
		}
		return serve(ctx, cfg, func() {})
	}

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
	if o.EmbeddedEtcdEnabled() {
		etcd, err = embeddedetcd.Start(o.DataDir, o.EmbeddedEtcd)
		if err != nil {
			cleanup()
			return nil, err
		}
	}
	_, token, err := ensureAdminToken(o.DataDir)
	if err != nil {
		cleanup()
		return nil, err
	}
	cfg, err := o.Config()
	if err != nil {
		cleanup()
		return nil, err
	}
	// The kubeconfig is in place before the server answers, so a client that
	// sees /readyz succeed can use it at once.
	addr, ok := cfg.GenericConfig.SecureServing.Listener.Addr().(*net.TCPAddr)
	if !ok {
		cleanup()
		return nil, fmt.Errorf("the secure listener is not TCP: %s", cfg.GenericConfig.SecureServing.Listener.Addr())
	}
	// The generated self-signed certificate's path is filled in by Config.
	kubeconfig, err := writeAdminKubeconfig(o.DataDir, kubeconfigHost(addr.IP), addr.Port,
		o.SecureServing.ServerCert.CertKey.CertFile, token)
	if err != nil {
		cleanup()
		return nil, err
	}
	r, err := serve(ctx, cfg, cleanup)
	if err != nil {
		return nil, err
	}
	r.KubeconfigPath, r.AdminToken = kubeconfig, token
	return r, nil
}

// serve builds the server from cfg and runs it until ctx is cancelled, then
// calls cleanup. On an error before it runs, cleanup is called at once.
func serve(ctx context.Context, cfg *apiserver.Config, cleanup func()) (*Running, error) {
	completed, err := cfg.Complete()
	if err != nil {
		cleanup()
		return nil, err
	}
	srv, err := completed.New()
	if err != nil {
		cleanup()
		return nil, err
	}
	addr, ok := cfg.GenericConfig.SecureServing.Listener.Addr().(*net.TCPAddr)
	if !ok {
		cleanup()
		return nil, fmt.Errorf("the secure listener is not TCP: %s", cfg.GenericConfig.SecureServing.Listener.Addr())
	}
	r := &Running{
		URL:  "https://" + net.JoinHostPort(kubeconfigHost(addr.IP), strconv.Itoa(addr.Port)),
		done: make(chan struct{}),
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
