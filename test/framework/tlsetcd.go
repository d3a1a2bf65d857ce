package framework

import (
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// StartTLSEtcd runs an in-process etcd member that serves clients over TLS
// on a loopback port and demands client certificates signed by caFile, as
// an external production etcd does. It returns the client URL; the member
// stops at the test's cleanup.
func StartTLSEtcd(t testing.TB, caFile, certFile, keyFile string) string {
	t.Helper()
	return startLoopbackEtcd(t, "https", func(cfg *embed.Config) {
		cfg.ClientTLSInfo = transport.TLSInfo{CertFile: certFile, KeyFile: keyFile, TrustedCAFile: caFile, ClientCertAuth: true}
		cfg.LogLevel = "error"
	})
}

// StartPlainEtcd runs an in-process etcd member that serves clients over
// plain HTTP on a loopback port, for a server under test that takes
// --etcd-servers=http://…. It returns the client URL; the member stops at
// the test's cleanup.
func StartPlainEtcd(t testing.TB) string {
	t.Helper()
	return startLoopbackEtcd(t, "http", func(cfg *embed.Config) {
		// Quiet: a closing member logs its closed listeners as errors.
		// StartEtcd still returns any startup failure.
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		// The data dir is thrown away: no need to wait for the disk.
		cfg.UnsafeNoFsync = true
	})
}

// startLoopbackEtcd starts a one-member etcd on loopback ports with its data
// in the test's temp dir, clients served over the given scheme.
func startLoopbackEtcd(t testing.TB, clientScheme string, configure func(*embed.Config)) string {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(t.TempDir(), "etcd")
	clientURL := url.URL{Scheme: clientScheme, Host: "127.0.0.1:" + strconv.Itoa(FreePort(t))}
	peerURL := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(FreePort(t))}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	configure(cfg)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatalf("the etcd member at %s was not ready within 30s", clientURL.String())
	}
	return clientURL.String()
}

// FreePort is a TCP port on 127.0.0.1 that nothing listened on a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
