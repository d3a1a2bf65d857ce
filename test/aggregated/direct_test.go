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

package aggregated

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestDirect calls our server directly, as the aggregator and as intruders
// would, with the request-header flags given explicitly
// (--requestheader-client-ca-file, --requestheader-allowed-names) rather than
// read from kube-system/extension-apiserver-authentication:
//   - a bearer token goes to kube-apiserver's TokenReview: a bad one is 401, a
//     good one authenticates its user and the server's SubjectAccessReview
//     decides (200 where RBAC allows, 403 naming the user where it does not);
//   - X-Remote-* headers count only with a client certificate from the
//     front-proxy CA whose CN is in --requestheader-allowed-names: another
//     CN from the same CA, the right CN from another CA, or no certificate
//     do not make the request that user's;
//   - /livez, /readyz and /healthz answer anonymous requests (always-allow
//     paths) while /apis/... asks kube-apiserver and is 403 for
//     system:anonymous.
func TestDirect(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := c.ApplyDeployRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	// The APIService becoming Available shows that the aggregator's own
	// front-proxy certificate passes these flags.
	s := c.StartServerForTest(t, cluster.ServerOptions{ExtraArgs: []string{
		"--requestheader-client-ca-file=" + c.PKI.FrontProxyCA.CertFile,
		"--requestheader-allowed-names=" + cluster.FrontProxyClientCN,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
	}})
	const ns = "direct"
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(ctx, "alice", "mpijob-view", ns); err != nil {
		t.Fatal(err)
	}
	list := s.URL + "/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs"

	plain := directClient(t, s, harness.KeyPair{})
	asProxy := directClient(t, s, c.PKI.FrontProxyClient)

	t.Run("token", func(t *testing.T) {
		for _, tc := range []struct {
			name, token string
			want        int
			asUser      string // named in the 403
		}{
			{"unknown token", "not-a-token", http.StatusUnauthorized, ""},
			{"token of another user with a typo", c.Users["alice"].Token + "x", http.StatusUnauthorized, ""},
			{"alice's token, bound to mpijob-view", c.Users["alice"].Token, http.StatusOK, ""},
			{"bob's token, no binding", c.Users["bob"].Token, http.StatusForbidden, "bob"},
		} {
			r := directDo(t, ctx, plain, http.MethodGet, list, map[string]string{"Authorization": "Bearer " + tc.token})
			directExpect(t, tc.name, r, tc.want, tc.asUser)
		}
		// RBAC may allow alice here, yet the list must not hold a bad
		// token's request either: 401 comes before authorization.
		r := directDo(t, ctx, plain, http.MethodGet, list, map[string]string{
			"Authorization": "Bearer not-a-token", "X-Remote-User": "alice"})
		directExpect(t, "unknown token with forged X-Remote-User", r, http.StatusUnauthorized, "")
	})

	t.Run("front proxy", func(t *testing.T) {
		intruderCN, err := c.PKI.FrontProxyCA.Issue("intruder", harness.CertSpec{CommonName: "intruder", Client: true})
		if err != nil {
			t.Fatal(err)
		}
		otherCA, err := harness.NewCA(t.TempDir(), "other-ca")
		if err != nil {
			t.Fatal(err)
		}
		otherCAProxyCN, err := otherCA.Issue("front-proxy-client", harness.CertSpec{CommonName: cluster.FrontProxyClientCN, Client: true})
		if err != nil {
			t.Fatal(err)
		}
		wrongCN := directClient(t, s, intruderCN)
		// Go's TLS client would not even send a certificate whose issuer
		// is not among the CAs the server names in its CertificateRequest;
		// an attacker would.
		wrongCA := directForcedCertClient(t, s, otherCAProxyCN)
		as := func(user, group string) map[string]string {
			return map[string]string{"X-Remote-User": user, "X-Remote-Group": group}
		}
		for _, tc := range []struct {
			name   string
			client *http.Client
			hdr    map[string]string
			want   int
			asUser string
		}{
			{"front-proxy-client, alice (bound)", asProxy, as("alice", "system:authenticated"), http.StatusOK, ""},
			{"front-proxy-client, bob (not bound)", asProxy, as("bob", "system:authenticated"), http.StatusForbidden, "bob"},
			{"front-proxy-client, carol in system:masters (groups count)", asProxy, as("carol", "system:masters"), http.StatusOK, ""},
			{"front-proxy CA, CN intruder (not allowed), as alice", wrongCN, as("alice", "system:authenticated"), http.StatusUnauthorized, ""},
			{"front-proxy CA, CN intruder (not allowed), as carol in system:masters", wrongCN, as("carol", "system:masters"), http.StatusUnauthorized, ""},
			{"another CA, CN front-proxy-client, as carol in system:masters", wrongCA, as("carol", "system:masters"), http.StatusUnauthorized, ""},
			{"no client certificate, as carol in system:masters", plain, as("carol", "system:masters"), http.StatusForbidden, "system:anonymous"},
			{"no client certificate, as alice", plain, as("alice", "system:authenticated"), http.StatusForbidden, "system:anonymous"},
		} {
			r := directDo(t, ctx, tc.client, http.MethodGet, list, tc.hdr)
			directExpect(t, tc.name, r, tc.want, tc.asUser)
		}
	})

	t.Run("always-allow paths", func(t *testing.T) {
		for _, path := range []string{"/livez", "/readyz", "/healthz"} {
			r := directDo(t, ctx, plain, http.MethodGet, s.URL+path, nil)
			if r.Code != http.StatusOK || string(r.Body) != "ok" {
				t.Errorf("anonymous GET %s = %s, want 200 ok", path, r)
			}
		}
		// Everything else asks kube-apiserver; system:anonymous may read
		// only the public health and version paths there.
		for _, path := range []string{"/apis", "/apis/kubeflow.org/v1alpha2", "/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs", "/openapi/v2"} {
			r := directDo(t, ctx, plain, http.MethodGet, s.URL+path, nil)
			directExpect(t, "anonymous GET "+path, r, http.StatusForbidden, "system:anonymous")
		}
		// The same discovery path as an authenticated user (system:discovery).
		r := directDo(t, ctx, asProxy, http.MethodGet, s.URL+"/apis/kubeflow.org/v1alpha2", directAsUser("bob"))
		if r.Code != http.StatusOK || !strings.Contains(string(r.Body), `"mpijobs"`) {
			t.Errorf("GET /apis/kubeflow.org/v1alpha2 as bob through the front-proxy certificate = %s, want 200 with mpijobs", r)
		}
	})
}

func directAsUser(user string) map[string]string {
	return map[string]string{"X-Remote-User": user, "X-Remote-Group": "system:authenticated"}
}

// directResult is a response read in full, and how long it took.
type directResult struct {
	harness.Response
	Elapsed time.Duration
}

func directClient(t *testing.T, s *cluster.Server, kp harness.KeyPair) *http.Client {
	t.Helper()
	hc, err := s.HTTPClient(kp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// directForcedCertClient is directClient that presents kp whatever CAs the
// server says it accepts.
func directForcedCertClient(t *testing.T, s *cluster.Server, kp harness.KeyPair) *http.Client {
	t.Helper()
	tc, err := harness.TLSClientConfig(s.ServingCA, harness.KeyPair{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := kp.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}, Timeout: 30 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// directTry sends one request with the headers hdr and reads the response.
func directTry(ctx context.Context, hc *http.Client, method, url string, hdr map[string]string) (directResult, error) {
	start := time.Now()
	r, err := harness.Send(ctx, hc, harness.Request{Method: method, URL: url, Header: hdr})
	return directResult{Response: r, Elapsed: time.Since(start)}, err
}

func directDo(t *testing.T, ctx context.Context, hc *http.Client, method, url string, hdr map[string]string) directResult {
	t.Helper()
	r, err := directTry(ctx, hc, method, url, hdr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// directExpect checks the code and, for a 403, that the message names
// asUser as the user; a 401 must be a Status with reason Unauthorized.
func directExpect(t *testing.T, name string, r directResult, want int, asUser string) {
	t.Helper()
	switch {
	case r.Code != want:
		t.Errorf("%s: %s, want %d", name, r, want)
	case want == http.StatusForbidden && asUser != "" && !strings.Contains(string(r.Body), `User \"`+asUser+`\" cannot`):
		t.Errorf("%s: %s, want a 403 for user %q", name, r, asUser)
	case want == http.StatusUnauthorized && (r.Status == nil || r.Status.Reason != metav1.StatusReasonUnauthorized):
		t.Errorf("%s: %s, want a Status with reason Unauthorized", name, r)
	}
}
