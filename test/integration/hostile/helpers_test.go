// Package hostile sends a real server the input a careless or hostile client
// can send, and checks each answer against the one kube-apiserver v1.37
// (k8s.io/apiserver v0.37.2) gives for a built-in type: the same code, never
// a 500, and on a refusal a store that is exactly as before (the same list
// resourceVersion and content, and the same etcd keys, values and revision).
package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/test/framework"
)

const (
	groupVersionPath = "/apis/kubeflow.org/v1alpha2"
	kib              = 1024
	mib              = 1024 * kib
)

type obj = map[string]interface{}

type env struct {
	s    *framework.Server
	http *http.Client
	etcd *clientv3.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := framework.Start(t, func(o *server.Options) {
		// No compaction during the test: the compactor writes to etcd, which
		// would move the revision the "store unchanged" checks compare.
		o.Etcd.StorageConfig.CompactionInterval = 0
	})
	tlsConfig, err := rest.TLSConfigFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		s: s,
		http: &http.Client{Timeout: 60 * time.Second,
			Transport: &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true}},
		etcd: s.EtcdClient(t),
	}
}

type response struct {
	Code int
	Body []byte
	req  string
}

func (r response) String() string {
	b := string(r.Body)
	if len(b) > 1500 {
		b = b[:1500] + "...(truncated)"
	}
	return fmt.Sprintf("%s -> %d %s", r.req, r.Code, b)
}

// do sends body (bytes as is, anything else as JSON) with the admin token.
func (e *env) do(t testing.TB, method, path string, body interface{}) response {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	hr, err := http.NewRequest(method, e.s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if data != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("Authorization", "Bearer "+e.s.Token)
	resp, err := e.http.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return response{Code: resp.StatusCode, Body: out, req: method + " " + path}
}

func nsPath(ns string) string        { return groupVersionPath + "/namespaces/" + ns + "/mpijobs" }
func objPath(ns, name string) string { return nsPath(ns) + "/" + name }

// expectStatus checks the code, that the body is a failure Status with that
// code and reason, and that its message contains each of contains.
func expectStatus(t testing.TB, r response, code int, reason metav1.StatusReason, contains ...string) metav1.Status {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want HTTP %d, got %s", code, r)
	}
	var s metav1.Status
	if err := json.Unmarshal(r.Body, &s); err != nil || s.Kind != "Status" {
		t.Fatalf("%s: body is not a Status (%v): %s", r.req, err, r)
	}
	if s.Status != metav1.StatusFailure || int(s.Code) != code || s.Reason != reason {
		t.Errorf("%s: status %q code %d reason %q, want Failure %d %q (message %q)", r.req, s.Status, s.Code, s.Reason, code, reason, s.Message)
	}
	for _, c := range contains {
		if !strings.Contains(s.Message, c) {
			t.Errorf("%s: message %q does not contain %q", r.req, s.Message, c)
		}
	}
	return s
}

// expectInvalid checks a 422 Invalid naming field in the message and a cause.
func expectInvalid(t testing.TB, r response, field string, contains ...string) {
	t.Helper()
	s := expectStatus(t, r, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, append([]string{field}, contains...)...)
	found := false
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			found = found || c.Field == field
		}
	}
	if !found {
		t.Errorf("%s: no cause for field %s: %+v", r.req, field, s.Details)
	}
}

func expectCode(t testing.TB, r response, code int) obj {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want HTTP %d, got %s", code, r)
	}
	var o obj
	if err := json.Unmarshal(r.Body, &o); err != nil {
		t.Fatalf("%s: body is not a JSON object: %v", r.req, err)
	}
	return o
}

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

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// job is the seed object artifacts/mpijobs/mpi-test.yaml named ns/name.
func job(t testing.TB, ns, name string) obj {
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
	md := o["metadata"].(obj)
	md["name"], md["namespace"] = name, ns
	return o
}

func metadata(o obj) obj { return o["metadata"].(obj) }

// workerContainer is spec.mpiReplicaSpecs.Worker.template.spec.containers[0].
func workerContainer(o obj) obj {
	spec := o["spec"].(obj)["mpiReplicaSpecs"].(obj)["Worker"].(obj)["template"].(obj)["spec"].(obj)
	return spec["containers"].([]interface{})[0].(obj)
}

// bigJob is a valid job whose JSON is size bytes (±1 KiB): the Worker
// container gets as many 1000-byte args as it takes.
func bigJob(t testing.TB, ns, name string, size int) obj {
	t.Helper()
	o := job(t, ns, name)
	base, _ := json.Marshal(o)
	arg := strings.Repeat("a", 1000)
	n := (size - len(base)) / (len(arg) + 3)
	args := make([]interface{}, n)
	for i := range args {
		args[i] = arg
	}
	workerContainer(o)["args"] = args
	data, _ := json.Marshal(o)
	if d := len(data) - size; d > kib || d < -kib {
		t.Fatalf("bigJob: %d bytes, want %d", len(data), size)
	}
	return o
}

func mustJSON(t testing.TB, v interface{}) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
