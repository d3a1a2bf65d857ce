package api

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/framework"
)

// startAfterValidate starts a server like framework.Start, but lets adjust
// change the options after Validate: for values the flags refuse, such as
// an embedded etcd limit below the API body limit.
func startAfterValidate(t *testing.T, adjust func(*server.Options)) *framework.Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "mj")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	o := server.NewOptions(io.Discard)
	o.DataDir = dir
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.SecureServing.Listener = ln
	o.SecureServing.BindPort = ln.Addr().(*net.TCPAddr).Port
	if err := o.Complete(); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	adjust(o)
	ctx, cancel := context.WithCancel(context.Background())
	running, err := o.Start(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = running.Wait()
	})
	s := &framework.Server{URL: running.URL, DataDir: dir, Token: running.AdminToken}
	s.Config, err = clientcmd.BuildConfigFromFlags("", running.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	s.Client, err = clientset.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		body, err := s.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		if err == nil && string(body) == "ok" {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v %s", err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEtcdLimitBelowBodyLimit: with an etcd that refuses requests the API
// accepts (etcd's stock 1.5 MiB), an object too large to store is the
// client's 413, never a 500, and nothing is written.
func TestEtcdLimitBelowBodyLimit(t *testing.T) {
	t.Run("OptionsRefuseIt", func(t *testing.T) {
		o := server.NewOptions(io.Discard)
		o.EmbeddedEtcd.MaxRequestBytes = 1536 * kib
		if errs := o.EmbeddedEtcd.Validate(); len(errs) == 0 {
			t.Errorf("an embedded etcd limit below the 3 MiB body limit was accepted")
		}
	})

	s := startAfterValidate(t, func(o *server.Options) { o.EmbeddedEtcd.MaxRequestBytes = 1536 * kib })
	e := newEnv(t, s)
	const ns = "etcd-limit"

	expectTooLarge := func(t *testing.T, r response) {
		t.Helper()
		if r.Code == http.StatusInternalServerError {
			t.Errorf("an object too large for etcd is a 500: %s", r)
			return
		}
		expectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, "too large")
	}

	t.Run("Create", func(t *testing.T) {
		// Above etcd's limit, below the etcd client's 2 MiB send limit; and
		// above both.
		for _, size := range []int{1700 * kib, 2500 * kib} {
			r := e.do(t, req{method: "POST", path: nsPath(ns), body: bigJob(t, ns, "big", size)})
			expectTooLarge(t, r)
			e.expectNotInEtcd(t, ns, "big")
		}
		// What fits is stored.
		e.create(t, bigJob(t, ns, "fits", 1000*kib))
	})

	e.create(t, job(t, ns, "small"))
	before := e.etcdGet(t, ns, "small")
	for _, size := range []int{1700 * kib, 2500 * kib} {
		big := bigJob(t, ns, "small", size)
		t.Run("Update", func(t *testing.T) {
			r := e.do(t, req{method: "PUT", path: objPath(ns, "small"), body: big})
			expectTooLarge(t, r)
			e.expectEtcdUnchanged(t, ns, "small", before)
		})
		t.Run("Patch", func(t *testing.T) {
			patch, _ := json.Marshal(obj{"spec": big["spec"]})
			r := e.do(t, req{method: "PATCH", path: objPath(ns, "small"), body: patch, contentType: contentMerge})
			expectTooLarge(t, r)
			e.expectEtcdUnchanged(t, ns, "small", before)
		})
		t.Run("Apply", func(t *testing.T) {
			r := e.do(t, req{method: "PATCH", path: objPath(ns, "small") + "?fieldManager=big&force=true", body: big, contentType: contentApply})
			expectTooLarge(t, r)
			e.expectEtcdUnchanged(t, ns, "small", before)
		})
	}
	// The server still works.
	r := e.do(t, req{method: "PATCH", path: objPath(ns, "small"), body: `{"spec":{"slotsPerWorker":2}}`, contentType: contentMerge})
	expect(t, r, http.StatusOK)
}
