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
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	informers "github.com/mpijob/mpijob-apiserver/pkg/generated/informers/externalversions"
)

// testInformers: the generated shared informer sees the initial object, then
// an add, two updates (spec/labels, then status) and a delete, in that order
// with the server's resourceVersions, and its lister agrees after each.
func (e *env) testInformers(t *testing.T) {
	const ns = "informers"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	jobs := e.client.KubeflowV1alpha2().MPIJobs(ns)
	pre := e.create(t, newJob(ns, "job-pre", nil))
	e.create(t, newJob("informers-other", "job-elsewhere", nil))

	factory := informers.NewSharedInformerFactoryWithOptions(e.client, 0, informers.WithNamespace(ns))
	inf := factory.Kubeflow().V1alpha2().MPIJobs()
	events := make(chan string, 100)
	desc := func(o interface{}) string {
		job, ok := o.(*v1alpha2.MPIJob)
		if !ok {
			return fmt.Sprintf("%T", o)
		}
		return job.Namespace + "/" + job.Name + "@" + job.ResourceVersion
	}
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(o interface{}) { events <- "add " + desc(o) },
		UpdateFunc: func(o, n interface{}) {
			if o.(*v1alpha2.MPIJob).ResourceVersion == n.(*v1alpha2.MPIJob).ResourceVersion {
				return // a resync; there are none with resync 0, but be exact
			}
			events <- "update " + desc(o) + " -> " + desc(n)
		},
		DeleteFunc: func(o interface{}) {
			if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
				events <- "delete (final state unknown) " + desc(d.Obj)
				return
			}
			events <- "delete " + desc(o)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	lister := inf.Lister()
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	defer cancel()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("informer for %v did not sync", typ)
		}
	}

	expectEvent := func(want string) {
		t.Helper()
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("informer event %q, want %q", got, want)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("no informer event; want %q", want)
		}
	}
	expectLister := func(name, rv string) {
		t.Helper()
		got, err := lister.MPIJobs(ns).Get(name)
		if rv == "" {
			if !apierrors.IsNotFound(err) {
				t.Fatalf("lister Get %s: %v %v, want NotFound", name, got, err)
			}
			return
		}
		if err != nil || got.ResourceVersion != rv {
			t.Fatalf("lister Get %s: %v, err %v; want resourceVersion %s", name, got, err, rv)
		}
	}

	expectEvent("add " + ns + "/job-pre@" + pre.ResourceVersion)
	expectLister("job-pre", pre.ResourceVersion)

	x := e.create(t, newJob(ns, "job-x", nil))
	expectEvent("add " + ns + "/job-x@" + x.ResourceVersion)
	expectLister("job-x", x.ResourceVersion)

	x.Labels = map[string]string{"phase": "two"}
	x2, err := jobs.Update(ctx, x, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expectEvent("update " + ns + "/job-x@" + x.ResourceVersion + " -> " + ns + "/job-x@" + x2.ResourceVersion)
	expectLister("job-x", x2.ResourceVersion)
	if got, _ := lister.MPIJobs(ns).List(labels.SelectorFromSet(labels.Set{"phase": "two"})); !equal(names(deref(got)), []string{"job-x"}) {
		t.Fatalf("lister by label phase=two: %v", names(deref(got)))
	}

	x2.Status.Conditions = []v1alpha2.JobCondition{{Type: v1alpha2.JobCreated, Status: corev1.ConditionTrue}}
	x3, err := jobs.UpdateStatus(ctx, x2, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expectEvent("update " + ns + "/job-x@" + x2.ResourceVersion + " -> " + ns + "/job-x@" + x3.ResourceVersion)
	expectLister("job-x", x3.ResourceVersion)
	if got, _ := lister.MPIJobs(ns).Get("job-x"); got == nil || len(got.Status.Conditions) != 1 {
		t.Fatalf("lister after the status update: %+v", got)
	}

	if err := jobs.Delete(ctx, "job-x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// A DELETED event carries the object at the deletion's resourceVersion.
	select {
	case got := <-events:
		prefix := "delete " + ns + "/job-x@"
		if !strings.HasPrefix(got, prefix) || mustParseRV(t, strings.TrimPrefix(got, prefix)) <= mustParseRV(t, x3.ResourceVersion) {
			t.Fatalf("informer event %q, want %q<a resourceVersion after %s>", got, prefix, x3.ResourceVersion)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no informer event; want the delete of job-x")
	}
	expectLister("job-x", "")
	all, err := lister.List(labels.Everything())
	if err != nil || !equal(names(deref(all)), []string{"job-pre"}) {
		t.Fatalf("lister List: %v %v, want [job-pre] (only the informer's namespace)", names(deref(all)), err)
	}

	select {
	case extra := <-events:
		t.Fatalf("unexpected informer event %q", extra)
	case <-time.After(500 * time.Millisecond):
	}
}

func deref(in []*v1alpha2.MPIJob) []v1alpha2.MPIJob {
	out := make([]v1alpha2.MPIJob, 0, len(in))
	for _, j := range in {
		out = append(out, *j)
	}
	return out
}
