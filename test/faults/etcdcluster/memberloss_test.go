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
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	informers "github.com/mpijob/mpijob-apiserver/pkg/generated/informers/externalversions"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const namespace = "faults"

// write is one acknowledged write: the object and the resourceVersion the
// server answered with.
type write struct {
	name string
	rv   int64
}

// eventLog is what an informer saw, in order.
type eventLog struct {
	mu     sync.Mutex
	events []write
}

func (l *eventLog) add(obj interface{}) {
	job, ok := obj.(*v1alpha2.MPIJob)
	if !ok {
		return
	}
	rv, _ := strconv.ParseInt(job.ResourceVersion, 10, 64)
	l.mu.Lock()
	l.events = append(l.events, write{job.Name, rv})
	l.mu.Unlock()
}

func (l *eventLog) snapshot() []write {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]write(nil), l.events...)
}

// TestEtcdMemberAndLeaderLoss runs two replicas on a 3-member etcd cluster
// under write load through both, SIGKILLs a follower and later the leader,
// restarting each. Every acknowledged write must be stored, and an informer
// on replica A must see every write made through replica B, in order, with
// no gaps and no duplicates.
func TestEtcdMemberAndLeaderLoss(t *testing.T) {
	members := harness.StartEtcdClusterForTest(t, 3, harness.EtcdOptions{})
	a := startReplica(t, "replica-a", members)
	b := startReplica(t, "replica-b", members)

	seen := &eventLog{}
	factory := informers.NewSharedInformerFactoryWithOptions(a.client, 0, informers.WithNamespace(namespace))
	inf := factory.Kubeflow().V1alpha2().MPIJobs().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    seen.add,
		UpdateFunc: func(_, obj interface{}) { seen.add(obj) },
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		t.Fatal("informer did not sync")
	}

	var (
		mu        sync.Mutex
		acked     []write
		failures  int
		writersWG sync.WaitGroup
	)
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		client := []*replica{a, b}[w%2].client.KubeflowV1alpha2().MPIJobs(namespace)
		writersWG.Add(1)
		go func(w int) {
			defer writersWG.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				// The typed client returns an empty object with an error:
				// only a nil error is an acknowledgement.
				var got []write
				created, err := client.Create(ctx, newJob(name), metav1.CreateOptions{})
				if err == nil {
					got = append(got, write{name, rvOf(created)})
					patch := fmt.Sprintf(`{"spec":{"slotsPerWorker":%d}}`, 2+i%5)
					var updated *v1alpha2.MPIJob
					if updated, err = client.Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err == nil {
						got = append(got, write{name, rvOf(updated)})
					}
				}
				cancel()
				mu.Lock()
				acked = append(acked, got...)
				if err != nil {
					failures++
				}
				mu.Unlock()
			}
		}(w)
	}

	for _, fault := range []string{"follower", "leader"} {
		time.Sleep(3 * time.Second)
		victim, err := harness.EtcdLeader(context.Background(), members)
		if err != nil {
			t.Fatal(err)
		}
		if fault == "follower" {
			victim = (victim + 1) % len(members)
		}
		killedAt := time.Now()
		if err := members[victim].Kill(); err != nil {
			t.Fatal(err)
		}
		t.Logf("killed the %s %s", fault, members[victim].Name)
		time.Sleep(5 * time.Second)
		if err := members[victim].Restart(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, members[victim].Name+" rejoined", func() bool { return harness.EtcdHealthy(context.Background(), members) })
		t.Logf("%s %s rejoined %s after the kill", fault, members[victim].Name, time.Since(killedAt).Round(time.Millisecond))
	}
	time.Sleep(3 * time.Second)
	close(done)
	writersWG.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 100 {
		t.Fatalf("only %d writes were acknowledged; the load is too light to prove anything", len(acked))
	}
	// Every acknowledged write reaches the informer on replica A.
	var missing []write
	deadline := time.Now().Add(60 * time.Second)
	for missing = missingWrites(acked, seen.snapshot()); len(missing) > 0 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		missing = missingWrites(acked, seen.snapshot())
	}
	if len(missing) > 0 {
		t.Errorf("the informer on replica A missed %d of %d acknowledged writes, e.g. %v", len(missing), len(acked), missing[:min(5, len(missing))])
		for _, e := range seen.snapshot() {
			if e.name == missing[0].name {
				t.Logf("events seen for %s: rv %d", e.name, e.rv)
			}
		}
	}
	events := seen.snapshot()
	checkOrderedNoDuplicates(t, events)
	// Every acknowledged object is stored, at least at its last acknowledged version.
	list, err := b.client.KubeflowV1alpha2().MPIJobs(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int64{}
	for i := range list.Items {
		stored[list.Items[i].Name] = rvOf(&list.Items[i])
	}
	lost := 0
	for _, w := range acked {
		if stored[w.name] < w.rv {
			lost++
		}
	}
	if lost != 0 {
		t.Errorf("%d acknowledged writes are not in the store", lost)
	}
	t.Logf("writes acknowledged %d, lost %d, failed (not acknowledged) %d; events seen by replica A %d, missed %d",
		len(acked), lost, failures, len(events), len(missing))
}

// missingWrites are the acknowledged writes no event carried.
func missingWrites(acked, events []write) []write {
	seen := make(map[write]bool, len(events))
	for _, e := range events {
		seen[e] = true
	}
	var missing []write
	for _, w := range acked {
		if !seen[w] {
			missing = append(missing, w)
		}
	}
	return missing
}

// checkOrderedNoDuplicates asserts that, per object, the informer saw
// strictly increasing resourceVersions, and overall that the events came in
// the store's order.
func checkOrderedNoDuplicates(t *testing.T, events []write) {
	t.Helper()
	last := map[string]int64{}
	var prev int64
	for i, e := range events {
		if e.rv <= last[e.name] {
			t.Errorf("event %d: %s at resourceVersion %d after %d: a duplicate or out of order", i, e.name, e.rv, last[e.name])
		}
		if e.rv < prev {
			t.Errorf("event %d: resourceVersion %d after %d: out of the store's order", i, e.rv, prev)
		}
		last[e.name], prev = e.rv, e.rv
	}
	if !sort.SliceIsSorted(events, func(i, j int) bool { return events[i].rv < events[j].rv }) {
		t.Error("events are not in resourceVersion order")
	}
}

func newJob(name string) *v1alpha2.MPIJob {
	return &v1alpha2.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha2.MPIJobSpec{MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
			v1alpha2.MPIReplicaTypeLauncher: harness.ReplicaSpec(nil),
			v1alpha2.MPIReplicaTypeWorker:   harness.ReplicaSpec(ptr.To[int32](2)),
		}},
	}
}

func rvOf(job *v1alpha2.MPIJob) int64 {
	rv, _ := strconv.ParseInt(job.ResourceVersion, 10, 64)
	return rv
}
