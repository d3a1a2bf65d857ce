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
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// PKI is everything kube-apiserver and its etcd need, in one directory.
// Every CA keeps its key there, so tests can issue more certificates
// (ca.Issue) as well as make CAs of their own (harness.NewCA).
type PKI struct {
	Dir string

	// ClusterCA signs kube-apiserver's serving certificate and the client
	// certificates kube-apiserver accepts (--client-ca-file).
	ClusterCA *harness.CA
	// Serving is kube-apiserver's serving certificate: 127.0.0.1, localhost,
	// kubernetes, kubernetes.default(.svc(.cluster.local)).
	Serving harness.KeyPair
	// Admin is a client certificate in system:masters.
	Admin harness.KeyPair
	// FrontProxyCA signs the front-proxy client certificate
	// (--requestheader-client-ca-file).
	FrontProxyCA *harness.CA
	// FrontProxyClient is the certificate (CN front-proxy-client) kube-apiserver
	// presents when it proxies to an aggregated server (--proxy-client-*).
	FrontProxyClient harness.KeyPair
	// ServiceAccountKey / ServiceAccountPub sign and verify service account
	// tokens (RSA, PEM).
	ServiceAccountKey string
	ServiceAccountPub string
	// Etcd is the etcd CA, the members' serving/peer certificate and the
	// client certificate kube-apiserver and mpijob-apiserver present: every
	// etcd here requires client certificates.
	Etcd *harness.EtcdPKI
}

// FrontProxyClientCN is the front-proxy client certificate's CN, the one
// name in --requestheader-allowed-names.
const FrontProxyClientCN = "front-proxy-client"

// NewPKI makes a PKI in dir.
func NewPKI(dir string) (*PKI, error) {
	p := &PKI{Dir: dir}
	var err error
	// First, since it makes dir.
	if p.Etcd, err = harness.NewEtcdPKI(dir); err != nil {
		return nil, err
	}
	if p.ClusterCA, err = harness.NewCA(dir, "cluster-ca"); err != nil {
		return nil, err
	}
	if p.Serving, err = p.ClusterCA.Issue("kube-apiserver", harness.CertSpec{
		CommonName: "kube-apiserver",
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		IPs:    append([]net.IP{net.ParseIP(ServiceIP)}, harness.Loopback...),
		Server: true,
	}); err != nil {
		return nil, err
	}
	if p.Admin, err = p.ClusterCA.Issue("admin", harness.CertSpec{
		CommonName: "admin", Organizations: []string{"system:masters"}, Client: true,
	}); err != nil {
		return nil, err
	}
	if p.FrontProxyCA, err = harness.NewCA(dir, "front-proxy-ca"); err != nil {
		return nil, err
	}
	if p.FrontProxyClient, err = p.FrontProxyCA.Issue("front-proxy-client", harness.CertSpec{
		CommonName: FrontProxyClientCN, Client: true,
	}); err != nil {
		return nil, err
	}
	p.ServiceAccountKey, p.ServiceAccountPub, err = newServiceAccountKey(dir)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// newServiceAccountKey writes the RSA key that signs service account tokens
// (dir/sa.key, PKCS #8) and its public key that verifies them (dir/sa.pub).
func newServiceAccountKey(dir string) (keyFile, pubFile string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return "", "", err
	}
	keyFile, pubFile = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	return keyFile, pubFile, os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
}
