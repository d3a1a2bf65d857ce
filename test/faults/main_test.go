//go:build faults

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

package faults

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const (
	// clientTimeout bounds every API call the tests make, so no test hangs.
	clientTimeout = 30 * time.Second
	namespace     = "default"
)

// server is a standalone mpijob-apiserver process (embedded etcd) and the
// admin's clients of its latest start.
type server struct {
	*harness.Server
	// config is the admin's client config (system:masters) with every call
	// bounded by clientTimeout; client is the generated clientset on it.
	config *rest.Config
	client clientset.Interface
	caPool *x509.CertPool
}

// start starts a server with flags added on a data dir of its own. When the
// test ends it is stopped, after its log's tail is shown if the test failed.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	return withAdmin(t, harness.StartServerForTest(t, harness.ServerOptions{Args: args}))
}

// withAdmin makes the admin's clients for a server that has just (re)started.
func withAdmin(t *testing.T, s *harness.Server) *server {
	t.Helper()
	cfg := rest.CopyConfig(s.Admin.Config)
	cfg.Timeout = clientTimeout
	client, err := clientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := s.Admin.CAPool()
	if err != nil {
		t.Fatal(err)
	}
	return &server{Server: s, config: cfg, client: client, caPool: pool}
}

// httpClient is a plain HTTP/1.1 client that keeps up to conns connections,
// trusts the server's CA and sends no credentials (requests carry a bearer
// token): it shows the raw status and headers (client-go would retry a 429
// by itself).
func (s *server) httpClient(conns int) *http.Client {
	return &http.Client{
		Timeout: clientTimeout,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: s.caPool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: conns,
		},
	}
}
