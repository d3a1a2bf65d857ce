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

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	ourName  = "mpijob-apiserver"
	peerName = "CRD (apiextensions-apiserver)"
	apiPath  = "/apis/kubeflow.org/v1alpha2"
	// benchToken is the CRD peer's bearer token; our server makes its own.
	benchToken = "bench-admin-token"
)

// peer is one API server under test with its own etcd.
type peer struct {
	name   string
	server *proc
	etcd   *proc
	// etcdURL is the client URL of the peer's own etcd.
	etcdURL string
	base    string // https://127.0.0.1:port
	token   string
	client  *http.Client
}

func (p *peer) stop() {
	p.server.stop()
	p.etcd.stop()
}

// startOurs runs mpijob-apiserver against its own etcd process.
func startOurs(ctx context.Context, cfg *config, dir string) (*peer, error) {
	etcd, etcdURL, err := startEtcd(cfg.etcdBin, dir, "etcd-ours")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "ours")
	args := append([]string{"--data-dir", dataDir, "--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port)}, cfg.serverArgs...)
	start := time.Now()
	server, err := startProcEnv(ourName, cfg.serverEnv, cfg.serverBin, args...)
	if err != nil {
		etcd.stop()
		return nil, err
	}
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	if _, err := waitReady(ctx, server, base, start, 60*time.Second); err != nil {
		server.stop()
		etcd.stop()
		return nil, err
	}
	token, err := readAdminToken(dataDir)
	if err != nil {
		return nil, err
	}
	return &peer{name: ourName, server: server, etcd: etcd, etcdURL: etcdURL, base: base, token: token, client: newHTTPClient(64)}, nil
}

// readAdminToken takes the token of the admin the server wrote on first start.
func readAdminToken(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "admin-token.csv"))
	if err != nil {
		return "", err
	}
	token, _, ok := strings.Cut(strings.TrimSpace(string(b)), ",")
	if !ok || token == "" {
		return "", fmt.Errorf("no token in %s/admin-token.csv", dataDir)
	}
	return token, nil
}

// startCRDPeer runs the apiextensions-apiserver wrapper serving the MPIJob
// CRD against its own etcd, under its own prefix.
func startCRDPeer(ctx context.Context, cfg *config, dir string) (*peer, error) {
	etcd, etcdURL, err := startEtcd(cfg.etcdBin, dir, "etcd-crd")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(dir, "crdpeer-tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(benchToken+`,bench-admin,bench-admin,"system:masters"`+"\n"), 0o600); err != nil {
		return nil, err
	}
	start := time.Now()
	server, err := startProc(peerName, cfg.crdPeerBin, "--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port),
		"--cert-dir", filepath.Join(dir, "crdpeer-certs"), "--token-auth-file", tokenFile)
	if err != nil {
		etcd.stop()
		return nil, err
	}
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	if _, err := waitReady(ctx, server, base, start, 120*time.Second); err != nil {
		server.stop()
		etcd.stop()
		return nil, err
	}
	return &peer{name: peerName, server: server, etcd: etcd, etcdURL: etcdURL, base: base, token: benchToken, client: newHTTPClient(64)}, nil
}

func (p *peer) do(ctx context.Context, c *http.Client, method, path, contentType string, body []byte) (*http.Response, error) {
	return p.doAccept(ctx, c, method, path, contentType, "application/json", body)
}

func (p *peer) doAccept(ctx context.Context, c *http.Client, method, path, contentType, accept string, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Accept", accept)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c == nil {
		c = p.client
	}
	return c.Do(req)
}

// call makes one request and reads the whole answer, failing on an
// unexpected status.
func (p *peer) call(ctx context.Context, method, path string, body []byte, want int) ([]byte, error) {
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	resp, err := p.do(ctx, nil, method, path, ct, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s on %s: %d, want %d: %.300s", method, path, p.name, resp.StatusCode, want, b)
	}
	return b, nil
}

func nsPath(ns string) string { return apiPath + "/namespaces/" + ns + "/mpijobs" }
