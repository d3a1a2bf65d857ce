package server_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/test/framework"
)

// TestExternalEtcdOverTLS runs the server with --etcd-servers and the etcd
// TLS flags against a separate etcd member that demands client certificates:
// objects land in that etcd, and the embedded one never starts.
func TestExternalEtcdOverTLS(t *testing.T) {
	pkiDir := t.TempDir()
	ca := framework.NewCA(t, pkiDir, "etcd")
	loopback := net.ParseIP("127.0.0.1")
	serverCert, serverKey := ca.Issue(t, "etcd-server", "etcd", nil, loopback)
	clientCert, clientKey := ca.Issue(t, "apiserver-etcd-client", "mpijob-apiserver", nil)
	endpoint := framework.StartTLSEtcd(t, ca.CertFile, serverCert, serverKey)

	s := framework.Start(t, func(o *server.Options) {
		o.Etcd.StorageConfig.Transport.ServerList = []string{endpoint}
		o.Etcd.StorageConfig.Transport.TrustedCAFile = ca.CertFile
		o.Etcd.StorageConfig.Transport.CertFile = clientCert
		o.Etcd.StorageConfig.Transport.KeyFile = clientKey
	})

	job := &v1alpha2.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: "external", Namespace: "ns1"},
		Spec: v1alpha2.MPIJobSpec{MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
			v1alpha2.MPIReplicaTypeLauncher: framework.ReplicaSpec(nil),
			v1alpha2.MPIReplicaTypeWorker:   framework.ReplicaSpec(ptr.To[int32](2)),
		}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client.KubeflowV1alpha2().MPIJobs("ns1").Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}

	tlsInfo := transport.TLSInfo{CertFile: clientCert, KeyFile: clientKey, TrustedCAFile: ca.CertFile}
	tlsCfg, err := tlsInfo.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, TLS: tlsCfg, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Get(ctx, "/registry/kubeflow.org/mpijobs/ns1/external")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("the object is not in the external etcd under /registry/kubeflow.org/mpijobs/ns1/external")
	}
	for _, name := range []string{"etcd", "etcd-client.sock", "etcd-peer.sock"} {
		if _, err := os.Stat(filepath.Join(s.DataDir, name)); !os.IsNotExist(err) {
			t.Errorf("%s exists in the data dir: the embedded etcd should not have started (stat err %v)", name, err)
		}
	}
}
