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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	informers "github.com/mpijob/mpijob-apiserver/pkg/generated/informers/externalversions"
)

// testInformersBothVersions: a generated v2beta1 informer and a v1alpha2
// informer on one server see the same sequence of events, whichever version
// each write was made in, each with objects of its own version.
func (e *env) testInformersBothVersions(t *testing.T) {
	const ns = "informers-versions"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alpha := e.client.KubeflowV1alpha2().MPIJobs(ns)
	beta := e.client.KubeflowV2beta1().MPIJobs(ns)
	pre := e.create(t, newJob(ns, "job-pre", nil))

	// Each event as "<verb> <name>@<rv> <what the object is>".
	desc := func(o any) string {
		switch j := o.(type) {
		case *v1alpha2.MPIJob:
			return fmt.Sprintf("%s@%s v1alpha2 labels=%v conditions=%d", j.Name, j.ResourceVersion, j.Labels, len(j.Status.Conditions))
		case *v2beta1.MPIJob:
			return fmt.Sprintf("%s@%s v2beta1 labels=%v conditions=%d", j.Name, j.ResourceVersion, j.Labels, len(j.Status.Conditions))
		case cache.DeletedFinalStateUnknown:
			return fmt.Sprintf("final state unknown %T", j.Obj)
		}
		return fmt.Sprintf("%T", o)
	}
	record := func(events chan string) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { events <- "add " + desc(o) },
			UpdateFunc: func(_, n any) { events <- "update " + desc(n) },
			DeleteFunc: func(o any) { events <- "delete " + desc(o) },
		}
	}
	factory := informers.NewSharedInformerFactoryWithOptions(e.client, 0, informers.WithNamespace(ns))
	alphaEvents, betaEvents := make(chan string, 100), make(chan string, 100)
	for inf, events := range map[cache.SharedIndexInformer]chan string{
		factory.Kubeflow().V1alpha2().MPIJobs().Informer(): alphaEvents,
		factory.Kubeflow().V2beta1().MPIJobs().Informer():  betaEvents,
	} {
		if _, err := inf.AddEventHandler(record(events)); err != nil {
			t.Fatal(err)
		}
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	defer cancel()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("informer for %v did not sync", typ)
		}
	}

	var want []string // without the version
	expect := func(line string) {
		t.Helper()
		want = append(want, line)
		for version, events := range map[string]chan string{"v1alpha2": alphaEvents, "v2beta1": betaEvents} {
			verb, rest, _ := strings.Cut(line, " ")
			name, tail, _ := strings.Cut(rest, " ")
			w := verb + " " + name + " " + version + " " + tail
			select {
			case got := <-events:
				if got != w {
					t.Fatalf("the %s informer: %q, want %q", version, got, w)
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("the %s informer: no event, want %q", version, w)
			}
		}
	}
	expect("add job-pre@" + pre.ResourceVersion + " labels=map[] conditions=0")

	// Created in v2beta1, relabelled in v1alpha2, status in v2beta1, spec
	// in v1alpha2, deleted through v2beta1.
	created, err := beta.Create(ctx, betaJob(ns, "job-x"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expect("add job-x@" + created.ResourceVersion + " labels=map[] conditions=0")
	a, err := alpha.Get(ctx, "job-x", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.Labels = map[string]string{"phase": "two"}
	a, err = alpha.Update(ctx, a, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expect("update job-x@" + a.ResourceVersion + " labels=map[phase:two] conditions=0")
	b, err := beta.Get(ctx, "job-x", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Status.Conditions = []v2beta1.JobCondition{{Type: v2beta1.JobSuspended, Status: corev1.ConditionTrue, Reason: "MPIJobSuspended"}}
	if b, err = beta.UpdateStatus(ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("update job-x@" + b.ResourceVersion + " labels=map[phase:two] conditions=1")
	if a, err = alpha.Get(ctx, "job-x", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	*a.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Replicas = 3
	if a, err = alpha.Update(ctx, a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("update job-x@" + a.ResourceVersion + " labels=map[phase:two] conditions=1")
	if err := beta.Delete(ctx, "job-x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The deletion's resourceVersion is unknown here; both must agree on it.
	var deleted []string
	for _, events := range []chan string{alphaEvents, betaEvents} {
		select {
		case got := <-events:
			deleted = append(deleted, got)
		case <-time.After(15 * time.Second):
			t.Fatalf("no delete event")
		}
	}
	if !strings.HasPrefix(deleted[0], "delete job-x@") ||
		strings.Replace(deleted[0], " v1alpha2 ", " v2beta1 ", 1) != deleted[1] {
		t.Fatalf("delete events %q, want the same deletion of job-x in each version", deleted)
	}

	// And the listers agree: job-pre only, in each version's type.
	alphaList, err := factory.Kubeflow().V1alpha2().MPIJobs().Lister().List(labels.Everything())
	if err != nil || len(alphaList) != 1 || alphaList[0].Name != "job-pre" {
		t.Errorf("v1alpha2 lister: %v %v", alphaList, err)
	}
	betaList, err := factory.Kubeflow().V2beta1().MPIJobs().Lister().List(labels.Everything())
	if err != nil || len(betaList) != 1 || betaList[0].Name != "job-pre" {
		t.Errorf("v2beta1 lister: %v %v", betaList, err)
	}
	for version, events := range map[string]chan string{"v1alpha2": alphaEvents, "v2beta1": betaEvents} {
		select {
		case extra := <-events:
			t.Errorf("the %s informer: unexpected event %q", version, extra)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// betaJob is newJob in v2beta1.
func betaJob(ns, name string) *v2beta1.MPIJob {
	one, two := int32(1), int32(2)
	template := func() corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "mpi", Image: "mpi:test"}}}}
	}
	return &v2beta1.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v2beta1.MPIJobSpec{MPIReplicaSpecs: map[v2beta1.MPIReplicaType]*v2beta1.ReplicaSpec{
			v2beta1.MPIReplicaTypeLauncher: {Replicas: &one, Template: template()},
			v2beta1.MPIReplicaTypeWorker:   {Replicas: &two, Template: template()},
		}},
	}
}
