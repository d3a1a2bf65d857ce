package main

import (
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// startEtcd runs a one-member etcd (the repository's etcd program, as the
// benchmark runs it) serving plain HTTP on a loopback port, as the peer's
// --etcd-servers expects, and returns its client URL and a client; both
// stop at the test's cleanup.
func startEtcd(t *testing.T) (string, *clientv3.Client) {
	t.Helper()
	e := harness.StartEtcdForTest(t, harness.EtcdOptions{})
	return e.URL, harness.EtcdClientForTest(t, e)
}
