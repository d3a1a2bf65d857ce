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

package deploy

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// runGenCerts runs hack/gen-certs.sh into dir with no cluster configured.
func runGenCerts(t *testing.T, dir string) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("hack/gen-certs.sh makes the certificates with openssl, which is not on PATH: %v", err)
	}
	kubectl, err := harness.KubectlPath()
	if err != nil {
		t.Fatal(err)
	}
	script, err := harness.RepoPath("hack", "gen-certs.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, dir)
	home := t.TempDir()
	// The script finds kubectl on PATH: the one the tests use comes first.
	cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG="+filepath.Join(home, "no-such-kubeconfig"),
		"PATH="+filepath.Dir(kubectl)+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("hack/gen-certs.sh %s: %v\n%s", dir, err, out.String())
	}
	return out.String()
}

func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%s is not one PEM certificate", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return cert
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// snapshot reads every file of dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(data)
	}
	return files
}

func TestGenCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	runGenCerts(t, dir)
	file := func(name string) string { return filepath.Join(dir, name) }

	mode := func(name string) os.FileMode {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		return info.Mode().Perm()
	}
	if got := mode(dir); got != 0o700 {
		t.Errorf("output dir mode = %v, want 0700", got)
	}
	for _, key := range []string{"apiserver-ca.key", "apiserver.key", "etcd-ca.key", "etcd-server.key", "etcd-peer.key", "etcd-client.key"} {
		if got := mode(file(key)); got != 0o600 {
			t.Errorf("%s: mode %v, want 0600", key, got)
		}
	}

	apiCA, etcdCA := readCert(t, file("apiserver-ca.crt")), readCert(t, file("etcd-ca.crt"))
	for _, ca := range []*x509.Certificate{apiCA, etcdCA} {
		if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
			t.Errorf("CA %s is not a CA certificate", ca.Subject)
		}
	}
	now := time.Now()
	verify := func(name, dnsName string, roots *x509.CertPool, usage x509.ExtKeyUsage) error {
		leaf := readCert(t, file(name+".crt"))
		if _, err := tls.LoadX509KeyPair(file(name+".crt"), file(name+".key")); err != nil {
			t.Errorf("%s: the key does not match the certificate: %v", name, err)
		}
		if leaf.IsCA {
			t.Errorf("%s is a CA", name)
		}
		if left := leaf.NotAfter.Sub(now); left < 300*24*time.Hour {
			t.Errorf("%s expires in %v", name, left)
		}
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: dnsName, Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}

	// The aggregator verifies the server as <service>.<namespace>.svc against the caBundle.
	if err := verify("apiserver", serviceDNSName, pool(apiCA), x509.ExtKeyUsageServerAuth); err != nil {
		t.Errorf("the serving certificate does not verify for %s against the CA: %v", serviceDNSName, err)
	}
	if err := verify("apiserver", serviceDNSName, pool(etcdCA), x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("the serving certificate verifies against the etcd CA; the CAs must be separate")
	}
	if err := verify("apiserver", serviceDNSName, pool(apiCA), x509.ExtKeyUsageClientAuth); err == nil {
		t.Error("the serving certificate is good for client authentication")
	}

	// etcd: every name the manifests dial or advertise, and the right usages.
	m := render(t, "artifacts/deploy")
	_, _, serverFlags := serverPod(t, m)
	for _, server := range strings.Split(serverFlags["--etcd-servers"], ",") {
		host, _, err := net.SplitHostPort(strings.TrimPrefix(server, "https://"))
		if err != nil {
			t.Fatal(err)
		}
		if err := verify("etcd-server", host, pool(etcdCA), x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("etcd server certificate for %s: %v", host, err)
		}
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if err := verify("etcd-peer", host, pool(etcdCA), usage); err != nil {
				t.Errorf("etcd peer certificate for %s, usage %v: %v", host, usage, err)
			}
		}
	}
	if err := verify("etcd-client", "", pool(etcdCA), x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("etcd client certificate: %v", err)
	}
	if cn := readCert(t, file("etcd-client.crt")).Subject.CommonName; cn != serverName {
		t.Errorf("etcd client certificate CN = %q, want %q", cn, serverName)
	}

	// A real mutual-TLS handshake as etcd is configured (--client-cert-auth
	// with the etcd CA): the API server's client certificate gets in, the
	// serving certificate (another CA) does not.
	if err := handshake(t, file("etcd-server"), etcdCA, file("etcd-client"), etcdMemberHost(0)); err != nil {
		t.Errorf("API server -> etcd handshake: %v", err)
	}
	if err := handshake(t, file("etcd-server"), etcdCA, file("apiserver"), etcdMemberHost(0)); err == nil {
		t.Error("etcd accepted the serving certificate as a client")
	}

	checkSecrets(t, dir, apiCA)

	// Idempotent: a second run changes nothing.
	before := snapshot(t, dir)
	out := runGenCerts(t, dir)
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a second run changed files (-first +second):\n%s", diff)
	}
	if strings.Contains(out, "made") {
		t.Errorf("a second run made certificates:\n%s", out)
	}

	// A missing certificate is made again, and only it.
	if err := os.Remove(file("etcd-client.crt")); err != nil {
		t.Fatal(err)
	}
	runGenCerts(t, dir)
	after := snapshot(t, dir)
	for name, data := range before {
		changed := after[name] != data
		want := name == "etcd-client.crt" || name == "etcd-client.key" || name == "secrets.yaml"
		if changed != want {
			t.Errorf("after removing etcd-client.crt, %s changed: %v, want %v", name, changed, want)
		}
	}
	// A new CA remakes what it signs, and the caBundle.
	if err := os.Remove(file("apiserver-ca.key")); err != nil {
		t.Fatal(err)
	}
	runGenCerts(t, dir)
	renewed := snapshot(t, dir)
	for _, name := range []string{"apiserver-ca.crt", "apiserver.crt", "apiservice-cabundle.yaml"} {
		if renewed[name] == after[name] {
			t.Errorf("after removing the CA key, %s is unchanged", name)
		}
	}
	if renewed["etcd-ca.crt"] != after["etcd-ca.crt"] || renewed["etcd-server.crt"] != after["etcd-server.crt"] {
		t.Error("a new serving CA changed the etcd certificates")
	}
	if err := verify("apiserver", serviceDNSName, pool(readCert(t, file("apiserver-ca.crt"))), x509.ExtKeyUsageServerAuth); err != nil {
		t.Errorf("the remade serving certificate does not verify against the new CA: %v", err)
	}
	checkSecrets(t, dir, readCert(t, file("apiserver-ca.crt")))
}

// handshake runs a TLS server with etcd's configuration (server certificate,
// client certificates required and verified against ca) and connects with the
// client certificate, verifying the server as host.
func handshake(t *testing.T, server string, ca *x509.Certificate, client, host string) error {
	t.Helper()
	serverCert, err := tls.LoadX509KeyPair(server+".crt", server+".key")
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := tls.LoadX509KeyPair(client+".crt", client+".key")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool(ca),
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		served <- conn.(*tls.Conn).Handshake()
	}()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), &tls.Config{
		Certificates: []tls.Certificate{clientCert},
		RootCAs:      pool(ca),
		ServerName:   host,
		MinVersion:   tls.VersionTLS12,
	})
	if err == nil {
		// TLS 1.3 reports a refused client certificate on the first read.
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if serr := <-served; serr != nil {
		return fmt.Errorf("server: %w", serr)
	}
	if err != nil && !strings.Contains(err.Error(), "EOF") {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// checkSecrets checks secrets.yaml and apiservice-cabundle.yaml against the
// files and the names the manifests mount.
func checkSecrets(t *testing.T, dir string, apiCA *x509.Certificate) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "secrets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][3]string{ // secret -> tls.crt, tls.key, ca.crt
		servingSecret: {"apiserver.crt", "apiserver.key", "apiserver-ca.crt"},
		etcdServerTLS: {"etcd-server.crt", "etcd-server.key", "etcd-ca.crt"},
		etcdPeerTLS:   {"etcd-peer.crt", "etcd-peer.key", "etcd-ca.crt"},
		etcdClientTLS: {"etcd-client.crt", "etcd-client.key", "etcd-ca.crt"},
	}
	var names []string
	for _, doc := range documentSeparator.Split(string(data), -1) {
		var s corev1.Secret
		if err := decodeStrict([]byte(doc), &s); err != nil {
			t.Fatalf("secrets.yaml: %v", err)
		}
		names = append(names, s.Name)
		if s.Kind != "Secret" || s.Namespace != namespace || s.Type != corev1.SecretTypeTLS {
			t.Errorf("secret %s: kind %q, namespace %q, type %q", s.Name, s.Kind, s.Namespace, s.Type)
		}
		want, ok := files[s.Name]
		if !ok {
			continue
		}
		for i, key := range []string{"tls.crt", "tls.key", "ca.crt"} {
			content, err := os.ReadFile(filepath.Join(dir, want[i]))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(s.Data[key], content) {
				t.Errorf("secret %s key %s is not %s", s.Name, key, want[i])
			}
		}
		if len(s.Data) != 3 {
			t.Errorf("secret %s has keys %v", s.Name, slices.Sorted(maps.Keys(s.Data)))
		}
	}
	if diff := cmp.Diff(tlsSecrets, names); diff != "" {
		t.Errorf("secrets.yaml holds other Secrets than the workloads mount (-want +got):\n%s", diff)
	}

	var patch apiService
	data, err = os.ReadFile(filepath.Join(dir, "apiservice-cabundle.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(data, &patch); err != nil {
		t.Fatalf("apiservice-cabundle.yaml: %v", err)
	}
	block, _ := pem.Decode(patch.Spec.CABundle)
	if block == nil || !bytes.Equal(block.Bytes, apiCA.Raw) {
		t.Error("apiservice-cabundle.yaml does not carry the serving CA")
	}
}
