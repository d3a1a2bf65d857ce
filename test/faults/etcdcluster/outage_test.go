//go:build faults

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

package etcdcluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	informers "github.com/mpijob/mpijob-apiserver/pkg/generated/informers/externalversions"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestTotalEtcdOutage stops every etcd member for 30 s under a server run
// with --request-timeout=10s: /readyz fails within 5 s, requests fail with a
// 5xx Status within the request timeout instead of hanging, and when etcd
// returns the server recovers without a restart and its informers converge
// to the true state.
func TestTotalEtcdOutage(t *testing.T) {
	const requestTimeout = 10 * time.Second
	members := harness.StartEtcdClusterForTest(t, 3, harness.EtcdOptions{})
	r := startReplica(t, "replica", members, "--request-timeout="+requestTimeout.String())
	jobs := r.client.KubeflowV1alpha2().MPIJobs(namespace)
	ctx := context.Background()
	factory := informers.NewSharedInformerFactoryWithOptions(r.client, 0, informers.WithNamespace(namespace))
	inf := factory.Kubeflow().V1alpha2().MPIJobs().Informer()
	// Every acknowledged write must reach the informer as an event: the
	// watch ends or resumes across the outage, with no gap. (A relist may
	// repeat objects; repeats are not gaps.)
	seen := &eventLog{}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    seen.add,
		UpdateFunc: func(_, obj interface{}) { seen.add(obj) },
	}); err != nil {
		t.Fatal(err)
	}
	var acked []write
	create := func(name string) error {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		job, err := jobs.Create(cctx, newJob(name), metav1.CreateOptions{})
		if err == nil {
			acked = append(acked, write{name, rvOf(job)})
		}
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	for i := 0; i < 20; i++ {
		if err := create(fmt.Sprintf("before-%d", i)); err != nil {
			t.Fatal(err)
		}
	}

	hc, err := r.Admin.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	hc.Timeout = 5 * time.Second
	down := time.Now()
	for _, m := range members {
		if err := m.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "/readyz to fail", func() bool {
		resp, err := hc.Get(r.URL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode != http.StatusOK
	})
	t.Logf("/readyz failed %s after etcd went down", time.Since(down).Round(time.Millisecond))

	start := time.Now()
	_, err = jobs.List(ctx, metav1.ListOptions{})
	took := time.Since(start)
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Code < 500 {
		t.Errorf("list with etcd down: %v, want a 5xx Status", err)
	}
	if took > requestTimeout+2*time.Second {
		t.Errorf("list with etcd down took %s, want it to fail within the request timeout %s", took, requestTimeout)
	}
	t.Logf("list with etcd down: %d %s after %s", status.Status().Code, status.Status().Reason, took.Round(time.Millisecond))

	time.Sleep(time.Until(down.Add(30 * time.Second)))
	back := time.Now()
	// Every member at once, without waiting for each: one alone has no
	// quorum and never becomes healthy.
	for _, m := range members {
		if err := m.Process.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	var recovered time.Duration
	attempt := 0
	waitFor(t, 60*time.Second, "a write to succeed after etcd returned", func() bool {
		attempt++
		if create(fmt.Sprintf("after-%d", attempt)) == nil {
			recovered = time.Since(back)
			return true
		}
		return false
	})
	t.Logf("recovered %s after etcd returned (a write succeeded, no server restart)", recovered.Round(time.Millisecond))
	for i := 0; i < 20; i++ {
		if err := create(fmt.Sprintf("later-%d", i)); err != nil {
			t.Fatal(err)
		}
	}

	// The informer converges: its store holds exactly what the server lists.
	waitFor(t, 30*time.Second, "the informer to converge", func() bool {
		list, err := jobs.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		if len(inf.GetStore().List()) != len(list.Items) {
			return false
		}
		for i := range list.Items {
			obj, ok, _ := inf.GetStore().GetByKey(namespace + "/" + list.Items[i].Name)
			if !ok || obj.(metav1.Object).GetResourceVersion() != list.Items[i].ResourceVersion {
				return false
			}
		}
		return true
	})
	t.Logf("informer converged %s after etcd returned", time.Since(back).Round(time.Millisecond))
	var missing []write
	waitFor(t, 30*time.Second, "every acknowledged write to reach the informer", func() bool {
		missing = missingWrites(acked, seen.snapshot())
		return len(missing) == 0
	})
	t.Logf("writes acknowledged %d, events missed %d", len(acked), len(missing))
}
