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

// Tests behind a real kube-apiserver v1.37.2. Run test/aggregated/build.sh
// first (or set KUBE_APISERVER_BIN, KUBECTL_BIN); our server and etcd are the
// project's test harness's (test/harness: built on first use unless
// MPIJOB_APISERVER_BIN and ETCD_BIN name them). The cluster is in ./cluster.
package aggregated

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const kubeVersion = "v1.37.2"

// TestKubeAPIServer: kube-apiserver v1.37.2 comes up on loopback with its
// etcd, and kubectl v1.37.2 talks to it with each kind of credential.
func TestKubeAPIServer(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	hc, err := c.HTTPClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/readyz": "ok", "/livez": "ok"} {
		if r := harness.SendForTest(t, hc, harness.Request{URL: c.URL + path}); r.Code != http.StatusOK || string(r.Body) != want {
			t.Errorf("%s, want 200 %q", r, want)
		}
	}
	r := harness.SendForTest(t, hc, harness.Request{URL: c.URL + "/version"})
	var v struct{ GitVersion string }
	if err := json.Unmarshal(r.Body, &v); err != nil || v.GitVersion != kubeVersion {
		t.Errorf("%s (%v), want gitVersion %s", r, err, kubeVersion)
	}

	// kubectl version: both sides v1.37.2, so no skew warning.
	kr := c.Kubectl(cluster.Admin).Run(ctx, "", "version", "-o", "json")
	if kr.ExitCode != 0 {
		t.Fatalf("%s", kr)
	}
	var versions struct {
		ClientVersion struct{ GitVersion string }
		ServerVersion struct{ GitVersion string }
	}
	if err := json.Unmarshal([]byte(kr.Stdout), &versions); err != nil {
		t.Fatalf("kubectl version -o json: %v\n%s", err, kr.Stdout)
	}
	if versions.ClientVersion.GitVersion != kubeVersion || versions.ServerVersion.GitVersion != kubeVersion {
		t.Errorf("kubectl version: client %s, server %s; want %s for both", versions.ClientVersion.GitVersion,
			versions.ServerVersion.GitVersion, kubeVersion)
	}
	if strings.Contains(kr.Stderr, "WARNING") {
		t.Errorf("kubectl version warns: %s", kr.Stderr)
	}

	// Each kubeconfig authenticates as its user; RBAC gives nobody nothing.
	for _, user := range []string{cluster.Admin, "alice", "bob", "nobody", cluster.ServerUser} {
		kr := c.Kubectl(user).Run(ctx, "", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if kr.ExitCode != 0 {
			t.Errorf("whoami as %s: %s", user, kr)
			continue
		}
		if kr.Stdout != user {
			t.Errorf("kubeconfig of %s authenticates as %q", user, kr.Stdout)
		}
	}
	if kr := c.Kubectl("nobody").Run(ctx, "", "get", "namespaces"); kr.ExitCode == 0 || !strings.Contains(kr.Stderr, "Forbidden") {
		t.Errorf("nobody listing namespaces: %s\nwant Forbidden", kr)
	}
	if kr := c.Kubectl(cluster.Admin).Run(ctx, "", "get", "namespaces", "-o", "name"); kr.ExitCode != 0 ||
		!strings.Contains(kr.Stdout, "namespace/kube-system") {
		t.Errorf("admin listing namespaces: %s", kr)
	}
}

// TestAggregatedServer: our server in aggregated mode behind kube-apiserver,
// with the shipped RBAC for its identity: the APIService becomes Available,
// kubectl discovers mpijobs through kube-apiserver, and an MPIJob makes the
// round trip through the front door.
func TestAggregatedServer(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	applied, err := c.ApplyDeployRBAC(ctx)
	switch {
	case errors.Is(err, cluster.ErrNoDeployArtifacts):
		t.Log("no artifacts/deploy: granting the server's identity the harness's own RBAC")
		err = c.GrantServerIdentity(ctx)
	case err == nil:
		t.Logf("applied from artifacts/deploy: %s", strings.Join(applied, ", "))
	}
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s := c.StartServerForTest(t, cluster.ServerOptions{})
	t.Logf("%s ready and its APIService Available in %s", s.URL, time.Since(start).Round(time.Millisecond))

	kr := c.Kubectl("alice").Run(ctx, "", "api-resources", "--api-group=kubeflow.org", "--no-headers")
	if kr.ExitCode != 0 {
		t.Fatalf("%s", kr)
	}
	fields := strings.Fields(kr.Stdout)
	want := []string{"mpijobs", "mj,mpij", "kubeflow.org/v1alpha2", "true", "MPIJob"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("kubectl api-resources --api-group=kubeflow.org:\n%s\nwant the fields %q", kr.Stdout, want)
	}

	// A create and a read back through kube-apiserver, as admin.
	if err := c.CreateNamespace(ctx, "kube-test"); err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile("../../artifacts/mpijobs/mpi-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if kr := c.Kubectl(cluster.Admin).Run(ctx, string(seed), "create", "-f", "-"); kr.ExitCode != 0 ||
		strings.TrimSpace(kr.Stdout) != "mpijob.kubeflow.org/mpi-test created" {
		t.Fatalf("kubectl create -f mpi-test.yaml: %s", kr)
	}
	mc, err := c.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mc.KubeflowV1alpha2().MPIJobs("kube-test").Get(ctx, "mpi-test", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := got.Spec.MPIReplicaSpecs["Worker"]; w == nil || w.Replicas == nil || *w.Replicas != 2 {
		t.Errorf("mpi-test read back through kube-apiserver: Worker = %+v", w)
	}

	// Directly at the server, as the aggregator: the front-proxy client
	// certificate makes the X-Remote-* headers count, and the server's own
	// SubjectAccessReview decides. Without the certificate the headers are
	// ignored and the request is anonymous (403, as kube-apiserver answers
	// system:anonymous).
	list := s.URL + "/apis/kubeflow.org/v1alpha2/namespaces/kube-test/mpijobs"
	asProxy, err := s.HTTPClient(c.PKI.FrontProxyClient)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.HTTPClient(harness.KeyPair{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		client *http.Client
		user   string
		groups []string
		want   int
		asUser string // in a 403's message
	}{
		{"front proxy, system:masters", asProxy, "carol", []string{"system:masters", "system:authenticated"}, http.StatusOK, ""},
		{"front proxy, alice without bindings", asProxy, "alice", []string{"system:authenticated"}, http.StatusForbidden, "alice"},
		{"no client certificate, forged headers", plain, "admin", []string{"system:masters"}, http.StatusForbidden, "system:anonymous"},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, list, nil)
		req.Header.Set("X-Remote-User", tc.user)
		for _, g := range tc.groups {
			req.Header.Add("X-Remote-Group", g)
		}
		resp, err := tc.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || (tc.asUser != "" && !strings.Contains(string(body), `User \"`+tc.asUser+`\"`)) {
			t.Errorf("%s: GET %s = %d %s, want %d (as %q)", tc.name, list, resp.StatusCode, body, tc.want, tc.asUser)
		}
	}
}

// TestAggregatedServerOwnRBAC: the harness's own grants for the server's
// identity (GrantServerIdentity) and an APIService with
// insecureSkipTLSVerify instead of a caBundle also make it Available.
func TestAggregatedServerOwnRBAC(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := c.GrantServerIdentity(ctx); err != nil {
		t.Fatal(err)
	}
	s := c.StartServerForTest(t, cluster.ServerOptions{InsecureSkipTLSVerify: true})
	if s.CABundle() != nil {
		t.Errorf("CABundle() = %d bytes, want none", len(s.CABundle()))
	}
	if kr := c.Kubectl("bob").Run(ctx, "", "api-resources", "--api-group=kubeflow.org", "-o", "name"); kr.ExitCode != 0 ||
		strings.TrimSpace(kr.Stdout) != "mpijobs.kubeflow.org" {
		t.Errorf("%s\nwant mpijobs.kubeflow.org", kr)
	}
}
