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

package server_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestClientCAFileIsReloaded replaces the --client-ca-file of a running
// server: a certificate from the new CA is accepted without a restart and
// one from the old CA is refused (401).
func TestClientCAFileIsReloaded(t *testing.T) {
	dir := t.TempDir()
	oldUser := issueClientCert(t, dir, "old", "olga")
	newUser := issueClientCert(t, dir, "new", "nina")
	caFile := dir + "/client-ca.crt"
	copyFile(t, oldUser.ca.CertFile, caFile)

	s := inprocess.Start(t, func(o *server.Options) {
		o.Authentication.Delegating.ClientCert.ClientCA = caFile
	})
	if code := listAs(t, s, oldUser.cert); code != http.StatusOK {
		t.Fatalf("old CA before rotation: %d, want 200", code)
	}
	if code := listAs(t, s, newUser.cert); code != http.StatusUnauthorized {
		t.Fatalf("new CA before rotation: %d, want 401", code)
	}

	copyFile(t, newUser.ca.CertFile, caFile)
	deadline := time.Now().Add(90 * time.Second)
	for listAs(t, s, newUser.cert) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("a certificate from the new CA is still refused 90s after the CA file changed")
		}
		time.Sleep(250 * time.Millisecond)
	}
	if code := listAs(t, s, oldUser.cert); code != http.StatusUnauthorized {
		t.Fatalf("old CA after rotation: %d, want 401", code)
	}
}

// clientUser is a client certificate and the CA that signed it.
type clientUser struct {
	ca   *harness.CA
	cert harness.KeyPair
}

// issueClientCert makes a CA called name and a client certificate from it
// for user cn in group team.
func issueClientCert(t *testing.T, dir, name, cn string) clientUser {
	t.Helper()
	ca, err := harness.NewCA(dir, name+"-ca")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(name+"-user", harness.CertSpec{CommonName: cn, Organizations: []string{"team"}, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	return clientUser{ca: ca, cert: cert}
}

func listAs(t *testing.T, s *inprocess.Server, kp harness.KeyPair) int {
	t.Helper()
	cfg := rest.AnonymousClientConfig(s.Admin.Config)
	cfg.CertFile, cfg.KeyFile = kp.CertFile, kp.KeyFile
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet,
		s.URL+"/apis/kubeflow.org/v1alpha2/mpijobs", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// Write a new file and rename it over the old one, as tools that
	// rotate certificates do.
	if err := os.WriteFile(to+".tmp", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".tmp", to); err != nil {
		t.Fatal(err)
	}
}
