package main

import (
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mpijob/mpijob-apiserver/test/framework"
)

// startEtcd runs an in-process etcd member serving plain HTTP on a loopback
// port, as the peer's --etcd-servers expects, and returns its client URL and
// a client; both stop at the test's cleanup.
func startEtcd(t *testing.T) (string, *clientv3.Client) {
	t.Helper()
	endpoint := framework.StartPlainEtcd(t)
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return endpoint, c
}
