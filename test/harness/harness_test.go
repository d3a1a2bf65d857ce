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

package harness

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestEtcd starts a plain member, a TLS member and a 3-member cluster from
// the one etcd program, writes through each, and restarts a killed member.
func TestEtcd(t *testing.T) {
	plain := StartEtcdForTest(t, EtcdOptions{})
	pki, err := NewEtcdPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	secure := StartEtcdForTest(t, EtcdOptions{Name: "secure", TLS: pki})
	cluster := StartEtcdClusterForTest(t, 3, EtcdOptions{})
	for name, members := range map[string][]*Etcd{"plain": {plain}, "tls": {secure}, "cluster": cluster} {
		c := EtcdClientForTest(t, members...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := c.Put(ctx, "/k", name); err != nil {
			t.Errorf("%s: put: %v", name, err)
		}
		cancel()
	}
	if got := EtcdServerFlags(secure); len(got) != 4 {
		t.Errorf("TLS server flags %q, want --etcd-servers and three file flags", got)
	}

	if err := cluster[1].Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cluster[1].Restart(context.Background()); err != nil {
		t.Fatalf("restarting a killed member: %v", err)
	}
	c := EtcdClientForTest(t, cluster[1])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, "/k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "cluster" {
		t.Errorf("the restarted member reads %v (%v), want /k=cluster", resp, err)
	}
}

// TestServer starts a standalone server, checks the admin kubeconfig and a
// refused request's Status, and stops it gracefully.
func TestServer(t *testing.T) {
	s := StartServerForTest(t, ServerOptions{})
	if s.Admin == nil || s.Admin.Config.Host != s.URL || s.Admin.Token == "" {
		t.Fatalf("admin kubeconfig %+v, want one for %s with a token", s.Admin, s.URL)
	}
	if _, err := os.Stat(s.Layout().LockFile()); err != nil {
		t.Errorf("the running server holds no lock file: %v", err)
	}
	hc, err := s.Admin.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	r := SendForTest(t, hc, Request{URL: s.URL + "/apis/kubeflow.org/v1alpha2/namespaces/default/mpijobs/none", Token: s.Admin.Token})
	ExpectStatus(t, r, http.StatusNotFound, metav1.StatusReasonNotFound, "none")
	r = SendForTest(t, hc, Request{URL: s.URL + "/apis/kubeflow.org/v1alpha2/mpijobs"})
	ExpectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)

	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, s.LogTail(20))
	}
	if code := s.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}
