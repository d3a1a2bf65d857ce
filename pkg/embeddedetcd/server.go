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

package embeddedetcd

import (
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/klog/v2"
)

const (
	memberName     = "mpijob-apiserver"
	maxSocketPath  = 107 // sun_path is 108 bytes including the NUL
	privateDirMode = 0o700
)

// Server is a running embedded etcd member.
type Server struct {
	etcd      *embed.Etcd
	clientURL string
	stopped   chan struct{}
	stopping  *atomic.Bool
}

// Start starts a member whose data and sockets live in dataDir and waits until
// it serves requests. dataDir is created 0700 if missing. Call Stop when done,
// also after an error from the running member.
func Start(dataDir string, o *Options) (*Server, error) {
	m, err := MemberOf(dataDir)
	if err != nil {
		return nil, err
	}
	dataDir = m.Layout.Dir
	if err := os.MkdirAll(dataDir, privateDirMode); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	// The sockets are only as private as the directory that holds them.
	if err := os.Chmod(dataDir, privateDirMode); err != nil {
		return nil, fmt.Errorf("restricting the data directory to its owner: %w", err)
	}
	clientPath, peerPath := m.ClientURL.Path, m.PeerURL.Path

	cfg := embed.NewConfig()
	cfg.Name = m.Name
	cfg.Dir = m.Dir
	clientURL, peerURL := m.ClientURL, m.PeerURL
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	// etcd opens peer listeners on the URL's Host alone (client listeners
	// use Host+Path), so the listen URL carries the absolute path as Host;
	// otherwise the peer socket would be an abstract one that any local
	// user could reach.
	cfg.ListenPeerUrls = []url.URL{{Scheme: "unix", Host: peerPath}}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.ListenMetricsUrls = nil
	cfg.InitialCluster = m.InitialCluster()
	cfg.InitialClusterToken = m.Name
	cfg.MaxRequestBytes = o.MaxRequestBytes
	if o.QuotaBackendBytes > 0 {
		cfg.QuotaBackendBytes = o.QuotaBackendBytes
	}
	// etcd's own logs are noisy at info; the API server reports what matters.
	stopping := &atomic.Bool{}
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = etcdLogger(stopping)

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting the embedded etcd in %s: %w", cfg.Dir, err)
	}
	s := &Server{etcd: e, clientURL: clientURL.String(), stopped: make(chan struct{}), stopping: stopping}
	for _, p := range []string{clientPath, peerPath} {
		if err := os.Chmod(p, 0o600); err != nil {
			s.Stop()
			return nil, fmt.Errorf("restricting %s to its owner: %w", p, err)
		}
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		s.Stop()
		return nil, fmt.Errorf("embedded etcd failed while starting: %w", err)
	case <-time.After(o.StartTimeout):
		s.Stop()
		return nil, fmt.Errorf("embedded etcd was not ready within %s", o.StartTimeout)
	}
	klog.InfoS("Embedded etcd is ready", "dir", cfg.Dir, "endpoint", s.clientURL)
	return s, nil
}

// Endpoints are the client URLs to hand to the storage backend.
func (s *Server) Endpoints() []string { return []string{s.clientURL} }

// Stop stops the member and waits until its data is closed. Safe to call twice.
func (s *Server) Stop() {
	select {
	case <-s.stopped:
		return
	default:
	}
	close(s.stopped)
	s.stopping.Store(true)
	s.etcd.Close()
	klog.InfoS("Embedded etcd stopped")
}
