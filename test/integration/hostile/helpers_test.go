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

// Package hostile sends a real server the input a careless or hostile client
// can send, and checks each answer against the one kube-apiserver v1.37
// (k8s.io/apiserver v0.37.2) gives for a built-in type: the same code, never
// a 500, and on a refusal a store that is exactly as before (the same list
// resourceVersion and content, and the same etcd keys, values and revision).
package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

const (
	groupVersionPath = "/apis/kubeflow.org/v1alpha2"
	kib              = 1024
	mib              = 1024 * kib
)

type obj = harness.Object

type env struct {
	s    *inprocess.Server
	http *http.Client
	etcd *clientv3.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := inprocess.Start(t, func(o *server.Options) {
		// No compaction during the test: the compactor writes to etcd, which
		// would move the revision the "store unchanged" checks compare.
		o.Etcd.StorageConfig.CompactionInterval = 0
	})
	hc, err := s.Admin.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	return &env{s: s, http: hc, etcd: s.EtcdClient(t)}
}

// do sends body (bytes as is, anything else as JSON) with the admin token.
func (e *env) do(t testing.TB, method, path string, body interface{}) harness.Response {
	t.Helper()
	return harness.SendForTest(t, e.http, harness.Request{Method: method, URL: e.s.URL + path, Body: body, Token: e.s.Admin.Token})
}

func nsPath(ns string) string        { return groupVersionPath + "/namespaces/" + ns + "/mpijobs" }
func objPath(ns, name string) string { return nsPath(ns) + "/" + name }

// --- the store ------------------------------------------------------------------

// store is what a refusal must leave as it was: the raw LIST of every MPIJob
// (its resourceVersion and items, byte for byte) and etcd itself (its
// revision and every key under /registry/ with its value and mod revision).
type store struct {
	listRV    string
	listItems string
	etcdRev   int64
	etcdKVs   string
}

func (e *env) snapshot(t testing.TB) store {
	t.Helper()
	r := e.do(t, "GET", groupVersionPath+"/mpijobs", nil)
	if r.Code != http.StatusOK {
		t.Fatalf("list: %s", r)
	}
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatalf("list: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := e.etcd.Get(ctx, "/registry/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("etcd range /registry/: %v", err)
	}
	var kvs strings.Builder
	for _, kv := range resp.Kvs {
		fmt.Fprintf(&kvs, "%s@%d/%d=%x\n", kv.Key, kv.CreateRevision, kv.ModRevision, kv.Value)
	}
	return store{listRV: list.Metadata.ResourceVersion, listItems: string(list.Items),
		etcdRev: resp.Header.Revision, etcdKVs: kvs.String()}
}

// expectUnchanged fails unless the store is exactly as before.
func (e *env) expectUnchanged(t testing.TB, before store) {
	t.Helper()
	after := e.snapshot(t)
	if after.listRV != before.listRV {
		t.Errorf("list resourceVersion %s, was %s: something was written", after.listRV, before.listRV)
	}
	if after.etcdRev != before.etcdRev {
		t.Errorf("etcd revision %d, was %d: something was written", after.etcdRev, before.etcdRev)
	}
	if after.listItems != before.listItems {
		t.Errorf("list content changed:\nbefore %.1500s\nafter  %.1500s", before.listItems, after.listItems)
	}
	if after.etcdKVs != before.etcdKVs {
		t.Errorf("etcd content changed:\nbefore %.1500s\nafter  %.1500s", before.etcdKVs, after.etcdKVs)
	}
}

// --- objects ---------------------------------------------------------------------

func metadata(o obj) obj { return o["metadata"].(obj) }

// workerContainer is spec.mpiReplicaSpecs.Worker.template.spec.containers[0].
func workerContainer(o obj) obj {
	spec := o["spec"].(obj)["mpiReplicaSpecs"].(obj)["Worker"].(obj)["template"].(obj)["spec"].(obj)
	return spec["containers"].([]interface{})[0].(obj)
}

func mustJSON(t testing.TB, v interface{}) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
