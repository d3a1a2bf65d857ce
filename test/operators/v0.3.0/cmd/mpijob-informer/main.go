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

// Command mpijob-informer watches the kubeflow.org/v1alpha2 MPIJobs of one
// namespace through mpi-operator v0.3.0's generated clientset and shared
// informer (client-go v0.15, as the v0.3.0 operator does), and prints every
// event the informer delivers as one JSON line on stdout:
//
//	{"event":"add|update|delete","name":...,"resourceVersion":...,"generation":...,
//	 "annotations":{...},"spec":{...},"status":{...}}
//
// with spec and status as v0.3.0's Go types marshal them, and
// {"event":"synced"} once the informer's first list is in its cache. It
// exits on SIGTERM or SIGINT. The aggregated-mode tests run it
// (test/aggregated/cluster/informer.go); test/operators/build.sh builds it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	common "github.com/kubeflow/common/pkg/apis/common/v1"
	v1alpha2 "github.com/kubeflow/mpi-operator/pkg/apis/kubeflow/v1alpha2"
	versioned "github.com/kubeflow/mpi-operator/pkg/client/clientset/versioned"
	informers "github.com/kubeflow/mpi-operator/pkg/client/informers/externalversions"
)

// event is one line of output.
type event struct {
	Event           string               `json:"event"`
	Name            string               `json:"name,omitempty"`
	ResourceVersion string               `json:"resourceVersion,omitempty"`
	Generation      int64                `json:"generation,omitempty"`
	Annotations     map[string]string    `json:"annotations,omitempty"`
	Spec            *v1alpha2.MPIJobSpec `json:"spec,omitempty"`
	Status          *common.JobStatus    `json:"status,omitempty"`
}

// printer writes events to stdout one whole line at a time.
type printer struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (p *printer) print(ev event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// os.Stdout is unbuffered: each line is written, and so flushed, whole.
	if err := p.enc.Encode(ev); err != nil {
		fmt.Fprintf(os.Stderr, "mpijob-informer: writing an event: %v\n", err)
	}
}

func (p *printer) job(kind string, obj interface{}) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	j, ok := obj.(*v1alpha2.MPIJob)
	if !ok {
		fmt.Fprintf(os.Stderr, "mpijob-informer: %s of a %T\n", kind, obj)
		return
	}
	p.print(event{Event: kind, Name: j.Name, ResourceVersion: j.ResourceVersion, Generation: j.Generation,
		Annotations: j.Annotations, Spec: &j.Spec, Status: &j.Status})
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path of the kubeconfig to connect with")
	namespace := flag.String("namespace", "", "namespace whose MPIJobs to watch (all when empty)")
	flag.Parse()
	if *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "mpijob-informer: --kubeconfig is required")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mpijob-informer: %v\n", err)
		os.Exit(1)
	}
	client, err := versioned.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mpijob-informer: %v\n", err)
		os.Exit(1)
	}

	// No resync: every update line is a change the server sent.
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(*namespace))
	informer := factory.Kubeflow().V1alpha2().MPIJobs().Informer()
	p := &printer{enc: json.NewEncoder(os.Stdout)}
	informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { p.job("add", obj) },
		UpdateFunc: func(_, obj interface{}) { p.job("update", obj) },
		DeleteFunc: func(obj interface{}) { p.job("delete", obj) },
	})

	stop := make(chan struct{})
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		close(stop)
	}()
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, informer.HasSynced) {
		// Stopped before the first list completed.
		return
	}
	p.print(event{Event: "synced"})
	<-stop
}
