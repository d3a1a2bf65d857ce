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

// Package api tests the HTTP API of mpijob-apiserver as a user sees it: a
// real server over HTTPS with a real embedded etcd, driven with raw HTTP so
// that status codes, headers and bodies are the ones on the wire, and etcd
// read directly to prove what was (or was not) written.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

const (
	groupVersionPath = "/apis/kubeflow.org/v1alpha2"
	etcdKeyPrefix    = "/registry/kubeflow.org/mpijobs/"

	contentJSON  = "application/json"
	contentMerge = "application/merge-patch+json"
	contentJSONP = "application/json-patch+json"
	contentSMP   = "application/strategic-merge-patch+json"
	contentApply = "application/apply-patch+yaml"
)

// obj is a JSON object as it is on the wire.
type obj = harness.Object

// env is a running server with a raw HTTPS client and a raw etcd client.
type env struct {
	s    *inprocess.Server
	http *http.Client
	etcd *clientv3.Client
}

func newEnv(t *testing.T, s *inprocess.Server) *env {
	t.Helper()
	hc, err := s.Admin.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	return &env{s: s, http: hc, etcd: s.EtcdClient(t)}
}

// do sends r to the server (r.URL is the path and query) with the admin
// token unless r.Token is another.
func (e *env) do(t testing.TB, r harness.Request) harness.Response {
	t.Helper()
	if r.Token == "" {
		r.Token = e.s.Admin.Token
	}
	return e.doAnonymous(t, r)
}

// doAnonymous sends r to the server (r.URL is the path and query) without
// the admin token: with no credentials unless r carries some.
func (e *env) doAnonymous(t testing.TB, r harness.Request) harness.Response {
	t.Helper()
	r.URL = e.s.URL + r.URL
	return harness.SendForTest(t, e.http, r)
}

func nsPath(ns string) string { return groupVersionPath + "/namespaces/" + ns + "/mpijobs" }

func objPath(ns, name string) string { return nsPath(ns) + "/" + name }

// --- etcd -------------------------------------------------------------------

func etcdKey(ns, name string) string { return etcdKeyPrefix + ns + "/" + name }

// etcdGet returns the raw bytes of the key, nil if it does not exist.
func (e *env) etcdGet(t testing.TB, ns, name string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := e.etcd.Get(ctx, etcdKey(ns, name))
	if err != nil {
		t.Fatalf("etcd get %s: %v", etcdKey(ns, name), err)
	}
	if len(resp.Kvs) == 0 {
		return nil
	}
	return resp.Kvs[0].Value
}

// etcdNames lists the names stored in the namespace.
func (e *env) etcdNames(t testing.TB, ns string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	prefix := etcdKeyPrefix + ns + "/"
	resp, err := e.etcd.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatalf("etcd list %s: %v", prefix, err)
	}
	var names []string
	for _, kv := range resp.Kvs {
		names = append(names, strings.TrimPrefix(string(kv.Key), prefix))
	}
	return names
}

// etcdObject decodes the stored JSON.
func (e *env) etcdObject(t testing.TB, ns, name string) obj {
	t.Helper()
	raw := e.etcdGet(t, ns, name)
	if raw == nil {
		t.Fatalf("etcd has no key %s", etcdKey(ns, name))
	}
	var o obj
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatalf("etcd value of %s is not JSON: %v: %q", etcdKey(ns, name), err, truncate(raw))
	}
	return o
}

func (e *env) expectNotInEtcd(t testing.TB, ns, name string) {
	t.Helper()
	if raw := e.etcdGet(t, ns, name); raw != nil {
		t.Errorf("etcd has %s, want nothing written: %s", etcdKey(ns, name), truncate(raw))
	}
}

// expectEtcdUnchanged checks the stored bytes are exactly before.
func (e *env) expectEtcdUnchanged(t testing.TB, ns, name string, before []byte) {
	t.Helper()
	after := e.etcdGet(t, ns, name)
	if !bytes.Equal(before, after) {
		t.Errorf("etcd value of %s changed, want nothing written:\nbefore %s\nafter  %s", etcdKey(ns, name), truncate(before), truncate(after))
	}
}

func truncate(b []byte) string {
	if len(b) > 1500 {
		return string(b[:1500]) + "...(truncated)"
	}
	return string(b)
}

// --- objects ------------------------------------------------------------------

// seedJob is the seed's MPIJob as the file has it.
func seedJob(t testing.TB) obj {
	t.Helper()
	o, err := harness.SeedJob()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// seedList is the seed's example list response.
func seedList(t testing.TB) obj {
	t.Helper()
	o, err := harness.SeedList()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// seedStatus is the status of the seed's example list item.
func seedStatus(t testing.TB) obj {
	t.Helper()
	return seedList(t)["items"].([]interface{})[0].(obj)["status"].(obj)
}

// deepCopy copies a JSON value.
func deepCopy(o obj) obj {
	data, err := json.Marshal(o)
	if err != nil {
		panic(err)
	}
	var out obj
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

// get walks a JSON value along the keys; ints index arrays. It returns
// (nil, false) when a step is missing.
func get(v interface{}, path ...interface{}) (interface{}, bool) {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(obj)
			if !ok {
				return nil, false
			}
			v, ok = m[k]
			if !ok {
				return nil, false
			}
		case int:
			a, ok := v.([]interface{})
			if !ok || k >= len(a) {
				return nil, false
			}
			v = a[k]
		default:
			panic(fmt.Sprintf("bad path element %v", p))
		}
	}
	return v, true
}

func mustGet(t testing.TB, v interface{}, path ...interface{}) interface{} {
	t.Helper()
	out, ok := get(v, path...)
	if !ok {
		t.Fatalf("no %v in %v", path, v)
	}
	return out
}

// set sets the value at path (the parents must exist).
func set(t testing.TB, v interface{}, value interface{}, path ...interface{}) {
	t.Helper()
	parent := mustGet(t, v, path[:len(path)-1]...)
	switch k := path[len(path)-1].(type) {
	case string:
		parent.(obj)[k] = value
	case int:
		parent.([]interface{})[k] = value
	}
}

func del(t testing.TB, v interface{}, path ...interface{}) {
	t.Helper()
	delete(mustGet(t, v, path[:len(path)-1]...).(obj), path[len(path)-1].(string))
}

// metaString returns metadata.<field> as a string.
func metaString(t testing.TB, o obj, field string) string {
	t.Helper()
	s, _ := mustGet(t, o, "metadata", field).(string)
	return s
}

func generation(t testing.TB, o obj) int64 {
	t.Helper()
	g, ok := mustGet(t, o, "metadata", "generation").(float64)
	if !ok {
		t.Fatalf("metadata.generation is not a number: %v", o["metadata"])
	}
	return int64(g)
}

// expectedSpec is the seed's spec as kube-apiserver returns a typed object:
// resource quantities in canonical string form and an empty pod-template
// metadata; nothing else added.
func expectedSpec(t testing.TB) obj {
	t.Helper()
	spec := deepCopy(seedJob(t))["spec"].(obj)
	for _, rt := range []string{"Launcher", "Worker"} {
		tmpl := mustGet(t, spec, "mpiReplicaSpecs", rt, "template").(obj)
		if _, ok := tmpl["metadata"]; !ok {
			tmpl["metadata"] = obj{}
		}
		for _, c := range mustGet(t, tmpl, "spec", "containers").([]interface{}) {
			res, ok := c.(obj)["resources"].(obj)
			if !ok {
				continue
			}
			for _, kind := range []string{"limits", "requests"} {
				rl, ok := res[kind].(obj)
				if !ok {
					continue
				}
				for name, q := range rl {
					canonical := resource.MustParse(fmt.Sprint(q))
					rl[name] = canonical.String()
				}
			}
		}
	}
	return spec
}

// diff returns a readable difference of two JSON values ("" when equal).
func diff(want, got interface{}) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return cmp.Diff(want, got)
}

// create POSTs o and returns the created object.
func (e *env) create(t testing.TB, o obj) obj {
	t.Helper()
	ns := o["metadata"].(obj)["namespace"].(string)
	return harness.ExpectObject(t, e.do(t, harness.Request{Method: "POST", URL: nsPath(ns), Body: o}), http.StatusCreated)
}

// read GETs the object.
func (e *env) read(t testing.TB, ns, name string) obj {
	t.Helper()
	return harness.ExpectObject(t, e.do(t, harness.Request{Method: "GET", URL: objPath(ns, name)}), http.StatusOK)
}

func (e *env) expectMissing(t testing.TB, ns, name string) {
	t.Helper()
	r := e.do(t, harness.Request{Method: "GET", URL: objPath(ns, name)})
	if r.Code != http.StatusNotFound {
		t.Errorf("want %s/%s not to exist (404), got %s", ns, name, r)
	}
	e.expectNotInEtcd(t, ns, name)
}

// listNames GETs the namespace's list and returns the item names.
func (e *env) listNames(t testing.TB, ns, query string) []string {
	t.Helper()
	r := e.do(t, harness.Request{Method: "GET", URL: nsPath(ns) + query})
	harness.ExpectCode(t, r, http.StatusOK)
	var names []string
	for _, it := range r.Object(t)["items"].([]interface{}) {
		names = append(names, it.(obj)["metadata"].(obj)["name"].(string))
	}
	return names
}

// managedFieldsOf returns the managedFields entries of manager.
func managedFieldsOf(t testing.TB, o obj, manager string) []obj {
	t.Helper()
	var out []obj
	mf, _ := get(o, "metadata", "managedFields")
	list, _ := mf.([]interface{})
	for _, m := range list {
		if m.(obj)["manager"] == manager {
			out = append(out, m.(obj))
		}
	}
	return out
}

func mustJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}
