// Tests behind a real kube-apiserver v1.37.2. Run test/aggregated/build.sh
// and `make build` first (or set KUBE_APISERVER_BIN, KUBECTL_BIN, ETCD_BIN,
// MPIJOB_APISERVER_BIN); the harness is in ./cluster.
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
		if code, body := get(t, hc, c.URL+path); code != http.StatusOK || body != want {
			t.Errorf("GET %s = %d %q, want 200 %q", path, code, body, want)
		}
	}
	_, body := get(t, hc, c.URL+"/version")
	var v struct{ GitVersion string }
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.GitVersion != kubeVersion {
		t.Errorf("/version = %s (%v), want gitVersion %s", body, err, kubeVersion)
	}

	// kubectl version: both sides v1.37.2, so no skew warning.
	cmd := c.KubectlCmd(ctx, cluster.Admin, "version", "-o", "json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl version: %v: %s", err, stderr.String())
	}
	var versions struct {
		ClientVersion struct{ GitVersion string }
		ServerVersion struct{ GitVersion string }
	}
	if err := json.Unmarshal(out, &versions); err != nil {
		t.Fatalf("kubectl version -o json: %v\n%s", err, out)
	}
	if versions.ClientVersion.GitVersion != kubeVersion || versions.ServerVersion.GitVersion != kubeVersion {
		t.Errorf("kubectl version: client %s, server %s; want %s for both", versions.ClientVersion.GitVersion,
			versions.ServerVersion.GitVersion, kubeVersion)
	}
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("kubectl version warns: %s", stderr.String())
	}

	// Each kubeconfig authenticates as its user; RBAC gives nobody nothing.
	for _, user := range []string{cluster.Admin, "alice", "bob", "nobody", cluster.ServerUser} {
		out, err := c.Kubectl(ctx, user, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if err != nil {
			t.Errorf("whoami as %s: %v", user, err)
			continue
		}
		if out != user {
			t.Errorf("kubeconfig of %s authenticates as %q", user, out)
		}
	}
	if _, err := c.Kubectl(ctx, "nobody", "get", "namespaces"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("nobody listing namespaces: %v, want Forbidden", err)
	}
	if out, err := c.Kubectl(ctx, cluster.Admin, "get", "namespaces", "-o", "name"); err != nil ||
		!strings.Contains(out, "namespace/kube-system") {
		t.Errorf("admin listing namespaces: %v\n%s", err, out)
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

	out, err := c.Kubectl(ctx, "alice", "api-resources", "--api-group=kubeflow.org", "--no-headers")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(out)
	want := []string{"mpijobs", "mj,mpij", "kubeflow.org/v1alpha2", "true", "MPIJob"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("kubectl api-resources --api-group=kubeflow.org:\n%s\nwant the fields %q", out, want)
	}

	// A create and a read back through kube-apiserver, as admin.
	if err := c.CreateNamespace(ctx, "kube-test"); err != nil {
		t.Fatal(err)
	}
	seed, err := os.Open("../../artifacts/mpijobs/mpi-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	if out, err := c.KubectlStdin(ctx, cluster.Admin, seed, "create", "-f", "-"); err != nil ||
		strings.TrimSpace(out) != "mpijob.kubeflow.org/mpi-test created" {
		t.Fatalf("kubectl create -f mpi-test.yaml: %v\n%s", err, out)
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
	plain, err := s.HTTPClient(cluster.KeyPair{})
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

func get(t *testing.T, hc *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
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
	out, err := c.Kubectl(ctx, "bob", "api-resources", "--api-group=kubeflow.org", "-o", "name")
	if err != nil || strings.TrimSpace(out) != "mpijobs.kubeflow.org" {
		t.Errorf("kubectl api-resources --api-group=kubeflow.org -o name: %v\n%s", err, out)
	}
}
