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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// rotationTimeout bounds how long a rotated CA may take to apply: the file
// and ConfigMap watchers react within a second, and the library re-reads
// both every minute anyway.
const rotationTimeout = 90 * time.Second

// TestRotation: the CAs that authenticate clients are reloaded without a
// restart.
//   - --client-ca-file names a file of ours: a certificate from its CA
//     authenticates as its CN (RBAC then decides: 200 where carol is bound,
//     403 naming carol elsewhere); when the file's content changes to a new
//     CA — by a rename over it, as a Secret volume or cert-manager updates
//     it, and by rewriting it in place — certificates of the new CA work and
//     those of the old one are 401, and the server process is the same.
//   - kube-system/extension-apiserver-authentication: a second front-proxy CA
//     added to requestheader-client-ca-file is trusted for X-Remote-* headers
//     (with an allowed CN only), and not any more once it is removed.
func TestRotation(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if _, err := c.ApplyDeployRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "client-ca.crt")
	caA, err := harness.NewCA(dir, "client-ca-a")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, caA.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	s := c.StartServerForTest(t, cluster.ServerOptions{ExtraArgs: []string{"--client-ca-file=" + caFile}})
	pid := s.Pid()
	const ns = "rotation"
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"carol", "alice"} {
		if err := c.Bind(ctx, user, "mpijob-view", ns); err != nil {
			t.Fatal(err)
		}
	}
	list := s.URL + "/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs"
	elsewhere := s.URL + "/apis/kubeflow.org/v1alpha2/namespaces/default/mpijobs"

	// carol's certificate from ca; it is presented whatever CAs the server
	// advertises, so that a refusal is the server's and not Go's TLS client
	// keeping it back.
	carol := func(t *testing.T, ca *harness.CA) *http.Client {
		t.Helper()
		kp, err := ca.Issue("carol-"+ca.Name, harness.CertSpec{CommonName: "carol", Client: true})
		if err != nil {
			t.Fatal(err)
		}
		return directForcedCertClient(t, s, kp)
	}
	// waitCode polls until GET url gives want, and returns how long it took.
	waitCode := func(t *testing.T, what string, hc *http.Client, url string, hdr map[string]string, want int) time.Duration {
		t.Helper()
		start := time.Now()
		var last directResult
		for time.Since(start) < rotationTimeout {
			r, err := directTry(ctx, hc, http.MethodGet, url, hdr)
			if err == nil && r.Code == want {
				return time.Since(start)
			}
			last = r
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s: still %s after %s, want %d", what, last, rotationTimeout, want)
		return 0
	}

	t.Run("client CA file", func(t *testing.T) {
		withA := carol(t, caA)
		directExpect(t, "carol from CA a, bound", directDo(t, ctx, withA, http.MethodGet, list, nil), http.StatusOK, "")
		directExpect(t, "carol from CA a, not bound", directDo(t, ctx, withA, http.MethodGet, elsewhere, nil), http.StatusForbidden, "carol")

		caB, err := harness.NewCA(dir, "client-ca-b")
		if err != nil {
			t.Fatal(err)
		}
		withB := carol(t, caB)
		directExpect(t, "carol from CA b before the rotation", directDo(t, ctx, withB, http.MethodGet, list, nil), http.StatusUnauthorized, "")

		// A rename over the file, as the kubelet updates a Secret volume
		// (atomically) and as most tools write certificates.
		tmp := caFile + ".new"
		if err := os.WriteFile(tmp, caB.CertPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, caFile); err != nil {
			t.Fatal(err)
		}
		took := waitCode(t, "carol from CA b after the file was replaced by a rename", withB, list, nil, http.StatusOK)
		t.Logf("CA b accepted %s after the rename", took.Round(time.Millisecond))
		directExpect(t, "carol from CA a after the rotation to b", directDo(t, ctx, withA, http.MethodGet, list, nil), http.StatusUnauthorized, "")
		directExpect(t, "carol from CA b, not bound", directDo(t, ctx, withB, http.MethodGet, elsewhere, nil), http.StatusForbidden, "carol")

		// The same file rewritten in place.
		caC, err := harness.NewCA(dir, "client-ca-c")
		if err != nil {
			t.Fatal(err)
		}
		withC := carol(t, caC)
		directExpect(t, "carol from CA c before the rotation", directDo(t, ctx, withC, http.MethodGet, list, nil), http.StatusUnauthorized, "")
		if err := os.WriteFile(caFile, caC.CertPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		took = waitCode(t, "carol from CA c after the file was rewritten in place", withC, list, nil, http.StatusOK)
		t.Logf("CA c accepted %s after the rewrite in place", took.Round(time.Millisecond))
		directExpect(t, "carol from CA b after the rotation to c", directDo(t, ctx, withB, http.MethodGet, list, nil), http.StatusUnauthorized, "")
		directExpect(t, "carol from CA a after the rotation to c", directDo(t, ctx, withA, http.MethodGet, list, nil), http.StatusUnauthorized, "")
	})

	t.Run("front-proxy CA in extension-apiserver-authentication", func(t *testing.T) {
		fp2, err := harness.NewCA(dir, "front-proxy-ca-2")
		if err != nil {
			t.Fatal(err)
		}
		proxy2, err := fp2.Issue("front-proxy-client-2", harness.CertSpec{CommonName: cluster.FrontProxyClientCN, Client: true})
		if err != nil {
			t.Fatal(err)
		}
		intruder2, err := fp2.Issue("intruder-2", harness.CertSpec{CommonName: "intruder", Client: true})
		if err != nil {
			t.Fatal(err)
		}
		asProxy2 := directForcedCertClient(t, s, proxy2)
		asIntruder2 := directForcedCertClient(t, s, intruder2)
		asProxy := directClient(t, s, c.PKI.FrontProxyClient)
		alice := directAsUser("alice")

		directExpect(t, "alice through front-proxy CA 2 before it is published", directDo(t, ctx, asProxy2, http.MethodGet, list, alice), http.StatusUnauthorized, "")
		// The ConfigMap's own front-proxy CA, with a CN that
		// requestheader-allowed-names does not list.
		intruder, err := c.PKI.FrontProxyCA.Issue("intruder-1", harness.CertSpec{CommonName: "intruder", Client: true})
		if err != nil {
			t.Fatal(err)
		}
		directExpect(t, "alice through the front-proxy CA with CN intruder", directDo(t, ctx, directClient(t, s, intruder), http.MethodGet, list, alice), http.StatusUnauthorized, "")

		original := updateFrontProxyCA(t, ctx, c, func(bundle string) string { return bundle + string(fp2.CertPEM) })
		took := waitCode(t, "alice through front-proxy CA 2 once it is in the ConfigMap", asProxy2, list, alice, http.StatusOK)
		t.Logf("front-proxy CA 2 trusted %s after the ConfigMap update", took.Round(time.Millisecond))
		directExpect(t, "bob through front-proxy CA 2", directDo(t, ctx, asProxy2, http.MethodGet, list, directAsUser("bob")), http.StatusForbidden, "bob")
		directExpect(t, "alice through front-proxy CA 2 with CN intruder", directDo(t, ctx, asIntruder2, http.MethodGet, list, alice), http.StatusUnauthorized, "")
		directExpect(t, "alice through the first front-proxy CA", directDo(t, ctx, asProxy, http.MethodGet, list, alice), http.StatusOK, "")

		// kube-apiserver merges what it publishes into what the ConfigMap
		// holds, so taking the CA out again sticks.
		updateFrontProxyCA(t, ctx, c, func(string) string { return original })
		took = waitCode(t, "alice through front-proxy CA 2 once it is out of the ConfigMap", asProxy2, list, alice, http.StatusUnauthorized)
		t.Logf("front-proxy CA 2 refused %s after it left the ConfigMap", took.Round(time.Millisecond))
		directExpect(t, "alice through the first front-proxy CA, at the end", directDo(t, ctx, asProxy, http.MethodGet, list, alice), http.StatusOK, "")
		// And through kube-apiserver, as users do.
		if r := c.Kubectl("alice").Run(ctx, "", "get", "mpijobs", "-n", ns); r.ExitCode != 0 {
			t.Errorf("%s", r)
		}
	})

	if exited, err := s.Exited(); exited || s.Pid() != pid {
		t.Errorf("the server restarted or exited (%v): pid %d, was %d", err, s.Pid(), pid)
	}
}

// updateFrontProxyCA rewrites requestheader-client-ca-file of
// kube-system/extension-apiserver-authentication with edit and returns what
// it held before.
func updateFrontProxyCA(t *testing.T, ctx context.Context, c *cluster.Cluster, edit func(string) string) string {
	t.Helper()
	const key = "requestheader-client-ca-file"
	var before string
	cms := c.Client.CoreV1().ConfigMaps("kube-system")
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, "extension-apiserver-authentication", metav1.GetOptions{})
		if err != nil {
			return err
		}
		before = cm.Data[key]
		cm.Data[key] = edit(before)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(before, "BEGIN CERTIFICATE") {
		t.Fatalf("%s held no certificate: %q", key, before)
	}
	return before
}
