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

package api

import (
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// testCredentials are the extra credentials the shared server accepts: a
// static token file user and client certificates signed by a test CA.
type testCredentials struct {
	tokenFile string
	userToken string // in tokenFile, user "alice" in group "mpi-users"

	caFile     string
	clientCert harness.KeyPair // CN=bob, O=mpi-users, signed by caFile's CA
	rogueCert  harness.KeyPair // CN=mallory, O=system:masters, signed by another CA
}

func newTestCredentials(t *testing.T) *testCredentials {
	t.Helper()
	dir := t.TempDir()
	c := &testCredentials{userToken: "alice-token-0123456789abcdef"}
	c.tokenFile = filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(c.tokenFile, []byte(c.userToken+`,alice,alice-uid,"mpi-users"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca, err := harness.NewCA(dir, "client-ca")
	if err != nil {
		t.Fatal(err)
	}
	c.caFile = ca.CertFile
	if c.clientCert, err = ca.Issue("bob", harness.CertSpec{CommonName: "bob", Organizations: []string{"mpi-users"}, Client: true}); err != nil {
		t.Fatal(err)
	}
	rogueCA, err := harness.NewCA(dir, "rogue-ca")
	if err != nil {
		t.Fatal(err)
	}
	if c.rogueCert, err = rogueCA.Issue("mallory", harness.CertSpec{CommonName: "mallory", Organizations: []string{"system:masters"}, Client: true}); err != nil {
		t.Fatal(err)
	}
	return c
}

// certClient is an HTTPS client that trusts the server and presents kp.
func (e *env) certClient(t *testing.T, kp harness.KeyPair) *http.Client {
	t.Helper()
	hc, err := e.s.Admin.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := kp.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	hc.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{cert}
	return hc
}

func testAuth(t *testing.T, e *env, creds *testCredentials) {
	const ns = "auth-ns"
	e.create(t, harness.SeedJobForTest(t, ns, "j"))

	t.Run("NoCredentials401", func(t *testing.T) {
		for _, p := range []string{"/apis", "/apis/kubeflow.org", groupVersionPath, nsPath(ns), objPath(ns, "j"),
			groupVersionPath + "/mpijobs", "/openapi/v2", "/metrics"} {
			r := e.doAnonymous(t, harness.Request{Method: "GET", URL: p})
			harness.ExpectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		}
		before := e.etcdGet(t, ns, "j")
		r := e.doAnonymous(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: harness.SeedJobForTest(t, ns, "anon")})
		harness.ExpectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		r = e.doAnonymous(t, harness.Request{Method: "DELETE", URL: objPath(ns, "j")})
		harness.ExpectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		e.expectNotInEtcd(t, ns, "anon")
		e.expectEtcdUnchanged(t, ns, "j", before)
	})

	t.Run("WrongToken401", func(t *testing.T) {
		for _, tok := range []string{"wrong", e.s.Admin.Token + "x", "Bearer"} {
			r := e.do(t, harness.Request{Method: "GET", URL: nsPath(ns), Token: tok})
			harness.ExpectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
		}
		r := e.doAnonymous(t, harness.Request{Method: "GET", URL: nsPath(ns), Header: map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}})
		harness.ExpectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
	})

	t.Run("PublicEndpoints", func(t *testing.T) {
		for _, p := range []string{"/livez", "/readyz", "/healthz", "/version"} {
			r := e.doAnonymous(t, harness.Request{Method: "GET", URL: p})
			harness.ExpectCode(t, r, http.StatusOK)
			if p == "/version" {
				v := r.Object(t)
				if s, _ := v["gitVersion"].(string); s == "" {
					t.Errorf("/version has no gitVersion: %s", r.Body)
				}
			} else if string(r.Body) != "ok" {
				t.Errorf("%s body = %q, want ok", p, r.Body)
			}
		}
		// Public even with a wrong token? kube-apiserver answers 401 to
		// bad credentials everywhere; only no credentials are anonymous.
		r := e.do(t, harness.Request{Method: "GET", URL: "/healthz", Token: "wrong"})
		harness.ExpectCode(t, r, http.StatusUnauthorized)
	})

	t.Run("Metrics", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "GET", URL: "/metrics", Accept: "text/plain"})
		harness.ExpectCode(t, r, http.StatusOK)
		if !strings.Contains(string(r.Body), "apiserver_request_total") {
			t.Errorf("/metrics has no apiserver_request_total")
		}
		if !strings.Contains(string(r.Body), `resource="mpijobs"`) {
			t.Errorf("/metrics has no series for mpijobs")
		}
	})

	t.Run("TokenFileUser", func(t *testing.T) {
		tok := creds.userToken
		r := e.do(t, harness.Request{Method: "GET", URL: nsPath(ns), Token: tok})
		harness.ExpectCode(t, r, http.StatusOK)
		r = e.do(t, harness.Request{Method: "POST", URL: nsPath(ns) + "?fieldManager=alice-client", Body: harness.SeedJobForTest(t, ns, "by-alice"), Token: tok})
		harness.ExpectCode(t, r, http.StatusCreated)
		if mf := managedFieldsOf(t, r.Object(t), "alice-client"); len(mf) != 1 {
			t.Errorf("managedFields = %v", r.Object(t)["metadata"])
		}
		r = e.do(t, harness.Request{Method: "GET", URL: "/metrics", Token: tok, Accept: "text/plain"})
		harness.ExpectCode(t, r, http.StatusOK)
	})

	t.Run("ClientCertificate", func(t *testing.T) {
		client := e.certClient(t, creds.clientCert)
		r := harness.SendForTest(t, client, harness.Request{Method: "GET", URL: e.s.URL + nsPath(ns)})
		harness.ExpectCode(t, r, http.StatusOK)
		r = harness.SendForTest(t, client, harness.Request{Method: "POST", URL: e.s.URL + nsPath(ns), Body: harness.SeedJobForTest(t, ns, "by-bob")})
		harness.ExpectCode(t, r, http.StatusCreated)
		if e.etcdGet(t, ns, "by-bob") == nil {
			t.Errorf("bob's object is not in etcd")
		}
		// A certificate of another CA is no credential.
		rogue := e.certClient(t, creds.rogueCert)
		r = harness.SendForTest(t, rogue, harness.Request{Method: "GET", URL: e.s.URL + nsPath(ns)})
		if r.Code != http.StatusUnauthorized {
			t.Errorf("a certificate of an unknown CA: want 401, got %s", r)
		}
		r = harness.SendForTest(t, rogue, harness.Request{Method: "POST", URL: e.s.URL + nsPath(ns), Body: harness.SeedJobForTest(t, ns, "by-mallory")})
		if r.Code != http.StatusUnauthorized {
			t.Errorf("a certificate of an unknown CA: want 401, got %s", r)
		}
		e.expectNotInEtcd(t, ns, "by-mallory")
	})
}
