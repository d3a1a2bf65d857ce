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

package differential

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const (
	group   = "/apis/kubeflow.org/v2beta1"
	crdUser = "differential-admin-token"
)

// server is one side of the comparison: where it listens and how to call it.
type server struct {
	name   string
	base   string
	token  string
	client *http.Client
}

// startOurs runs mpijob-apiserver (standalone, $MPIJOB_APISERVER_BIN or
// built by the harness) on an etcd of its own.
func startOurs(t *testing.T) *server {
	t.Helper()
	e := harness.StartEtcdForTest(t, harness.EtcdOptions{Name: "etcd-ours"})
	s := harness.StartServerForTest(t, harness.ServerOptions{Etcd: []*harness.Etcd{e}})
	hc, err := s.Admin.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	return &server{name: "ours", base: s.URL, token: s.Admin.Token, client: hc}
}

// startCRDPeer runs the bench's CRD peer serving crdFile on an etcd of its
// own.
func startCRDPeer(t *testing.T, crdFile string) *server {
	t.Helper()
	bin := crdPeerBinary(t)
	e := harness.StartEtcdForTest(t, harness.EtcdOptions{Name: "etcd-crd"})
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(crdUser+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := harness.FreePortForTest(t)
	args := append(harness.EtcdServerFlags(e), "--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--token-auth-file="+tokens, "--crd-file="+crdFile)
	p, err := harness.StartProcess("crdpeer", bin, filepath.Join(dir, "crdpeer.log"), args, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("crdpeer log, last lines:\n%s", p.LogTail(40))
		}
		_ = p.Teardown()
	})
	s := &server{name: "crd", base: "https://127.0.0.1:" + strconv.Itoa(port), token: crdUser, client: &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			// The peer's certificate is self-signed in memory; loopback only.
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test server
			ForceAttemptHTTP2: true,
		},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), harness.StartTimeout)
	defer cancel()
	if err := harness.WaitHTTPOK(ctx, "crdpeer /readyz", p, s.client, s.base+"/readyz?verbose", 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return s
}

// crdPeerBinary is $CRDPEER_BIN (make bench-bins builds one) or a fresh
// build of ../crdpeer.
func crdPeerBinary(t *testing.T) string {
	if bin := os.Getenv("CRDPEER_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "crdpeer")
	start := time.Now()
	if out, err := exec.Command("go", "build", "-o", bin, "../crdpeer").CombinedOutput(); err != nil {
		t.Fatalf("go build ../crdpeer: %v\n%s", err, out)
	}
	t.Logf("built the CRD peer in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// send makes one request with the server's token; body is JSON.
func (s *server) send(method, path string, body []byte) (harness.Response, error) {
	r := harness.Request{Method: method, URL: s.base + path, Token: s.token}
	if body != nil {
		r.Body = body
	}
	return harness.Send(context.Background(), s.client, r)
}

// object decodes a response body, keeping numbers as written.
func object(r harness.Response) (map[string]any, error) {
	var obj map[string]any
	d := json.NewDecoder(bytes.NewReader(r.Body))
	d.UseNumber()
	if err := d.Decode(&obj); err != nil {
		return nil, fmt.Errorf("%s: decoding the body: %w", r, err)
	}
	return obj, nil
}

func jobsPath(ns string) string { return group + "/namespaces/" + ns + "/mpijobs" }
