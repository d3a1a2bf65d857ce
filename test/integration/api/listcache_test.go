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
	"context"
	"fmt"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// testListCache: LISTs are written from the cache of encoded objects, so a
// LIST after objects changed must show every change — a spec update, a
// status update, a delete, a delete and re-create under the same name — in
// JSON and in protobuf, each item equal to a GET of it (GETs never use the
// cache).
func testListCache(t *testing.T, e *env) {
	const ns = "listcache-ns"
	ctx := context.Background()
	_, pb := recordedClient(t, e, "")
	_, js := recordedClient(t, e, contentJSON)
	clients := map[string]clientset.Interface{"protobuf": pb, "JSON": js}
	jobs := pb.KubeflowV1alpha2().MPIJobs(ns)
	for i := 0; i < 5; i++ {
		if _, err := jobs.Create(ctx, typedJob(t, harness.SeedJobForTest(t, ns, fmt.Sprintf("job-%d", i))), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	expectListMatchesGets := func(t *testing.T, want int) map[string]v1alpha2.MPIJob {
		t.Helper()
		var byName map[string]v1alpha2.MPIJob
		for format, c := range clients {
			// Twice: the first LIST may fill the cache, the second reads it.
			for pass := 0; pass < 2; pass++ {
				list, err := c.KubeflowV1alpha2().MPIJobs(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					t.Fatalf("%s LIST: %v", format, err)
				}
				if len(list.Items) != want {
					t.Fatalf("%s LIST pass %d: %d items, want %d", format, pass, len(list.Items), want)
				}
				byName = map[string]v1alpha2.MPIJob{}
				for _, item := range list.Items {
					got, err := js.KubeflowV1alpha2().MPIJobs(ns).Get(ctx, item.Name, metav1.GetOptions{ResourceVersion: item.ResourceVersion})
					if err != nil {
						t.Fatal(err)
					}
					got.TypeMeta = item.TypeMeta
					if !apiequality.Semantic.DeepEqual(&item, got) {
						t.Fatalf("%s LIST pass %d: %s differs from its GET (-get +list):\n%s", format, pass, item.Name, diff(jsonObject(t, got), jsonObject(t, &item)))
					}
					byName[item.Name] = item
				}
			}
		}
		return byName
	}
	before := expectListMatchesGets(t, 5)

	j1 := before["job-1"]
	*j1.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Replicas = 7
	if _, err := jobs.Update(ctx, &j1, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	j2 := before["job-2"]
	j2.Status.Conditions = []v1alpha2.JobCondition{{Type: v1alpha2.JobRunning, Status: "True", Reason: "ListCacheTest"}}
	if _, err := jobs.UpdateStatus(ctx, &j2, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"job-3", "job-4"} {
		if err := jobs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := jobs.Create(ctx, typedJob(t, harness.SeedJobForTest(t, ns, "job-3")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	after := expectListMatchesGets(t, 4)
	if got := *after["job-1"].Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Replicas; got != 7 {
		t.Errorf("job-1 lists with %d workers after the update to 7", got)
	}
	if c := after["job-2"].Status.Conditions; len(c) != 1 || c[0].Reason != "ListCacheTest" {
		t.Errorf("job-2 lists with conditions %v after the status update", c)
	}
	if after["job-3"].UID == before["job-3"].UID {
		t.Errorf("job-3 lists with the UID of the deleted object")
	}
	if _, ok := after["job-4"]; ok {
		t.Errorf("job-4 is listed after its delete")
	}
}

// testListCompression: a LIST written from the cache is gzip-compressed
// for a client that asks for it, as the library compresses any answer over
// 128 KiB, in JSON and protobuf; a small one is not.
func testListCompression(t *testing.T, e *env) {
	const ns = "listgzip-ns"
	ctx := context.Background()
	_, pb := recordedClient(t, e, "")
	jobs := pb.KubeflowV1alpha2().MPIJobs(ns)
	for i := 0; i < 100; i++ { // ~1.5 KiB in protobuf, 2 KiB in JSON: over 128 KiB listed
		if _, err := jobs.Create(ctx, typedJob(t, harness.SeedJobForTest(t, ns, fmt.Sprintf("job-%d", i))), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, accept := range []string{contentJSON, contentProtobuf} {
		for pass := 0; pass < 2; pass++ { // the second LIST is served from the cache
			r := e.do(t, harness.Request{Method: "GET", URL: "/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs", Accept: accept,
				Header: map[string]string{"Accept-Encoding": "gzip"}})
			if r.Code != 200 {
				t.Fatalf("LIST %s: %v", accept, r)
			}
			if got := r.Header.Get("Content-Encoding"); got != "gzip" {
				t.Errorf("LIST of 100 objects in %s, pass %d, asking for gzip: Content-Encoding %q, want gzip (%d bytes)", accept, pass, got, len(r.Body))
			}
		}
		r := e.do(t, harness.Request{Method: "GET", URL: "/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs?limit=2", Accept: accept,
			Header: map[string]string{"Accept-Encoding": "gzip"}})
		if got := r.Header.Get("Content-Encoding"); r.Code != 200 || got != "" {
			t.Errorf("LIST of 2 objects in %s asking for gzip: %d, Content-Encoding %q, want none", accept, r.Code, got)
		}
	}
}
