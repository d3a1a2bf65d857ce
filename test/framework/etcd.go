package framework

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apiserver/pkg/storage/etcd3"
)

// compactRevKey is the key through which kube-apiserver's etcd compactor
// (k8s.io/apiserver/pkg/storage/etcd3/compact.go) records each compaction;
// the API server learns of compactions by watching it.
const compactRevKey = "compact_rev_key"

// EtcdEndpoint is the embedded etcd's client endpoint (a unix socket in the
// data dir).
func (s *Server) EtcdEndpoint() string {
	return "unix://" + filepath.Join(s.DataDir, "etcd-client.sock")
}

// EtcdClient connects to the server's embedded etcd; the client is closed at
// the test's cleanup.
func (s *Server) EtcdClient(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.EtcdEndpoint()}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("connecting to the embedded etcd at %s: %v", s.EtcdEndpoint(), err)
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
	t.Fatalf("compacting etcd: lost the compact_rev_key race 5 times")
	return 0
}
