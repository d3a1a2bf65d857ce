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

// Package listwatch tests list, watch and informer semantics of
// mpijob-apiserver against what kube-apiserver v1.37 (k8s.io/apiserver
// v0.37.2) gives a built-in type: a real in-process server on a real embedded
// etcd, once with the watch cache on and once with it off, driven with raw
// HTTP (for exact status codes), the generated clientset and the generated
// informers.
//
// Each cache mode gets one server and one data set, built once:
//
//	namespace "matrix":  job-a, job-b, job-c            <- rvOld (list RV), expiredToken (limit=2)
//	                     + job-d, job-e, - job-c
//	                     etcd compacted at its current revision (rvOld is gone)
//	                     + job-f                        <- current, validToken (limit=2)
//
// so the items at rvOld are a,b,c and the current items are a,b,d,e,f.
package listwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

const (
	matrixNS = "matrix"
	// futureRV is far ahead of anything these tests write.
	futureRV = "999999999"
)

// env is one server (one cache mode) and the data the tests share.
type env struct {
	cache  bool
	s      *inprocess.Server
	client clientset.Interface
	http   *http.Client

	// rvBeforeWindow (cache on only) is a compacted resourceVersion from
	// before the server's last start, so older than anything the watch
	// cache holds.
	rvBeforeWindow string

	// The matrix data set.
	rvOld        string   // list RV when the namespace held a,b,c; compacted
	oldItems     []string // the items at rvOld
	expiredToken string   // limit=2 continue token taken at rvOld
	compactedAt  int64    // the etcd revision compacted at (rvOld < compactedAt)
	current      string   // list RV of a consistent list after all writes
	items        []string // the current items
	validToken   string   // limit=2 continue token taken after all writes
	validTokenRV string   // the RV of the list that returned validToken
}

func TestWatchCacheOn(t *testing.T) {
	t.Parallel()
	runSuite(t, newEnv(t, true))
}

func TestWatchCacheOff(t *testing.T) {
	t.Parallel()
	runSuite(t, newEnv(t, false))
}

// runSuite runs every test of the package on one server; the subtests run
// in parallel with each other and each uses its own namespace.
func runSuite(t *testing.T, e *env) {
	t.Run("ListMatrix", func(t *testing.T) { t.Parallel(); e.testListMatrix(t) })
	t.Run("ExpiredContinueTokenResumes", func(t *testing.T) { t.Parallel(); e.testExpiredContinueResumes(t) })
	t.Run("WatchFromResourceVersion", func(t *testing.T) { t.Parallel(); e.testWatchFromResourceVersion(t) })
	t.Run("WatchFromCompactedResourceVersion", func(t *testing.T) { t.Parallel(); e.testWatchCompacted(t) })
	t.Run("WatchList", func(t *testing.T) { t.Parallel(); e.testWatchList(t) })
	t.Run("Informers", func(t *testing.T) { t.Parallel(); e.testInformers(t) })
	t.Run("Selectors", func(t *testing.T) { t.Parallel(); e.testSelectors(t) })
	t.Run("WatchV2beta1", func(t *testing.T) { t.Parallel(); e.testWatchV2beta1(t) })
	t.Run("InformersBothVersions", func(t *testing.T) { t.Parallel(); e.testInformersBothVersions(t) })
}

func newEnv(t *testing.T, cache bool) *env {
	t.Helper()
	configure := func(o *server.Options) { o.Etcd.EnableWatchCache = cache }
	e := &env{cache: cache}
	e.s = inprocess.Start(t, configure)
	e.setClients(t)
	ctx := context.Background()

	if cache {
		// Write two objects and restart: the watch cache of the new server
		// starts after them, so rvBeforeWindow is outside its window.
		first := e.create(t, newJob("before-start", "pre-1", nil))
		e.create(t, newJob("before-start", "pre-2", nil))
		e.rvBeforeWindow = first.ResourceVersion
		e.s.Stop()
		e.s = inprocess.StartOn(t, e.s.DataDir, configure)
		e.setClients(t)
	}

	jobs := e.client.KubeflowV1alpha2().MPIJobs(matrixNS)
	for _, n := range []string{"job-a", "job-b", "job-c"} {
		e.create(t, newJob(matrixNS, n, nil))
	}
	e.oldItems = []string{"job-a", "job-b", "job-c"}
	page, err := jobs.List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(page.Items); !equal(got, []string{"job-a", "job-b"}) || page.Continue == "" {
		t.Fatalf("first page at the old revision: items %v, continue %q", got, page.Continue)
	}
	e.rvOld, e.expiredToken = page.ResourceVersion, page.Continue

	e.create(t, newJob(matrixNS, "job-d", nil))
	e.create(t, newJob(matrixNS, "job-e", nil))
	if err := jobs.Delete(ctx, "job-c", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.compactedAt = e.s.CompactEtcd(t)
	if old := mustParseRV(t, e.rvOld); int64(old) >= e.compactedAt {
		t.Fatalf("rvOld %d is not below the compacted revision %d", old, e.compactedAt)
	}
	t.Logf("compacted etcd at revision %d; rvOld=%s", e.compactedAt, e.rvOld)
	// Written after the compaction: the watch cache keeps a snapshot at (or
	// after) this revision, so exact and continued lists at the current
	// revision are served by the cache whatever the compaction pruned.
	e.create(t, newJob(matrixNS, "job-f", nil))
	e.items = []string{"job-a", "job-b", "job-d", "job-e", "job-f"}

	all, err := jobs.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(all.Items); !equal(got, e.items) {
		t.Fatalf("current items: got %v, want %v", got, e.items)
	}
	e.current = all.ResourceVersion
	page, err = jobs.List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(page.Items); !equal(got, []string{"job-a", "job-b"}) || page.Continue == "" {
		t.Fatalf("first page at the current revision: items %v, continue %q", got, page.Continue)
	}
	e.validToken, e.validTokenRV = page.Continue, page.ResourceVersion
	return e
}

func (e *env) setClients(t *testing.T) {
	t.Helper()
	e.client = e.s.Client
	hc, err := e.s.Admin.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	e.http = hc
}

func (e *env) create(t testing.TB, job *v1alpha2.MPIJob) *v1alpha2.MPIJob {
	t.Helper()
	out, err := e.client.KubeflowV1alpha2().MPIJobs(job.Namespace).Create(context.Background(), job, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating %s/%s: %v", job.Namespace, job.Name, err)
	}
	return out
}

// newJob is a valid MPIJob: one launcher, two workers, each with a container
// that has a name and an image.
func newJob(ns, name string, labels map[string]string, mutate ...func(*v1alpha2.MPIJob)) *v1alpha2.MPIJob {
	one, two := int32(1), int32(2)
	template := func() corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "mpi", Image: "mpi:test"}}}}
	}
	job := &v1alpha2.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: v1alpha2.MPIJobSpec{
			MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
				v1alpha2.MPIReplicaTypeLauncher: {Replicas: &one, Template: template()},
				v1alpha2.MPIReplicaTypeWorker:   {Replicas: &two, Template: template()},
			},
		},
	}
	for _, m := range mutate {
		m(job)
	}
	return job
}

// rawResponse is a response as it was on the wire, and how long it took.
type rawResponse struct {
	harness.Response
	elapsed time.Duration
	version string // the API version asked for
}

func (r rawResponse) String() string {
	return fmt.Sprintf("%s (in %v)", r.Response, r.elapsed.Round(time.Millisecond))
}

func (r rawResponse) status(t testing.TB) metav1.Status {
	t.Helper()
	if r.Status == nil {
		t.Fatalf("not a Status: %s", r)
	}
	return *r.Status
}

func (r rawResponse) list(t testing.TB) v1alpha2.MPIJobList {
	t.Helper()
	var l v1alpha2.MPIJobList
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatalf("not an MPIJobList (%v): %s", err, r)
	}
	// Decoding a v2beta1 list into the v1alpha2 type keeps what is read
	// here: the list's metadata and the items' names.
	if l.Kind != "MPIJobList" || l.APIVersion != "kubeflow.org/"+r.version {
		t.Fatalf("list kind %q apiVersion %q: %s", l.Kind, l.APIVersion, r)
	}
	return l
}

// list GETs the namespaced collection with the given query, raw: no client
// retries (client-go would retry a 504 with Retry-After) and no decoding
// into errors, so the test sees exactly what the server sent.
func (e *env) list(t testing.TB, ns string, query url.Values) rawResponse {
	t.Helper()
	return e.listIn(t, "v1alpha2", ns, query)
}

// listIn is list in an API version.
func (e *env) listIn(t testing.TB, version, ns string, query url.Values) rawResponse {
	t.Helper()
	u := e.s.URL + "/apis/kubeflow.org/" + version + "/namespaces/" + ns + "/mpijobs"
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	start := time.Now()
	r := harness.SendForTest(t, e.http, harness.Request{URL: u, Token: e.s.Admin.Token})
	return rawResponse{Response: r, elapsed: time.Since(start), version: version}
}

func names(items []v1alpha2.MPIJob) []string {
	out := make([]string, 0, len(items))
	for _, i := range items {
		out = append(out, i.Name)
	}
	return out
}

func sorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustParseRV(t testing.TB, rv string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q is not a number: %v", rv, err)
	}
	return v
}
