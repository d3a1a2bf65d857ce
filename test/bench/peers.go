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

	"github.com/mpijob/mpijob-apiserver/test/harness"
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
	server *harness.Process
	etcd   *harness.Etcd // nil for our server on its embedded etcd
	base   string        // https://127.0.0.1:port
	token  string
	client *http.Client
}

func (p *peer) stop() {
	stop(p.server)
	if p.etcd != nil {
		stop(p.etcd.Process)
	}
}

// startOurs runs mpijob-apiserver against its own etcd process.
func startOurs(ctx context.Context, cfg *config, dir string) (*peer, error) {
	etcd, err := startEtcd(ctx, dir, "etcd-ours")
	if err != nil {
		return nil, err
	}
	s, err := startServer(ctx, cfg, filepath.Join(dir, "ours"), dir, etcd, cfg.serverArgs)
	if err != nil {
		stop(etcd.Process)
		return nil, err
	}
	return ourPeer(s, etcd), nil
}

// startServer runs mpijob-apiserver on dataDir, against etcd or, when it
// is nil, its embedded one, with its logs in logDir; it returns once
// /readyz answers 200 (Server.ReadyAfter is how long that took from exec)
// and the admin kubeconfig is written.
func startServer(ctx context.Context, cfg *config, dataDir, logDir string, etcd *harness.Etcd, args []string) (*harness.Server, error) {
	o := harness.ServerOptions{Name: ourName, DataDir: dataDir, LogDir: logDir, Args: args, Env: cfg.serverEnv}
	if etcd != nil {
		o.Etcd = []*harness.Etcd{etcd}
	}
	return harness.StartServer(ctx, o)
}

// ourPeer is our server s as a peer, calling it with the admin's token.
func ourPeer(s *harness.Server, etcd *harness.Etcd) *peer {
	return &peer{name: ourName, server: s.Process, etcd: etcd, base: s.URL, token: s.Admin.Token, client: newHTTPClient(64)}
}

// startCRDPeer runs the apiextensions-apiserver wrapper serving the MPIJob
// CRD against its own etcd, under its own prefix.
func startCRDPeer(ctx context.Context, cfg *config, dir string) (*peer, error) {
	return startCRDPeerAs(ctx, cfg, dir, peerName, "")
}

// startCRDPeerAs is startCRDPeer under another name, its etcd and files
// suffixed with suffix (unless empty) and more flags for the wrapper, such as
// --crd-file.
func startCRDPeerAs(ctx context.Context, cfg *config, dir, name, suffix string, extra ...string) (_ *peer, err error) {
	files, etcdName := "crdpeer", "etcd-crd"
	if suffix != "" {
		files, etcdName = files+"-"+suffix, etcdName+"-"+suffix
	}
	etcd, err := startEtcd(ctx, dir, etcdName)
	if err != nil {
		return nil, err
	}
	p := &peer{name: name, etcd: etcd, token: benchToken, client: newHTTPClient(64)}
	defer func() {
		if err != nil {
			p.stop()
		}
	}()
	port, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(dir, files+"-tokens.csv")
	if err = os.WriteFile(tokenFile, []byte(benchToken+`,bench-admin,bench-admin,"system:masters"`+"\n"), 0o600); err != nil {
		return nil, err
	}
	args := append(harness.EtcdServerFlags(etcd), "--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(dir, files+"-certs"), "--token-auth-file="+tokenFile)
	args = append(args, extra...)
	if p.server, err = harness.StartProcess(name, cfg.crdPeerBin, filepath.Join(dir, files+".log"), args, nil); err != nil {
		return nil, err
	}
	p.base = fmt.Sprintf("https://127.0.0.1:%d", port)
	if err = waitReady(ctx, p.server, p.base); err != nil {
		return nil, err
	}
	return p, nil
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

func nsPath(ns string) string { return nsPathAt(apiPath, ns) }

// nsPathAt is nsPath under another API path, such as v2beta1Path.
func nsPathAt(api, ns string) string { return api + "/namespaces/" + ns + "/mpijobs" }
