package server_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/test/framework"
)

// TestClientCAFileIsReloaded replaces the --client-ca-file of a running
// server: a certificate from the new CA is accepted without a restart and
// one from the old CA is refused (401).
func TestClientCAFileIsReloaded(t *testing.T) {
	dir := t.TempDir()
	oldCA := framework.NewCA(t, dir, "old")
	newCA := framework.NewCA(t, dir, "new")
	oldCert, oldKey := oldCA.Issue(t, "old-user", "olga", []string{"team"})
	newCert, newKey := newCA.Issue(t, "new-user", "nina", []string{"team"})
	caFile := dir + "/client-ca.crt"
	copyFile(t, oldCA.CertFile, caFile)

	s := framework.Start(t, func(o *server.Options) {
		o.Authentication.Delegating.ClientCert.ClientCA = caFile
	})
	if code := listAs(t, s, oldCert, oldKey); code != http.StatusOK {
		t.Fatalf("old CA before rotation: %d, want 200", code)
	}
	if code := listAs(t, s, newCert, newKey); code != http.StatusUnauthorized {
		t.Fatalf("new CA before rotation: %d, want 401", code)
	}

	copyFile(t, newCA.CertFile, caFile)
	deadline := time.Now().Add(90 * time.Second)
	for listAs(t, s, newCert, newKey) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("a certificate from the new CA is still refused 90s after the CA file changed")
		}
		time.Sleep(250 * time.Millisecond)
	}
	if code := listAs(t, s, oldCert, oldKey); code != http.StatusUnauthorized {
		t.Fatalf("old CA after rotation: %d, want 401", code)
	}
}

func listAs(t *testing.T, s *framework.Server, certFile, keyFile string) int {
	t.Helper()
	cfg := rest.AnonymousClientConfig(s.Config)
	cfg.CertFile, cfg.KeyFile = certFile, keyFile
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
