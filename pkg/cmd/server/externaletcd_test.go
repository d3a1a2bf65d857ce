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

package server_test

import (
	"context"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestExternalEtcdOverTLS runs the server with --etcd-servers and the etcd
// TLS flags against a separate etcd member that demands client certificates:
// objects land in that etcd, and the embedded one never starts.
func TestExternalEtcdOverTLS(t *testing.T) {
	pki, err := harness.NewEtcdPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	etcd := harness.StartEtcdForTest(t, harness.EtcdOptions{TLS: pki})

	s := inprocess.Start(t, func(o *server.Options) {
		o.Etcd.StorageConfig.Transport.ServerList = []string{etcd.URL}
		o.Etcd.StorageConfig.Transport.TrustedCAFile = pki.CA.CertFile
		o.Etcd.StorageConfig.Transport.CertFile = pki.Client.CertFile
		o.Etcd.StorageConfig.Transport.KeyFile = pki.Client.KeyFile
	})

	job := &v1alpha2.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: "external", Namespace: "ns1"},
		Spec: v1alpha2.MPIJobSpec{MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
			v1alpha2.MPIReplicaTypeLauncher: harness.ReplicaSpec(nil),
			v1alpha2.MPIReplicaTypeWorker:   harness.ReplicaSpec(ptr.To[int32](2)),
		}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client.KubeflowV1alpha2().MPIJobs("ns1").Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}

	resp, err := harness.EtcdClientForTest(t, etcd).Get(ctx, "/registry/kubeflow.org/mpijobs/ns1/external")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("the object is not in the external etcd under /registry/kubeflow.org/mpijobs/ns1/external")
	}
	layout := s.Layout()
	for _, path := range []string{layout.EtcdDir(), layout.EtcdClientSocket(), layout.EtcdPeerSocket()} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s exists: the embedded etcd should not have started (stat err %v)", path, err)
		}
	}
}
