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

// Package compaction checks what clients see when etcd history they hold a
// position in is compacted away.
package compaction

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	informers "github.com/mpijob/mpijob-apiserver/pkg/generated/informers/externalversions"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

const ns = "compaction"

// TestInformerRelistsAfterCompaction: an informer holds a watch position;
// the server restarts (its watch cache starts afresh), objects are deleted
// and created, and etcd is compacted past the informer's position. The
// informer's reflector relists and its store ends equal to the server's
// list: no object lost, no deleted object kept. (That old continue
// tokens and resourceVersions get 410 after a compaction is part of the
// list-options matrix in test/integration/listwatch.)
func TestInformerRelistsAfterCompaction(t *testing.T) {
	// Open watches would hold the shutdown for the whole request timeout.
	quickShutdown := func(o *server.Options) { o.ServerRun.ShutdownWatchTerminationGracePeriod = time.Second }
	s := inprocess.Start(t, quickShutdown)
	ctx := context.Background()
	jobs := func(s *inprocess.Server) interface {
		Create(context.Context, *v1alpha2.MPIJob, metav1.CreateOptions) (*v1alpha2.MPIJob, error)
		Delete(context.Context, string, metav1.DeleteOptions) error
		List(context.Context, metav1.ListOptions) (*v1alpha2.MPIJobList, error)
	} {
		return s.Client.KubeflowV1alpha2().MPIJobs(ns)
	}
	for i := 0; i < 10; i++ {
		if _, err := jobs(s).Create(ctx, job(fmt.Sprintf("early-%d", i)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The informer talks to whichever server runs on the data dir: its
	// client config is reused across the restart (same port, same token).
	factory := informers.NewSharedInformerFactoryWithOptions(s.Client, 0, informers.WithNamespace(ns))
	inf := factory.Kubeflow().V1alpha2().MPIJobs().Informer()
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	port := portOf(t, s.URL)
	s.Stop()

	s = inprocess.StartOn(t, s.DataDir, quickShutdown, func(o *server.Options) {
		o.SecureServing.Listener = nil
		o.SecureServing.BindPort = port
	})
	for i := 0; i < 5; i++ {
		if err := jobs(s).Delete(ctx, fmt.Sprintf("early-%d", i), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := jobs(s).Create(ctx, job(fmt.Sprintf("late-%d", i)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.CompactEtcd(t)

	convergeStart := time.Now()
	deadline := time.Now().Add(90 * time.Second)
	for {
		list, err := jobs(s).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if storeEquals(inf.GetStore(), list) {
			t.Logf("informer converged on %d objects %s after the compaction", len(list.Items), time.Since(convergeStart).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("informer store %v never matched the server's list of %d objects", inf.GetStore().ListKeys(), len(list.Items))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func storeEquals(store cache.Store, list *v1alpha2.MPIJobList) bool {
	if len(store.ListKeys()) != len(list.Items) {
		return false
	}
	for i := range list.Items {
		obj, ok, _ := store.GetByKey(ns + "/" + list.Items[i].Name)
		if !ok || obj.(*v1alpha2.MPIJob).ResourceVersion != list.Items[i].ResourceVersion {
			return false
		}
	}
	return true
}

func job(name string) *v1alpha2.MPIJob {
	return &v1alpha2.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha2.MPIJobSpec{MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
			v1alpha2.MPIReplicaTypeLauncher: harness.ReplicaSpec(nil),
			v1alpha2.MPIReplicaTypeWorker:   harness.ReplicaSpec(ptr.To[int32](1)),
		}},
	}
}
