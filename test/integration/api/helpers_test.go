// Package api tests the HTTP API of mpijob-apiserver as a user sees it: a
// real server over HTTPS with a real embedded etcd, driven with raw HTTP so
// that status codes, headers and bodies are the ones on the wire, and etcd
// read directly to prove what was (or was not) written.
package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/mpijob/mpijob-apiserver/test/framework"
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
type obj = map[string]interface{}

// env is a running server with a raw HTTPS client and a raw etcd client.
type env struct {
	s    *framework.Server
	http *http.Client
	etcd *clientv3.Client
}

func newEnv(t *testing.T, s *framework.Server) *env {
	t.Helper()
	tlsConfig, err := rest.TLSConfigFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{s: s, http: httpClient(tlsConfig)}
	e.etcd, err = clientv3.New(clientv3.Config{
		Endpoints:   []string{"unix://" + filepath.Join(s.DataDir, "etcd-client.sock")},
		DialTimeout: 10 * time.Second,
		Logger:      nil,
	})
	if err != nil {
		t.Fatalf("connecting to the embedded etcd: %v", err)
	}
	t.Cleanup(func() { _ = e.etcd.Close() })
	return e
}

func httpClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true},
	}
}

// response is what came back on the wire.
type response struct {
	Code   int
	Header http.Header
	Body   []byte
	req    string
}

func (r response) String() string {
	body := string(r.Body)
	if len(body) > 2000 {
		body = body[:2000] + "...(truncated)"
	}
	return fmt.Sprintf("%s -> %d %s", r.req, r.Code, body)
}

// req describes one HTTP request.
type req struct {
	method      string
	path        string // with the query
	body        interface{}
	contentType string
	accept      string
	token       *string // nil: the admin token; "": none
	header      map[string]string
}

// do sends r with the admin token unless r.token says otherwise. A body that
// is a []byte or string is sent as is, anything else as JSON.
func (e *env) do(t testing.TB, r req) response {
	t.Helper()
	return doWith(t, e.http, e.s.URL, e.s.Token, r)
}

func doWith(t testing.TB, client *http.Client, baseURL, adminToken string, r req) response {
	t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	hr, err := http.NewRequest(r.method, baseURL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		ct := r.contentType
		if ct == "" {
			ct = contentJSON
		}
		hr.Header.Set("Content-Type", ct)
	}
	accept := r.accept
	if accept == "" {
		accept = contentJSON
	}
	hr.Header.Set("Accept", accept)
	token := adminToken
	if r.token != nil {
		token = *r.token
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", r.method, r.path, err)
	}
	return response{Code: resp.StatusCode, Header: resp.Header, Body: data, req: r.method + " " + r.path}
}

func strptr(s string) *string { return &s }

// expect fails the test unless the response has the code.
func expect(t testing.TB, r response, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want HTTP %d, got %s", code, r)
	}
}

// object decodes a JSON object body.
func (r response) object(t testing.TB) obj {
	t.Helper()
	var o obj
	if err := json.Unmarshal(r.Body, &o); err != nil {
		t.Fatalf("%s: body is not a JSON object: %v: %s", r.req, err, r.Body)
	}
	return o
}

// status decodes a metav1.Status body and checks it is one.
func (r response) status(t testing.TB) metav1.Status {
	t.Helper()
	var s metav1.Status
	if err := json.Unmarshal(r.Body, &s); err != nil {
		t.Fatalf("%s: body is not a Status: %v: %s", r.req, err, r.Body)
	}
	if s.Kind != "Status" || s.APIVersion != "v1" {
		t.Fatalf("%s: want a v1 Status, got kind %q apiVersion %q: %s", r.req, s.Kind, s.APIVersion, r.Body)
	}
	return s
}

// expectStatus checks the code, that the body is a Status with that code and
// reason, and that the message contains every one of contains.
func expectStatus(t testing.TB, r response, code int, reason metav1.StatusReason, contains ...string) metav1.Status {
	t.Helper()
	expect(t, r, code)
	s := r.status(t)
	if s.Status != metav1.StatusFailure {
		t.Errorf("%s: want status Failure, got %q", r.req, s.Status)
	}
	if int(s.Code) != code {
		t.Errorf("%s: Status.code %d, want %d", r.req, s.Code, code)
	}
	if s.Reason != reason {
		t.Errorf("%s: want reason %q, got %q (message %q)", r.req, reason, s.Reason, s.Message)
	}
	for _, c := range contains {
		if !strings.Contains(s.Message, c) {
			t.Errorf("%s: message %q does not contain %q", r.req, s.Message, c)
		}
	}
	return s
}

// warnings returns the texts of the Warning headers.
func (r response) warnings() []string {
	var out []string
	for _, w := range r.Header.Values("Warning") {
		out = append(out, w)
	}
	return out
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

// etcdKeys lists the names stored in the namespace.
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

// seedJob returns the seed object artifacts/mpijobs/mpi-test.yaml as JSON.
func seedJob(t testing.TB) obj {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "artifacts", "mpijobs", "mpi-test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var o obj
	if err := json.Unmarshal(j, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// seedList returns the seed's example list response.
func seedList(t testing.TB) obj {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "testdata", "mpijob-list-response.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o obj
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// seedStatus is the status of the seed's example list item.
func seedStatus(t testing.TB) obj {
	t.Helper()
	return seedList(t)["items"].([]interface{})[0].(obj)["status"].(obj)
}

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// job returns a copy of the seed named name in namespace ns.
func job(t testing.TB, ns, name string) obj {
	t.Helper()
	o := seedJob(t)
	md := o["metadata"].(obj)
	md["name"] = name
	md["namespace"] = ns
	return o
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
	r := e.do(t, req{method: "POST", path: nsPath(ns), body: o})
	expect(t, r, http.StatusCreated)
	return r.object(t)
}

// read GETs the object.
func (e *env) read(t testing.TB, ns, name string) obj {
	t.Helper()
	r := e.do(t, req{method: "GET", path: objPath(ns, name)})
	expect(t, r, http.StatusOK)
	return r.object(t)
}

func (e *env) expectMissing(t testing.TB, ns, name string) {
	t.Helper()
	r := e.do(t, req{method: "GET", path: objPath(ns, name)})
	if r.Code != http.StatusNotFound {
		t.Errorf("want %s/%s not to exist (404), got %s", ns, name, r)
	}
	e.expectNotInEtcd(t, ns, name)
}

// listNames GETs the namespace's list and returns the item names.
func (e *env) listNames(t testing.TB, ns, query string) []string {
	t.Helper()
	r := e.do(t, req{method: "GET", path: nsPath(ns) + query})
	expect(t, r, http.StatusOK)
	var names []string
	for _, it := range r.object(t)["items"].([]interface{}) {
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
