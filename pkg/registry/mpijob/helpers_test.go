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
	"context"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/storage/etcd3/testserver"
	"k8s.io/apiserver/pkg/storage/storagebackend"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/install"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

const testNamespace = "kube-test"

func ptr[T any](v T) *T { return &v }

// testStorage is the storage under test on a real, in-process etcd.
type testStorage struct {
	rest   *REST
	status *StatusREST
	etcd   *embed.Config
}

// newTestStorage starts an etcd of its own for the test (etcdCfg may tweak
// it, e.g. its request size limit) and builds the storage on it as the
// server does: JSON in etcd, stored as v1alpha2, under a prefix of the
// test's own.
func newTestStorage(t *testing.T, opts Options, etcdCfg func(*embed.Config)) *testStorage {
	t.Helper()
	return newTestStorageWith(t, opts, etcdCfg, generic.UndecoratedStorage, false)
}

// newCachedTestStorage puts the watch cache in front of etcd, as the server
// does.
func newCachedTestStorage(t *testing.T) *testStorage {
	t.Helper()
	s := newTestStorageWith(t, Options{}, nil, genericregistry.StorageWithCacher(), false)
	// The cache refuses requests until it has listed etcd once.
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) {
			_, err := s.rest.List(nsContext(), &metainternalversion.ListOptions{})
			return err == nil, nil
		})
	if err != nil {
		t.Fatalf("the watch cache did not become ready: %v", err)
	}
	return s
}

// newTestStorageWith is the general form; enableGC is the store's
// EnableGarbageCollection (the server's --enable-garbage-collector).
func newTestStorageWith(t *testing.T, opts Options, etcdCfg func(*embed.Config), decorator generic.StorageDecorator, enableGC bool) *testStorage {
	t.Helper()
	cfg := testserver.NewTestConfig(t)
	if etcdCfg != nil {
		etcdCfg(cfg)
	}
	client := testserver.RunEtcd(t, cfg)

	scheme := runtime.NewScheme()
	install.Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		t.Fatal("no JSON serializer")
	}
	codec := codecs.CodecForVersions(info.Serializer, codecs.UniversalDeserializer(), v1alpha2.SchemeGroupVersion, runtime.InternalGroupVersioner)

	storageCfg := storagebackend.NewDefaultConfig("/"+strings.ReplaceAll(t.Name(), "/", "_"), codec)
	storageCfg.Transport.ServerList = client.Endpoints()
	storageCfg.CompactionInterval = 0
	restOpts := generic.RESTOptions{
		StorageConfig:           storageCfg.ForResource(kubeflow.Resource("mpijobs")),
		Decorator:               decorator,
		DeleteCollectionWorkers: 1,
		EnableGarbageCollection: enableGC,
		ResourcePrefix:          "kubeflow.org/mpijobs",
	}
	r, s, err := NewREST(scheme, restOpts, opts)
	if err != nil {
		t.Fatalf("NewREST: %v", err)
	}
	t.Cleanup(r.Destroy)
	return &testStorage{rest: r, status: s, etcd: cfg}
}

func nsContext() context.Context {
	return genericapirequest.WithNamespace(genericapirequest.NewContext(), testNamespace)
}

// newJob is the seed's mpi-test job, with the given name.
func newJob(name string) *kubeflow.MPIJob {
	res := corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("2Gi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("2Gi")},
	}
	template := func(args ...string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "mpi", Image: "horovod-mxnet:mnist", Args: args, Resources: res,
			}},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "imagepull-secret"}},
		}}
	}
	return &kubeflow.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace},
		Spec: kubeflow.MPIJobSpec{
			SlotsPerWorker: ptr[int32](1),
			CleanPodPolicy: ptr(kubeflow.CleanPodPolicyAll),
			MPIReplicaSpecs: map[kubeflow.MPIReplicaType]*kubeflow.ReplicaSpec{
				kubeflow.MPIReplicaTypeLauncher: {Replicas: ptr[int32](1), Template: template("-c", "mpirun python mxnet_mnist.py")},
				kubeflow.MPIReplicaTypeWorker:   {Replicas: ptr[int32](2), Template: template()},
			},
		},
	}
}

// finishedStatus is what the operator reports for the seed's finished job.
func finishedStatus() kubeflow.JobStatus {
	return kubeflow.JobStatus{
		Conditions: []kubeflow.JobCondition{
			{Type: kubeflow.JobCreated, Status: corev1.ConditionTrue, Reason: "MPIJobCreated"},
			{Type: kubeflow.JobRunning, Status: corev1.ConditionFalse, Reason: "MPIJobRunning"},
			{Type: kubeflow.JobSucceeded, Status: corev1.ConditionTrue, Reason: "MPIJobSucceeded"},
		},
		ReplicaStatuses: map[kubeflow.ReplicaType]*kubeflow.ReplicaStatus{"Launcher": {Succeeded: 1}, "Worker": {}},
	}
}
