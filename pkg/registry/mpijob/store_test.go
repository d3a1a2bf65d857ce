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

package mpijob

import (
	"testing"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	registrytest "k8s.io/apiserver/pkg/registry/generic/testing"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// The generic registry tester drives the store through the cases every
// kube-apiserver resource must get right, on real etcd.

func validForTester() *kubeflow.MPIJob {
	j := newJob("foo")
	j.Namespace = ""
	return j
}

func TestCreate(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	test := registrytest.New(t, s.rest.Store)
	noWorkerReplicas := validForTester()
	noWorkerReplicas.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas = nil
	badName := validForTester()
	badName.Name = "Foo_Bar"
	test.TestCreate(
		validForTester(),
		noWorkerReplicas,
		badName,
		&kubeflow.MPIJob{},
	)
}

func TestUpdate(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	test := registrytest.New(t, s.rest.Store)
	test.TestUpdate(
		validForTester(),
		// valid: the operator's users scale workers
		func(obj runtime.Object) runtime.Object {
			j := obj.(*kubeflow.MPIJob)
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas = ptr[int32](8)
			return j
		},
		// invalid updates
		func(obj runtime.Object) runtime.Object {
			j := obj.(*kubeflow.MPIJob)
			j.Spec.SlotsPerWorker = ptr[int32](0)
			return j
		},
		func(obj runtime.Object) runtime.Object {
			j := obj.(*kubeflow.MPIJob)
			delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeLauncher)
			return j
		},
	)
}

func TestDelete(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	registrytest.New(t, s.rest.Store).ReturnDeletedObject().TestDelete(validForTester())
}

func TestDeleteStandalone(t *testing.T) {
	// Deletion without options must work unchanged without a collector.
	s := newTestStorage(t, Options{NoGarbageCollector: true}, nil)
	registrytest.New(t, s.rest.Store).ReturnDeletedObject().TestDelete(validForTester())
}

func TestGet(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	registrytest.New(t, s.rest.Store).TestGet(validForTester())
}

func TestList(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	registrytest.New(t, s.rest.Store).TestList(validForTester())
}

func TestWatch(t *testing.T) {
	s := newTestStorage(t, Options{}, nil)
	test := registrytest.New(t, s.rest.Store)
	// The tester writes straight to storage, past the strategy, so the
	// status it carries is stored and status.state can be selected on.
	valid := validForTester()
	valid.Labels = map[string]string{"app": "mpi"}
	valid.Status = finishedStatus()
	test.TestWatch(
		valid,
		// matching labels
		[]labels.Set{{}, {"app": "mpi"}},
		// not matching labels
		[]labels.Set{{"app": "other"}, {"foo": "bar"}},
		// matching fields
		[]fields.Set{
			{"metadata.name": "foo"},
			{"spec.cleanPodPolicy": "All"},
			{"spec.slotsPerWorker": "1"},
			{"status.state": "Succeeded"},
			{"metadata.name": "foo", "status.state": "Succeeded"},
		},
		// not matching fields
		[]fields.Set{
			{"metadata.name": "bar"},
			{"spec.cleanPodPolicy": "None"},
			{"spec.slotsPerWorker": "2"},
			{"status.state": "Running"},
			{"status.state": ""},
		},
	)
}
