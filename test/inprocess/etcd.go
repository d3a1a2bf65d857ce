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
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apiserver/pkg/storage/etcd3"
)

// compactRevKey is the key through which kube-apiserver's etcd compactor
// (k8s.io/apiserver/pkg/storage/etcd3/compact.go) records each compaction;
// the API server learns of compactions by watching it.
const compactRevKey = "compact_rev_key"

// EtcdClient connects to the server's embedded etcd; the client is closed at
// the test's cleanup.
func (s *Server) EtcdClient(t testing.TB) *clientv3.Client {
	t.Helper()
	endpoint := s.Layout().EtcdClientURL()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("connecting to the embedded etcd at %s: %v", endpoint, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// CompactEtcd compacts the embedded etcd at its current revision, the way
// kube-apiserver's own compactor does (etcd3.Compact: bump compact_rev_key,
// then compact), so the API server notices the compaction as it would in a
// cluster. It returns the compacted revision: every revision below it is gone.
func (s *Server) CompactEtcd(t testing.TB) int64 {
	t.Helper()
	c := s.EtcdClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for attempt := 0; attempt < 5; attempt++ {
		resp, err := c.Get(ctx, compactRevKey)
		if err != nil {
			t.Fatalf("reading %s: %v", compactRevKey, err)
		}
		var version int64
		if len(resp.Kvs) > 0 {
			version = resp.Kvs[0].Version
		}
		rev := resp.Header.Revision
		newVersion, _, compacted, err := etcd3.Compact(ctx, c, version, rev)
		if err != nil {
			t.Fatalf("compacting etcd at revision %d: %v", rev, err)
		}
		if newVersion == version+1 && compacted == rev {
			return rev
		}
		// The server's compactor bumped the key in between: read it again.
	}
	t.Fatalf("compacting etcd: lost the %s race 5 times", compactRevKey)
	return 0
}
