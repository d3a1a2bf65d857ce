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
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	mpijobclient "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

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

// writeKubeconfigs writes a kubeconfig for Admin (its client certificate)
// and for every token user into Dir/kubeconfig.
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
