package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// testCredentials are the extra credentials the shared server accepts: a
// static token file user and client certificates signed by a test CA.
type testCredentials struct {
	tokenFile string
	userToken string // in tokenFile, user "alice" in group "mpi-users"

	caFile     string
	clientCert tls.Certificate // CN=bob, O=mpi-users, signed by caFile's CA
	rogueCert  tls.Certificate // CN=mallory, signed by another CA
}

func newTestCredentials(t *testing.T) *testCredentials {
	t.Helper()
	dir := t.TempDir()
	c := &testCredentials{userToken: "alice-token-0123456789abcdef"}
	c.tokenFile = filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(c.tokenFile, []byte(c.userToken+`,alice,alice-uid,"mpi-users"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	caCert, caKey := newCA(t, "mpijob test CA")
	c.caFile = filepath.Join(dir, "client-ca.crt")
	if err := os.WriteFile(c.caFile, pemCert(caCert.Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	c.clientCert = newClientCert(t, caCert, caKey, "bob", "mpi-users")
	rogueCA, rogueKey := newCA(t, "rogue CA")
	c.rogueCert = newClientCert(t, rogueCA, rogueKey, "mallory", "system:masters")
	return c
}

func newCA(t *testing.T, cn string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func newClientCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn, org string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// certClient is an HTTPS client that trusts the server and presents cert.
func (e *env) certClient(t *testing.T, cert tls.Certificate) *http.Client {
	t.Helper()
	base, err := rest.TLSConfigFor(e.s.Config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := base.Clone()
	cfg.Certificates = []tls.Certificate{cert}
	return httpClient(cfg)
}

func testAuth(t *testing.T, e *env, creds *testCredentials) {
	const ns = "auth-ns"
	e.create(t, job(t, ns, "j"))
	none := strptr("")

	t.Run("NoCredentials401", func(t *testing.T) {
		for _, p := range []string{"/apis", "/apis/kubeflow.org", groupVersionPath, nsPath(ns), objPath(ns, "j"),
			groupVersionPath + "/mpijobs", "/openapi/v2", "/metrics"} {
			r := e.do(t, req{method: "GET", path: p, token: none})
			expectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		}
		before := e.etcdGet(t, ns, "j")
		r := e.do(t, req{method: "POST", path: nsPath(ns), body: job(t, ns, "anon"), token: none})
		expectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		r = e.do(t, req{method: "DELETE", path: objPath(ns, "j"), token: none})
		expectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		e.expectNotInEtcd(t, ns, "anon")
		e.expectEtcdUnchanged(t, ns, "j", before)
	})

	t.Run("WrongToken401", func(t *testing.T) {
		for _, tok := range []string{"wrong", e.s.Token + "x", "Bearer"} {
			r := e.do(t, req{method: "GET", path: nsPath(ns), token: strptr(tok)})
			expectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		}
		r := e.do(t, req{method: "GET", path: nsPath(ns), token: none, header: map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}})
		expectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
	})

	t.Run("PublicEndpoints", func(t *testing.T) {
		for _, p := range []string{"/livez", "/readyz", "/healthz", "/version"} {
			r := e.do(t, req{method: "GET", path: p, token: none})
			expect(t, r, http.StatusOK)
			if p == "/version" {
				v := r.object(t)
				if s, _ := v["gitVersion"].(string); s == "" {
					t.Errorf("/version has no gitVersion: %s", r.Body)
				}
			} else if string(r.Body) != "ok" {
				t.Errorf("%s body = %q, want ok", p, r.Body)
			}
		}
		// Public even with a wrong token? kube-apiserver answers 401 to
		// bad credentials everywhere; only no credentials are anonymous.
		r := e.do(t, req{method: "GET", path: "/healthz", token: strptr("wrong")})
		expect(t, r, http.StatusUnauthorized)
	})

	t.Run("Metrics", func(t *testing.T) {
		r := e.do(t, req{method: "GET", path: "/metrics", accept: "text/plain"})
		expect(t, r, http.StatusOK)
		if !strings.Contains(string(r.Body), "apiserver_request_total") {
			t.Errorf("/metrics has no apiserver_request_total")
		}
		if !strings.Contains(string(r.Body), `resource="mpijobs"`) {
			t.Errorf("/metrics has no series for mpijobs")
		}
	})

	t.Run("TokenFileUser", func(t *testing.T) {
		tok := strptr(creds.userToken)
		r := e.do(t, req{method: "GET", path: nsPath(ns), token: tok})
		expect(t, r, http.StatusOK)
		r = e.do(t, req{method: "POST", path: nsPath(ns) + "?fieldManager=alice-client", body: job(t, ns, "by-alice"), token: tok})
		expect(t, r, http.StatusCreated)
		if mf := managedFieldsOf(t, r.object(t), "alice-client"); len(mf) != 1 {
			t.Errorf("managedFields = %v", r.object(t)["metadata"])
		}
		r = e.do(t, req{method: "GET", path: "/metrics", token: tok, accept: "text/plain"})
		expect(t, r, http.StatusOK)
	})

	t.Run("ClientCertificate", func(t *testing.T) {
		client := e.certClient(t, creds.clientCert)
		r := doWith(t, client, e.s.URL, "", req{method: "GET", path: nsPath(ns)})
		expect(t, r, http.StatusOK)
		r = doWith(t, client, e.s.URL, "", req{method: "POST", path: nsPath(ns), body: job(t, ns, "by-bob")})
		expect(t, r, http.StatusCreated)
		if e.etcdGet(t, ns, "by-bob") == nil {
			t.Errorf("bob's object is not in etcd")
		}
		// A certificate of another CA is no credential.
		rogue := e.certClient(t, creds.rogueCert)
		r = doWith(t, rogue, e.s.URL, "", req{method: "GET", path: nsPath(ns)})
		if r.Code != http.StatusUnauthorized {
			t.Errorf("a certificate of an unknown CA: want 401, got %s", r)
		}
		r = doWith(t, rogue, e.s.URL, "", req{method: "POST", path: nsPath(ns), body: job(t, ns, "by-mallory")})
		if r.Code != http.StatusUnauthorized {
			t.Errorf("a certificate of an unknown CA: want 401, got %s", r)
		}
		e.expectNotInEtcd(t, ns, "by-mallory")
	})
}
