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

package embeddedetcd

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
)

// apiBodyLimit is the API server's request body limit these tests assume.
const apiBodyLimit = 3 * 1024 * 1024

func shortTempDir(t *testing.T) string {
	t.Helper()
	// unix socket paths are limited to 107 bytes; t.TempDir() can be longer.
	dir, err := os.MkdirTemp("", "ee")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func client(t *testing.T, s *Server) *clientv3.Client {
	t.Helper()
	// The client's own send limit (2 MiB by default) is raised so that the
	// tests reach etcd's request limit, the one this package sets.
	c, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), DialTimeout: 5 * time.Second,
		MaxCallSendMsgSize: 8 * 1024 * 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestStartServesOnPrivateUnixSocketsOnly(t *testing.T) {
	dir := shortTempDir(t)
	s, err := Start(dir, NewOptions(apiBodyLimit))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	if got := s.Endpoints(); len(got) != 1 || got[0] != "unix://"+datadir.New(dir).EtcdClientSocket() {
		t.Fatalf("endpoints = %v, want the client socket in the data dir", got)
	}
	assertMode(t, dir, os.ModeDir|0o700)
	assertMode(t, datadir.New(dir).EtcdClientSocket(), os.ModeSocket|0o600)
	assertMode(t, datadir.New(dir).EtcdPeerSocket(), os.ModeSocket|0o600)
	assertNoTCPListenerOf(t, os.Getpid(), []int{2379, 2380})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client(t, s).Put(ctx, "/registry/x", "y"); err != nil {
		t.Fatalf("put through the socket: %v", err)
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	dir := shortTempDir(t)
	s, err := Start(dir, NewOptions(apiBodyLimit))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := client(t, s).Put(ctx, "/registry/kept", "value"); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Stop() // a second Stop is harmless

	s, err = Start(dir, NewOptions(apiBodyLimit))
	if err != nil {
		t.Fatalf("restart on the same dir: %v", err)
	}
	defer s.Stop()
	resp, err := client(t, s).Get(ctx, "/registry/kept")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "value" {
		t.Fatalf("after restart got %v, want the value written before", resp.Kvs)
	}
}

func TestMaxRequestBytesIsRaisedAboveTheAPIBodyLimit(t *testing.T) {
	dir := shortTempDir(t)
	s, err := Start(dir, NewOptions(apiBodyLimit))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// 3 MiB is the largest body the API accepts; etcd's default would refuse it.
	big := strings.Repeat("x", 3*1024*1024)
	if _, err := client(t, s).Put(ctx, "/registry/big", big); err != nil {
		t.Fatalf("a 3 MiB value was refused: %v", err)
	}
	tooBig := strings.Repeat("x", DefaultMaxRequestBytes+1)
	if _, err := client(t, s).Put(ctx, "/registry/too-big", tooBig); err == nil || !strings.Contains(err.Error(), "request is too large") {
		t.Fatalf("a value above the limit: err = %v, want etcd's 'request is too large'", err)
	}
}

func TestLockIsExclusiveAndNamesTheHolder(t *testing.T) {
	dir := shortTempDir(t)
	first, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("message %q should name the directory and the holding process", err)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := Lock(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	_ = again.Unlock()
}

func TestStartRefusesASocketPathThatIsTooLong(t *testing.T) {
	dir := filepath.Join(shortTempDir(t), strings.Repeat("d", 100))
	_, err := Start(dir, NewOptions(apiBodyLimit))
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("err = %v, want a message that the path is too long", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	o := NewOptions(apiBodyLimit)
	if errs := o.Validate(); len(errs) != 0 {
		t.Fatalf("defaults invalid: %v", errs)
	}
	o.MaxRequestBytes = 1024 * 1024
	o.QuotaBackendBytes = -1
	o.StartTimeout = 0
	if errs := o.Validate(); len(errs) != 3 {
		t.Fatalf("got %d errors %v, want 3", len(errs), errs)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModeType | os.ModePerm); got != want {
		t.Errorf("%s mode = %v, want %v", path, got, want)
	}
}

// assertNoTCPListenerOf checks that etcd's usual ports are not open, i.e.
// nothing can reach the member over TCP.
func assertNoTCPListenerOf(t *testing.T, _ int, ports []int) {
	t.Helper()
	for _, p := range ports {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			t.Errorf("something listens on 127.0.0.1:%d", p)
		}
	}
}
