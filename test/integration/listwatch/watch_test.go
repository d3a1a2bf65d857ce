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

package listwatch

import (
	"context"
	"regexp"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned/scheme"
)

// watchRaw starts a watch through the generated clientset's REST client but
// without the client-side timeout the typed Watch adds from timeoutSeconds,
// so that a stream that ends at the timeout was ended by the server.
func (e *env) watchRaw(t testing.TB, ctx context.Context, ns string, opts metav1.ListOptions) watch.Interface {
	t.Helper()
	opts.Watch = true
	w, err := e.client.KubeflowV1alpha2().RESTClient().Get().
		Namespace(ns).Resource("mpijobs").
		VersionedParams(&opts, scheme.ParameterCodec).
		Watch(ctx)
	if err != nil {
		t.Fatalf("watch %s with %+v: %v", ns, opts, err)
	}
	return w
}

type seen struct {
	typ  watch.EventType
	name string
	rv   string
	obj  *v1alpha2.MPIJob
}

// next returns the next event, failing after timeout or when the stream ends.
func next(t testing.TB, w watch.Interface, timeout time.Duration) seen {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatalf("the watch ended; wanted another event")
		}
		if ev.Type == watch.Error {
			t.Fatalf("ERROR event: %+v", ev.Object)
		}
		job, ok := ev.Object.(*v1alpha2.MPIJob)
		if !ok {
			t.Fatalf("%s event with a %T", ev.Type, ev.Object)
		}
		return seen{typ: ev.Type, name: job.Name, rv: job.ResourceVersion, obj: job}
	case <-time.After(timeout):
		t.Fatalf("no event within %v", timeout)
	}
	return seen{}
}

// testWatchFromResourceVersion: a watch from a resourceVersion replays every
// change after it in order, sends a BOOKMARK (the watch cache sends one from
// 2 s before the deadline on, cacheWatcher.nextBookmarkTime, when it has seen
// a newer resourceVersion), and the server ends it at timeoutSeconds.
func (e *env) testWatchFromResourceVersion(t *testing.T) {
	const ns = "watch-rv"
	ctx := context.Background()
	jobs := e.client.KubeflowV1alpha2().MPIJobs(ns)
	e.create(t, newJob(ns, "unrelated-before", nil))
	l, err := jobs.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := l.ResourceVersion

	x := e.create(t, newJob(ns, "job-x", nil))
	x.Labels = map[string]string{"step": "updated"}
	x2, err := jobs.Update(ctx, x, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	y := e.create(t, newJob(ns, "job-y", nil))
	if err := jobs.Delete(ctx, "job-x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The deletion's RV is that of the DELETED event; read it from the list.
	l, err = jobs.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	afterDelete := l.ResourceVersion

	const timeoutSeconds = 4
	timeout := int64(timeoutSeconds)
	start := time.Now()
	w := e.watchRaw(t, ctx, ns, metav1.ListOptions{ResourceVersion: from, AllowWatchBookmarks: true, TimeoutSeconds: &timeout})
	defer w.Stop()

	want := []seen{
		{typ: watch.Added, name: "job-x", rv: x.ResourceVersion},
		{typ: watch.Modified, name: "job-x", rv: x2.ResourceVersion},
		{typ: watch.Added, name: "job-y", rv: y.ResourceVersion},
		{typ: watch.Deleted, name: "job-x"},
	}
	var last uint64
	for i, wv := range want {
		got := next(t, w, 10*time.Second)
		if got.typ != wv.typ || got.name != wv.name || (wv.rv != "" && got.rv != wv.rv) {
			t.Fatalf("event %d: %s %s@%s, want %s %s@%s", i, got.typ, got.name, got.rv, wv.typ, wv.name, wv.rv)
		}
		rv := mustParseRV(t, got.rv)
		if rv <= last || rv <= mustParseRV(t, from) {
			t.Fatalf("event %d: resourceVersion %d not after %d (and %s)", i, rv, last, from)
		}
		last = rv
	}
	if x2.Labels["step"] != "updated" {
		t.Fatalf("the update did not set the label: %v", x2.Labels)
	}

	// The cache sends a bookmark only at a resourceVersion newer than the
	// last event this watcher got (cacheWatcher.process): a write elsewhere
	// moves the cache on without an event for this namespaced watch.
	elsewhere := e.create(t, newJob(ns+"-elsewhere", "job-z", nil))

	// Then bookmarks only, until the server ends the watch.
	var bookmarks []seen
	for {
		ev, ok := <-w.ResultChan()
		if !ok {
			break
		}
		if ev.Type != watch.Bookmark {
			t.Fatalf("after the changes: %s %+v, want only BOOKMARKs", ev.Type, ev.Object)
		}
		job, ok := ev.Object.(*v1alpha2.MPIJob)
		if !ok {
			t.Fatalf("BOOKMARK with a %T", ev.Object)
		}
		if job.Name != "" || mustParseRV(t, job.ResourceVersion) < last {
			t.Errorf("BOOKMARK %q at %s: want an empty object at resourceVersion >= %d", job.Name, job.ResourceVersion, last)
		}
		if e.cache && mustParseRV(t, job.ResourceVersion) < mustParseRV(t, elsewhere.ResourceVersion) {
			t.Errorf("BOOKMARK at %s, want at least %s (the write elsewhere, before the bookmark was due)", job.ResourceVersion, elsewhere.ResourceVersion)
		}
		bookmarks = append(bookmarks, seen{typ: ev.Type, rv: job.ResourceVersion})
	}
	elapsed := time.Since(start)
	if elapsed < timeoutSeconds*time.Second-500*time.Millisecond || elapsed > timeoutSeconds*time.Second+5*time.Second {
		t.Errorf("the watch ended after %v, want it to end at timeoutSeconds=%d", elapsed, timeoutSeconds)
	}
	if e.cache && len(bookmarks) == 0 {
		t.Errorf("no BOOKMARK before the timeout; the watch cache sends one 2 s before it")
	}
	if !e.cache && len(bookmarks) > 0 {
		// Without the cache bookmarks are etcd progress notifications
		// (every 10 minutes by default): none are expected here, but they
		// would be valid, so only log them.
		t.Logf("bookmarks without the watch cache: %v", bookmarks)
	}
	t.Logf("events after %s in order up to %s; %d bookmark(s); ended after %v", from, afterDelete, len(bookmarks), elapsed.Round(time.Millisecond))
}

// testWatchCompacted: a watch from a resourceVersion that is no longer
// available is an HTTP 200 watch whose only event is an ERROR carrying a 410
// Expired Status, then the stream ends.
//
//   - Without the watch cache, etcd refuses the compacted revision:
//     "The resourceVersion for the provided watch is too old." (etcd3/errors.go).
//   - With the watch cache, what counts is the cache's own window, not etcd's
//     compaction: a resourceVersion older than the cache's window gets
//     "too old resource version: <rv> (<oldest>)" (cacher/watch_cache_history.go),
//     while a compacted resourceVersion still inside the window is served from
//     the cache's event history (as kube-apiserver does: the cacher prunes only
//     its list snapshots on compaction, not its event history).
func (e *env) testWatchCompacted(t *testing.T) {
	ctx := context.Background()
	expectExpired := func(t *testing.T, ns, rv string, message *regexp.Regexp) {
		t.Helper()
		timeout := int64(10)
		w := e.watchRaw(t, ctx, ns, metav1.ListOptions{ResourceVersion: rv, TimeoutSeconds: &timeout})
		defer w.Stop()
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("the watch ended without an event")
			}
			if ev.Type != watch.Error {
				t.Fatalf("%s event, want ERROR: %+v", ev.Type, ev.Object)
			}
			s, ok := ev.Object.(*metav1.Status)
			if !ok {
				t.Fatalf("ERROR event with a %T", ev.Object)
			}
			if s.Status != metav1.StatusFailure || s.Code != 410 || s.Reason != metav1.StatusReasonExpired || !message.MatchString(s.Message) {
				t.Fatalf("ERROR Status %s/%d/%s %q, want Failure/410/Expired matching %s", s.Status, s.Code, s.Reason, s.Message, message)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event")
		}
		select {
		case ev, ok := <-w.ResultChan():
			if ok {
				t.Fatalf("after the ERROR: %s %+v, want the end of the watch", ev.Type, ev.Object)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the watch did not end after the ERROR event")
		}
	}

	if !e.cache {
		t.Run("etcd", func(t *testing.T) {
			expectExpired(t, matrixNS, e.rvOld, regexp.MustCompile("^"+regexp.QuoteMeta(msgWatchTooOld)+"$"))
		})
		return
	}
	t.Run("older than the watch cache", func(t *testing.T) {
		expectExpired(t, "before-start", e.rvBeforeWindow,
			regexp.MustCompile(`^too old resource version: `+e.rvBeforeWindow+` \([0-9]+\)$`))
	})
	t.Run("inside the watch cache window", func(t *testing.T) {
		timeout := int64(3)
		w := e.watchRaw(t, ctx, matrixNS, metav1.ListOptions{ResourceVersion: e.rvOld, TimeoutSeconds: &timeout})
		defer w.Stop()
		want := []seen{{typ: watch.Added, name: "job-d"}, {typ: watch.Added, name: "job-e"}, {typ: watch.Deleted, name: "job-c"}, {typ: watch.Added, name: "job-f"}}
		for i, wv := range want {
			got := next(t, w, 10*time.Second)
			if got.typ != wv.typ || got.name != wv.name {
				t.Fatalf("event %d: %s %s, want %s %s", i, got.typ, got.name, wv.typ, wv.name)
			}
		}
	})
}

// testWatchList: sendInitialEvents=true with resourceVersionMatch=NotOlderThan
// streams the current objects as ADDED events, then one BOOKMARK annotated
// k8s.io/initial-events-end=true at the RV the state was read at, then
// changes.
func (e *env) testWatchList(t *testing.T) {
	const ns = "watch-list"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	jobs := e.client.KubeflowV1alpha2().MPIJobs(ns)
	var created []string
	for _, n := range []string{"job-1", "job-2", "job-3"} {
		e.create(t, newJob(ns, n, nil))
		created = append(created, n)
	}
	l, err := jobs.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}

	for _, rv := range []string{"", "0"} {
		t.Run("resourceVersion="+rv, func(t *testing.T) {
			send := true
			timeout := int64(20)
			w := e.watchRaw(t, ctx, ns, metav1.ListOptions{
				SendInitialEvents: &send, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
				ResourceVersion: rv, AllowWatchBookmarks: true, TimeoutSeconds: &timeout,
			})
			defer w.Stop()
			var initial []string
			for {
				got := next(t, w, 10*time.Second)
				if got.typ == watch.Bookmark {
					if got.obj.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
						// Only the end-of-initial-events bookmark may come first.
						t.Fatalf("BOOKMARK without %s=true before the initial events ended: %v", metav1.InitialEventsAnnotationKey, got.obj.Annotations)
					}
					if rv == "" && mustParseRV(t, got.rv) < mustParseRV(t, l.ResourceVersion) {
						t.Errorf("initial-events-end bookmark at %s; a consistent read must be at least at %s", got.rv, l.ResourceVersion)
					}
					break
				}
				if got.typ != watch.Added {
					t.Fatalf("initial event %s %s, want ADDED", got.typ, got.name)
				}
				initial = append(initial, got.name)
			}
			if !equal(sorted(initial), created) {
				t.Fatalf("initial events for %v, want %v", initial, created)
			}
		})
	}
	t.Run("then changes", func(t *testing.T) {
		send := true
		timeout := int64(20)
		w := e.watchRaw(t, ctx, ns, metav1.ListOptions{
			SendInitialEvents: &send, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
			AllowWatchBookmarks: true, TimeoutSeconds: &timeout,
		})
		defer w.Stop()
		for i := 0; ; i++ {
			got := next(t, w, 10*time.Second)
			if got.typ == watch.Bookmark {
				break
			}
			if i > len(created) {
				t.Fatalf("more initial events than objects")
			}
		}
		j := e.create(t, newJob(ns, "job-4", nil))
		for {
			got := next(t, w, 10*time.Second)
			if got.typ == watch.Bookmark {
				continue
			}
			if got.typ != watch.Added || got.name != "job-4" || got.rv != j.ResourceVersion {
				t.Fatalf("after the initial events: %s %s@%s, want ADDED job-4@%s", got.typ, got.name, got.rv, j.ResourceVersion)
			}
			break
		}
	})
}
