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
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const (
	adminToken = "crdpeer-test-token"
	namespace  = "bench"
	mpijobs    = "/apis/kubeflow.org/v1alpha2/namespaces/" + namespace + "/mpijobs"
	seedFile   = "../../../artifacts/mpijobs/mpi-test.yaml"
	seedName   = "mpi-test"
	// aggregatedDiscovery is the Accept header kubectl sends for /apis.
	aggregatedDiscovery = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
)

// peer is a crdpeer running in-process against its own etcd.
type peer struct {
	url    string
	client *http.Client
	etcd   *clientv3.Client
}

// startPeer runs the peer as its command line would and waits until /readyz
// answers 200. At cleanup it cancels the peer's context and checks that run
// returns nil, as main does on SIGTERM.
func startPeer(t *testing.T) *peer {
	t.Helper()
	etcdURL, etcdClient := startEtcd(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(adminToken+`,admin,1,"system:masters"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(dir, "certs")
	port := strconv.Itoa(harness.FreePortForTest(t))

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	var runErr error
	go func() {
		defer close(stopped)
		runErr = run(ctx, []string{
			"--etcd-servers=" + etcdURL,
			"--bind-address=127.0.0.1",
			"--secure-port=" + port,
			"--cert-dir=" + certDir,
			"--token-auth-file=" + tokenFile,
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
			if runErr != nil {
				t.Errorf("run returned %v after its context was cancelled, want nil", runErr)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("the peer was still running 20s after its context was cancelled")
		}
	})

	p := &peer{url: "https://127.0.0.1:" + port, etcd: etcdClient}
	start := time.Now()
	for {
		select {
		case <-stopped:
			t.Fatalf("the peer exited before it was ready: %v", runErr)
		default:
		}
		if p.client == nil {
			p.client = trustingClient(t, filepath.Join(certDir, "apiserver.crt"))
		}
		if p.client != nil {
			if code, _ := p.do(t, http.MethodGet, "/readyz", "", nil, ""); code == http.StatusOK {
				t.Logf("ready after %v", time.Since(start).Round(time.Millisecond))
				return p
			}
		}
		if time.Since(start) > 15*time.Second {
			t.Fatal("the peer was not ready within 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// trustingClient trusts only the self-signed certificate the peer wrote to
// --cert-dir; nil until the peer has written it.
func trustingClient(t *testing.T, certFile string) *http.Client {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", certFile)
	}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
}

// do sends one request (with the bearer token unless it is empty) and
// returns the status code and body.
func (p *peer) do(t *testing.T, method, path, token string, body []byte, accept string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// expect sends the request with the admin token and fails the test unless
// the status code is want; it decodes a JSON body into out when out is set.
func (p *peer) expect(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	code, resp := p.do(t, method, path, adminToken, raw, "")
	if code != want {
		t.Fatalf("%s %s: got %d, want %d: %s", method, path, code, want, resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, resp, err)
		}
	}
}

// seed is the repository's example MPIJob, moved into the test namespace.
func seed(t *testing.T) map[string]any {
	t.Helper()
	y, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(y, &obj); err != nil {
		t.Fatal(err)
	}
	obj["metadata"].(map[string]any)["namespace"] = namespace
	return obj
}

func TestPeerServesMPIJobAsCRD(t *testing.T) {
	p := startPeer(t)

	t.Run("readyz waits for the CRD", func(t *testing.T) {
		code, body := p.do(t, http.MethodGet, "/readyz?verbose", "", nil, "")
		if code != http.StatusOK || !strings.Contains(string(body), "[+]mpijob-crd ok") {
			t.Fatalf("anonymous /readyz?verbose: %d\n%s", code, body)
		}
	})

	t.Run("discovery lists kubeflow.org/v1alpha2", func(t *testing.T) {
		var legacy metav1.APIGroupList
		p.expect(t, http.MethodGet, "/apis", nil, http.StatusOK, &legacy)
		found := false
		for _, g := range legacy.Groups {
			if g.Name == "kubeflow.org" && g.PreferredVersion.GroupVersion == "kubeflow.org/v1alpha2" {
				found = true
			}
		}
		if !found {
			t.Errorf("/apis does not list kubeflow.org/v1alpha2: %+v", legacy.Groups)
		}

		code, body := p.do(t, http.MethodGet, "/apis", adminToken, nil, aggregatedDiscovery)
		var aggregated apidiscoveryv2.APIGroupDiscoveryList
		if code != http.StatusOK || json.Unmarshal(body, &aggregated) != nil {
			t.Fatalf("aggregated /apis: %d %s", code, body)
		}
		found = false
		for _, g := range aggregated.Items {
			for _, v := range g.Versions {
				for _, r := range v.Resources {
					if g.Name == "kubeflow.org" && v.Version == "v1alpha2" && r.Resource == "mpijobs" &&
						len(r.Subresources) == 1 && r.Subresources[0].Subresource == "status" {
						found = true
					}
				}
			}
		}
		if !found {
			t.Errorf("aggregated /apis has no kubeflow.org/v1alpha2 mpijobs with a status subresource: %s", body)
		}
	})

	t.Run("OpenAPI v2 and v3 describe MPIJob", func(t *testing.T) {
		var v2 struct {
			Definitions map[string]any `json:"definitions"`
		}
		p.expect(t, http.MethodGet, "/openapi/v2", nil, http.StatusOK, &v2)
		if _, ok := v2.Definitions["org.kubeflow.v1alpha2.MPIJob"]; !ok {
			t.Error("/openapi/v2 has no org.kubeflow.v1alpha2.MPIJob")
		}
		var v3 struct {
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		p.expect(t, http.MethodGet, "/openapi/v3/apis/kubeflow.org/v1alpha2", nil, http.StatusOK, &v3)
		if _, ok := v3.Components.Schemas["org.kubeflow.v1alpha2.MPIJob"]; !ok {
			t.Error("/openapi/v3/apis/kubeflow.org/v1alpha2 has no org.kubeflow.v1alpha2.MPIJob")
		}
	})

	var created map[string]any
	t.Run("create the seed", func(t *testing.T) {
		p.expect(t, http.MethodPost, mpijobs, seed(t), http.StatusCreated, &created)
	})

	t.Run("list returns it", func(t *testing.T) {
		var list struct {
			Kind  string `json:"kind"`
			Items []struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
			} `json:"items"`
		}
		p.expect(t, http.MethodGet, mpijobs, nil, http.StatusOK, &list)
		if list.Kind != "MPIJobList" || len(list.Items) != 1 || list.Items[0].Metadata.Name != seedName {
			t.Fatalf("list: %+v", list)
		}
	})

	t.Run("PUT status writes only status", func(t *testing.T) {
		if created == nil {
			t.Skip("the create failed")
		}
		created["status"] = map[string]any{
			"conditions":      []any{map[string]any{"type": "Created", "status": "True", "reason": "MPIJobCreated"}},
			"replicaStatuses": map[string]any{"Launcher": map[string]any{"succeeded": 1}, "Worker": map[string]any{}},
		}
		created["spec"].(map[string]any)["slotsPerWorker"] = 4 // ignored through /status
		var got struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
			Spec     struct {
				SlotsPerWorker int `json:"slotsPerWorker"`
			} `json:"spec"`
			Status struct {
				ReplicaStatuses map[string]struct {
					Succeeded int `json:"succeeded"`
				} `json:"replicaStatuses"`
			} `json:"status"`
		}
		p.expect(t, http.MethodPut, mpijobs+"/"+seedName+"/status", created, http.StatusOK, &got)
		if got.Status.ReplicaStatuses["Launcher"].Succeeded != 1 || got.Spec.SlotsPerWorker != 1 || got.Metadata.Generation != 1 {
			t.Fatalf("after PUT /status: %+v", got)
		}
	})

	t.Run("the schema's rules are enforced", func(t *testing.T) {
		for name, breakIt := range map[string]func(spec map[string]any){
			"slots-0":    func(s map[string]any) { s["slotsPerWorker"] = 0 },
			"launcher-2": func(s map[string]any) { replicaSpec(s, "Launcher")["replicas"] = 2 },
			"worker-0":   func(s map[string]any) { replicaSpec(s, "Worker")["replicas"] = 0 },
		} {
			obj := seed(t)
			obj["metadata"].(map[string]any)["name"] = name
			breakIt(obj["spec"].(map[string]any))
			p.expect(t, http.MethodPost, mpijobs, obj, http.StatusUnprocessableEntity, nil)
		}
	})

	t.Run("no valid token is a 401", func(t *testing.T) {
		for _, token := range []string{"", "not-a-token"} {
			for _, path := range []string{mpijobs, "/apis", "/openapi/v2"} {
				if code, body := p.do(t, http.MethodGet, path, token, nil, ""); code != http.StatusUnauthorized {
					t.Errorf("GET %s with token %q: %d, want 401: %s", path, token, code, body)
				}
			}
		}
	})

	t.Run("etcd keys live under the peer's prefix", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		key := defaultEtcdPrefix + "/kubeflow.org/mpijobs/" + namespace + "/" + seedName
		resp, err := p.etcd.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) != 1 || !bytes.HasPrefix(resp.Kvs[0].Value, []byte(`{"apiVersion":"kubeflow.org/v1alpha2","kind":"MPIJob"`)) {
			t.Fatalf("etcd key %s: %v", key, resp.Kvs)
		}
		other, err := p.etcd.Get(ctx, "/registry/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		if other.Count != 0 {
			t.Errorf("%d keys under /registry/, want none", other.Count)
		}
	})
}

func replicaSpec(spec map[string]any, replicaType string) map[string]any {
	return spec["mpiReplicaSpecs"].(map[string]any)[replicaType].(map[string]any)
}

func TestRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--etcd-servers=http://127.0.0.1:1", "--token-auth-file=x", "--etcd-prefix=/registry"}, "--etcd-prefix must not be /registry"},
		{[]string{"--etcd-servers=http://127.0.0.1:1"}, "--token-auth-file is required"},
		{[]string{"--token-auth-file=x"}, "--etcd-servers must be specified"},
		{[]string{"--etcd-servers=http://127.0.0.1:1", "--token-auth-file=x", "--crd-file=does-not-exist.yaml"}, "--crd-file: open does-not-exist.yaml"},
		{[]string{"--etcd-servers=http://127.0.0.1:1", "--token-auth-file=x", "--crd-file=" + seedFile}, "unknown field"},
	} {
		err := run(context.Background(), tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
