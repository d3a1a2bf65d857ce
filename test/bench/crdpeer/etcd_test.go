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
