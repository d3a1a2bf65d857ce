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

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	informers "github.com/mpijob/mpijob-apiserver/pkg/generated/informers/externalversions"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const contentProtobuf = "application/vnd.kubernetes.protobuf"

// testProtobuf: the generated clientset speaks protobuf without being told
// to, and what it writes and reads is what a JSON client writes and reads;
// etcd still holds JSON.
func testProtobuf(t *testing.T, e *env) {
	const ns, name = "protobuf-ns", "mpi-test"
	ctx := context.Background()
	pbWire, pb := recordedClient(t, e, "")
	jsonWire, js := recordedClient(t, e, contentJSON)
	pbJobs, jsJobs := pb.KubeflowV1alpha2().MPIJobs(ns), js.KubeflowV1alpha2().MPIJobs(ns)

	seed := typedJob(t, harness.SeedJobForTest(t, ns, name))
	created, err := pbJobs.Create(ctx, seed, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create over protobuf: %v", err)
	}
	pbWire.expectLast(t, "POST", contentProtobuf, contentProtobuf)
	if d := diff(expectedSpec(t), jsonObject(t, created)["spec"]); d != "" {
		t.Errorf("create response spec differs from the seed's (-want +got):\n%s", d)
	}

	t.Run("GetEqualsJSON", func(t *testing.T) {
		fromPB, err := pbJobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pbWire.expectLast(t, "GET", "", contentProtobuf)
		fromJSON, err := jsJobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		jsonWire.expectLast(t, "GET", "", contentJSON)
		if !apiequality.Semantic.DeepEqual(fromPB, fromJSON) {
			t.Errorf("protobuf and JSON GET differ (-json +protobuf):\n%s", diff(jsonObject(t, fromJSON), jsonObject(t, fromPB)))
		}
	})

	t.Run("UpdateStatusAndSpec", func(t *testing.T) {
		current, err := pbJobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seedStatusJSON := seedStatus(t)
		if err := json.Unmarshal([]byte(mustJSON(seedStatusJSON)), &current.Status); err != nil {
			t.Fatal(err)
		}
		updated, err := pbJobs.UpdateStatus(ctx, current, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("update status over protobuf: %v", err)
		}
		pbWire.expectLast(t, "PUT", contentProtobuf, contentProtobuf)
		*updated.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Replicas = 3
		if _, err := pbJobs.Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update over protobuf: %v", err)
		}
		pbWire.expectLast(t, "PUT", contentProtobuf, contentProtobuf)

		// As a JSON client reads it: the status as written, the new spec.
		got := e.read(t, ns, name)
		if d := diff(seedStatusJSON, got["status"]); d != "" {
			t.Errorf("status written over protobuf, read as JSON (-want +got):\n%s", d)
		}
		want := expectedSpec(t)
		set(t, want, float64(3), "mpiReplicaSpecs", "Worker", "replicas")
		if d := diff(want, got["spec"]); d != "" {
			t.Errorf("spec written over protobuf, read as JSON (-want +got):\n%s", d)
		}
		fromPB, err := pbJobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Typed clients clear apiVersion and kind, in JSON as in protobuf.
		delete(got, "apiVersion")
		delete(got, "kind")
		if d := diff(got, jsonObject(t, fromPB)); d != "" {
			t.Errorf("protobuf GET differs from JSON GET (-json +protobuf):\n%s", d)
		}
	})

	t.Run("StoredAsJSON", func(t *testing.T) {
		raw := e.etcdGet(t, ns, name)
		if !bytes.HasPrefix(raw, []byte("{")) || !json.Valid(raw) {
			t.Errorf("etcd value of %s is not JSON: %q", etcdKey(ns, name), truncate(raw))
		}
	})

	// Protobuf has no empty list apart from an absent one: a JSON client's
	// `conditions: []` reads as nil over protobuf, and the same object written
	// back over protobuf is stored with `conditions: null` (the field has no
	// omitempty). Everything else stays.
	t.Run("EmptyListWrittenBackIsNull", func(t *testing.T) {
		const name = "empty-conditions"
		e.create(t, harness.SeedJobForTest(t, ns, name))
		cur := e.read(t, ns, name)
		cur["status"] = obj{"conditions": []interface{}{}}
		harness.ExpectCode(t, e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name) + "/status", Body: cur}), http.StatusOK)
		if c, ok := get(e.etcdObject(t, ns, name), "status", "conditions"); !ok || c == nil {
			t.Fatalf("a JSON client's conditions: [] is stored as %v", c)
		}
		fromPB, err := pbJobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if fromPB.Status.Conditions != nil {
			t.Errorf("conditions over protobuf = %#v, want nil", fromPB.Status.Conditions)
		}
		if _, err := pbJobs.UpdateStatus(ctx, fromPB, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		stored := e.etcdObject(t, ns, name)
		if c, ok := get(stored, "status", "conditions"); !ok || c != nil {
			t.Errorf("written back over protobuf, conditions are stored as %v (present %v), want null", c, ok)
		}
		if d := diff(expectedSpec(t), stored["spec"]); d != "" {
			t.Errorf("spec changed by the protobuf status update (-want +got):\n%s", d)
		}
		harness.ExpectCode(t, e.do(t, harness.Request{Method: "DELETE", URL: objPath(ns, name)}), http.StatusOK)
	})

	t.Run("RawBodies", func(t *testing.T) {
		asJSON := e.do(t, harness.Request{Method: "GET", URL: objPath(ns, name)})
		harness.ExpectCode(t, asJSON, http.StatusOK)
		asPB := e.do(t, harness.Request{Method: "GET", URL: objPath(ns, name), Accept: contentProtobuf})
		harness.ExpectCode(t, asPB, http.StatusOK)
		if ct := asPB.Header.Get("Content-Type"); ct != contentProtobuf {
			t.Errorf("Content-Type = %q, want %q", ct, contentProtobuf)
		}
		// Kubernetes' protobuf envelope starts with this magic number.
		if !bytes.HasPrefix(asPB.Body, []byte("k8s\x00")) {
			t.Errorf("protobuf body does not start with the k8s magic: %q", truncate(asPB.Body))
		}
		t.Logf("the seed object with its status: %d bytes JSON, %d bytes protobuf", len(asJSON.Body), len(asPB.Body))
		if len(asPB.Body) >= len(asJSON.Body) {
			t.Errorf("protobuf (%d bytes) is not smaller than JSON (%d bytes)", len(asPB.Body), len(asJSON.Body))
		}
	})

	t.Run("ListAndWatch", func(t *testing.T) {
		list, err := pbJobs.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pbWire.expectLast(t, "GET", "", contentProtobuf)
		if len(list.Items) != 1 || list.Items[0].Name != name {
			t.Fatalf("list over protobuf: %d items, want %s", len(list.Items), name)
		}

		w, err := pbJobs.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		pbWire.expectLast(t, "GET", "", contentProtobuf)

		// Writes of a JSON client arrive as protobuf events.
		second := typedJob(t, harness.SeedJobForTest(t, ns, "second"))
		if _, err := jsJobs.Create(ctx, second, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		expectEvent(t, w, watch.Added, "second", 2)
		if err := jsJobs.Delete(ctx, "second", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		expectEvent(t, w, watch.Deleted, "second", 2)
	})

	t.Run("Informer", func(t *testing.T) {
		factory := informers.NewSharedInformerFactoryWithOptions(pb, 0, informers.WithNamespace(ns))
		informer := factory.Kubeflow().V1alpha2().MPIJobs()
		informer.Informer()
		stop := make(chan struct{})
		defer func() { close(stop); factory.Shutdown() }()
		factory.Start(stop)
		syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if !cache.WaitForCacheSync(syncCtx.Done(), informer.Informer().HasSynced) {
			t.Fatal("informer over protobuf did not sync")
		}
		cached, err := informer.Lister().MPIJobs(ns).Get(name)
		if err != nil {
			t.Fatal(err)
		}
		fromJSON, err := jsJobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !apiequality.Semantic.DeepEqual(cached, fromJSON) {
			t.Errorf("informer cache differs from a JSON GET (-json +cache):\n%s", diff(jsonObject(t, fromJSON), jsonObject(t, cached)))
		}
		pbWire.expectAll(t, contentProtobuf)
	})
}

// expectEvent waits for the next event of w and checks its type, name and
// the number of workers, which only survive if the object was decoded.
func expectEvent(t *testing.T, w watch.Interface, typ watch.EventType, name string, workers int32) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch over protobuf closed")
		}
		j, isJob := ev.Object.(*v1alpha2.MPIJob)
		if ev.Type != typ || !isJob || j.Name != name {
			t.Fatalf("event %s %T, want %s of MPIJob %s", ev.Type, ev.Object, typ, name)
		}
		if got := *j.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Replicas; got != workers {
			t.Errorf("%s event: %d workers, want %d", typ, got, workers)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s event for %s over protobuf in 30s", typ, name)
	}
}

// recordedClient is a generated clientset on the admin config, with the
// content type set (or left to the clientset if empty), that records the
// media types of every exchange.
func recordedClient(t *testing.T, e *env, contentType string) (*wireLog, clientset.Interface) {
	t.Helper()
	cfg := rest.CopyConfig(e.s.Admin.Config)
	cfg.ContentType = contentType
	log := &wireLog{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return log.wrap(rt) })
	c, err := clientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return log, c
}

// wireLog remembers the media types of requests and responses.
type wireLog struct {
	mu        sync.Mutex
	exchanges []exchange
}

type exchange struct {
	method, url              string
	requestType, accept      string
	responseType, fullHeader string
}

func (l *wireLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err != nil {
			return resp, err
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.exchanges = append(l.exchanges, exchange{
			method: r.Method, url: r.URL.String(),
			requestType: mediaType(r.Header.Get("Content-Type")), accept: r.Header.Get("Accept"),
			responseType: mediaType(resp.Header.Get("Content-Type")), fullHeader: resp.Header.Get("Content-Type"),
		})
		return resp, nil
	})
}

// expectLast checks the last exchange: its method, the request body's media
// type (none if requestType is "") and the response's.
func (l *wireLog) expectLast(t *testing.T, method, requestType, responseType string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.exchanges) == 0 {
		t.Fatal("no request was sent")
	}
	x := l.exchanges[len(l.exchanges)-1]
	if x.method != method || x.requestType != requestType || x.responseType != responseType {
		t.Errorf("%s %s: sent %q (Accept %q), got %q; want %s sending %q, getting %q",
			x.method, x.url, x.requestType, x.accept, x.fullHeader, method, requestType, responseType)
	}
}

// expectAll checks that every response so far was in responseType.
func (l *wireLog) expectAll(t *testing.T, responseType string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.exchanges {
		if x.responseType != responseType {
			t.Errorf("%s %s: response %q, want %q", x.method, x.url, x.fullHeader, responseType)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// mediaType drops the parameters (";stream=watch").
func mediaType(header string) string {
	if header == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return strings.TrimSpace(strings.SplitN(header, ";", 2)[0])
	}
	return mt
}

// typedJob turns a JSON object into an MPIJob.
func typedJob(t *testing.T, o obj) *v1alpha2.MPIJob {
	t.Helper()
	var j v1alpha2.MPIJob
	if err := json.Unmarshal([]byte(mustJSON(o)), &j); err != nil {
		t.Fatal(err)
	}
	return &j
}

// jsonObject renders a typed object as the JSON a client would send.
func jsonObject(t *testing.T, v interface{}) obj {
	t.Helper()
	var o obj
	if err := json.Unmarshal([]byte(mustJSON(v)), &o); err != nil {
		t.Fatal(err)
	}
	return o
}
