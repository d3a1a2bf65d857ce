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

package inprocess

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestServer: the admin clientset writes to the embedded etcd that
// EtcdClient reads, CompactEtcd removes the history below the revision it
// returns, and a server started again on the data dir has the object and
// the same admin token.
func TestServer(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client.KubeflowV1alpha2().MPIJobs("ns").Create(ctx, harness.NewMPIJob("ns", "a", 2), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	const key = "/registry/kubeflow.org/mpijobs/ns/a"
	c := s.EtcdClient(t)
	resp, err := c.Get(ctx, key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("the embedded etcd has %v (%v) under %s, want the created object", resp, err, key)
	}

	rev := s.CompactEtcd(t)
	if rev < resp.Header.Revision {
		t.Errorf("compacted at %d, before the revision %d read earlier", rev, resp.Header.Revision)
	}
	if _, err := c.Get(ctx, key, clientv3.WithRev(rev-1)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("a read at revision %d after compacting at %d: %v, want %v", rev-1, rev, err, rpctypes.ErrCompacted)
	}

	s.Stop()
	s2 := StartOn(t, s.DataDir)
	if s2.Admin.Token != s.Admin.Token {
		t.Errorf("the admin token changed across the restart")
	}
	if _, err := s2.Client.KubeflowV1alpha2().MPIJobs("ns").Get(ctx, "a", metav1.GetOptions{}); err != nil {
		t.Errorf("get after the restart: %v", err)
	}
}
