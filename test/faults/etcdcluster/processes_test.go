//go:build faults

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

package etcdcluster

import (
	"context"
	"testing"
	"time"

	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// The etcd cluster and the servers on it are test/harness's; what is here
// reads the cluster's state and gives each server its admin's clientset.

// replica is one mpijob-apiserver process on the shared etcd cluster.
type replica struct {
	*harness.Server
	client clientset.Interface
}

// startReplica starts a standalone server on the cluster with flags added;
// it is stopped when the test ends.
func startReplica(t *testing.T, name string, members []*harness.Etcd, args ...string) *replica {
	t.Helper()
	s := harness.StartServerForTest(t, harness.ServerOptions{Name: name, Etcd: members, Args: args})
	c, err := s.Admin.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	return &replica{Server: s, client: c}
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := harness.Poll(ctx, what, nil, 100*time.Millisecond, func(context.Context) (bool, error) { return ok(), nil }); err != nil {
		t.Fatalf("after %s: %v", timeout, err)
	}
}
