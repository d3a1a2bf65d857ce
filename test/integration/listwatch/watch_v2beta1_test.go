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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned/scheme"
)

// watchV2beta1 is watchRaw in v2beta1.
func (e *env) watchV2beta1(t testing.TB, ctx context.Context, ns string, opts metav1.ListOptions) watch.Interface {
	t.Helper()
	opts.Watch = true
	w, err := e.client.KubeflowV2beta1().RESTClient().Get().
		Namespace(ns).Resource("mpijobs").
		VersionedParams(&opts, scheme.ParameterCodec).
		Watch(ctx)
	if err != nil {
		t.Fatalf("watch %s in v2beta1 with %+v: %v", ns, opts, err)
	}
	return w
}

// nextV2beta1 is the next event, whose object must be a v2beta1 MPIJob.
func nextV2beta1(t testing.TB, w watch.Interface) (watch.EventType, *v2beta1.MPIJob) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatalf("the watch ended; wanted another event")
		}
		job, ok := ev.Object.(*v2beta1.MPIJob)
		if !ok {
			t.Fatalf("%s event with a %T, want a v2beta1 MPIJob: %+v", ev.Type, ev.Object, ev.Object)
		}
		return ev.Type, job
	case <-time.After(10 * time.Second):
		t.Fatalf("no event within 10s")
	}
	return "", nil
}

// testWatchV2beta1: a v2beta1 watch sees v1alpha2 writes in order, each
// object in v2beta1 (cleanPodPolicy under runPolicy), with the writes'
// resourceVersions; then bookmarks until the timeout; and a watch resumed
// from a resourceVersion sees only what followed it.
func (e *env) testWatchV2beta1(t *testing.T) {
	const ns = "watch-v2beta1"
	ctx := context.Background()
	jobs := e.client.KubeflowV1alpha2().MPIJobs(ns)
	e.create(t, newJob(ns, "unrelated-before", nil))
	l, err := jobs.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := l.ResourceVersion

	running := v1alpha2.CleanPodPolicyRunning
	x := e.create(t, newJob(ns, "job-x", nil, func(j *v1alpha2.MPIJob) { j.Spec.CleanPodPolicy = &running }))
	x.Labels = map[string]string{"step": "updated"}
	x2, err := jobs.Update(ctx, x, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	y := e.create(t, newJob(ns, "job-y", nil))
	if err := jobs.Delete(ctx, "job-x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	type event struct {
		typ         watch.EventType
		name, rv    string
		label       string
		cleanPolicy string // runPolicy.cleanPodPolicy as v2beta1 shows it
	}
	want := []event{
		{watch.Added, "job-x", x.ResourceVersion, "", "Running"},
		{watch.Modified, "job-x", x2.ResourceVersion, "updated", "Running"},
		{watch.Added, "job-y", y.ResourceVersion, "", ""},
		{watch.Deleted, "job-x", "", "updated", "Running"},
	}
	expect := func(t *testing.T, w watch.Interface, want []event) (last uint64) {
		t.Helper()
		for i, wv := range want {
			typ, job := nextV2beta1(t, w)
			got := event{typ, job.Name, job.ResourceVersion, job.Labels["step"], ""}
			if job.Spec.RunPolicy != nil && job.Spec.RunPolicy.CleanPodPolicy != nil {
				got.cleanPolicy = string(*job.Spec.RunPolicy.CleanPodPolicy)
			}
			if wv.rv == "" {
				wv.rv = got.rv // a deletion's resourceVersion is the event's own
			}
			if got != wv {
				t.Fatalf("event %d: %+v, want %+v", i, got, wv)
			}
			if job.Spec.SSHAuthMountPath != "" || job.Spec.RunLauncherAsWorker != nil {
				t.Errorf("event %d: v2beta1 defaults on an object written in v1alpha2: %+v", i, job.Spec)
			}
			rv := mustParseRV(t, job.ResourceVersion)
			if rv <= last {
				t.Fatalf("event %d: resourceVersion %d not after %d", i, rv, last)
			}
			last = rv
		}
		return last
	}

	t.Run("from the start", func(t *testing.T) {
		const timeoutSeconds = 4
		timeout := int64(timeoutSeconds)
		w := e.watchV2beta1(t, ctx, ns, metav1.ListOptions{ResourceVersion: from, AllowWatchBookmarks: true, TimeoutSeconds: &timeout})
		defer w.Stop()
		last := expect(t, w, want)
		elsewhere := e.create(t, newJob(ns+"-elsewhere", "job-z", nil))
		var bookmarks int
		for ev := range w.ResultChan() {
			job, ok := ev.Object.(*v2beta1.MPIJob)
			if ev.Type != watch.Bookmark || !ok {
				t.Fatalf("after the changes: %s %T, want only v2beta1 BOOKMARKs", ev.Type, ev.Object)
			}
			rv := mustParseRV(t, job.ResourceVersion)
			if job.Name != "" || rv < last || (e.cache && rv < mustParseRV(t, elsewhere.ResourceVersion)) {
				t.Errorf("BOOKMARK %q at %d: want an empty object at a resourceVersion >= %d and >= %s", job.Name, rv, last, elsewhere.ResourceVersion)
			}
			bookmarks++
		}
		if e.cache && bookmarks == 0 {
			t.Errorf("no BOOKMARK before the timeout; the watch cache sends one 2 s before it")
		}
	})
	t.Run("resumed", func(t *testing.T) {
		timeout := int64(2)
		w := e.watchV2beta1(t, ctx, ns, metav1.ListOptions{ResourceVersion: x2.ResourceVersion, TimeoutSeconds: &timeout})
		defer w.Stop()
		expect(t, w, want[2:])
		for ev := range w.ResultChan() {
			t.Fatalf("after the changes: %s %+v, want the end of the watch", ev.Type, ev.Object)
		}
	})
}
