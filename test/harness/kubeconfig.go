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
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

// Kubeconfig is a loaded kubeconfig with a bearer token and the server's CA,
// as the standalone server writes for its admin.
type Kubeconfig struct {
	Path string
	// Config is the client config, without client-side throttling (QPS -1).
	Config *rest.Config
	Token  string
	CAData []byte
}

// LoadKubeconfig reads a kubeconfig whose current context has a bearer
// token and the server's CA.
func LoadKubeconfig(path string) (*Kubeconfig, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("harness: reading the kubeconfig: %w", err)
	}
	if cfg.BearerToken == "" || len(cfg.CAData) == 0 {
		return nil, fmt.Errorf("harness: %s: want a bearer token and the serving CA in the current context", path)
	}
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling in tests
	return &Kubeconfig{Path: path, Config: cfg, Token: cfg.BearerToken, CAData: cfg.CAData}, nil
}

// Clientset is the generated MPIJob clientset on this config.
func (k *Kubeconfig) Clientset() (clientset.Interface, error) {
	return clientset.NewForConfig(k.Config)
}

// CAPool trusts the server's CA.
func (k *Kubeconfig) CAPool() (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(k.CAData) {
		return nil, fmt.Errorf("harness: %s: the CA data holds no certificate", k.Path)
	}
	return pool, nil
}

// HTTPClient is a raw HTTPS client (HTTP/2 when the server offers it) that
// trusts the server's CA and sends no credentials: requests carry the token
// themselves (see Request), so tests can also send none or another.
func (k *Kubeconfig) HTTPClient() (*http.Client, error) {
	pool, err := k.CAPool()
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
		},
	}, nil
}
