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

package server

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestDialUntilDeadlineWaitsForTheListener: a dial to a port nobody listens
// on yet succeeds as soon as something does, within one attempt's budget.
func TestDialUntilDeadlineWaitsForTheListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens now

	go func() {
		time.Sleep(time.Second)
		l2, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		defer l2.Close()
		if c, err := l2.Accept(); err == nil {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	conn, err := dialUntilDeadline(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v, want a connection once the listener is back", err)
	}
	conn.Close()
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Fatalf("connected after %s, before the listener existed", took)
	}

	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	l3, _ := net.Listen("tcp", "127.0.0.1:0")
	gone := l3.Addr().String()
	l3.Close()
	if _, err := dialUntilDeadline(short, "tcp", gone); err == nil {
		t.Fatal("a dial with nobody listening succeeded")
	}
}

func TestUsesTCP(t *testing.T) {
	for endpoints, want := range map[string]bool{
		"https://10.0.0.1:2379":         true,
		"unix:///data/etcd-client.sock": false,
		"":                              false,
	} {
		var eps []string
		if endpoints != "" {
			eps = []string{endpoints}
		}
		if got := usesTCP(eps); got != want {
			t.Errorf("usesTCP(%v) = %v, want %v", eps, got, want)
		}
	}
}
