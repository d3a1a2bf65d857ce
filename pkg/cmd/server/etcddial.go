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
	"strings"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apiserver/pkg/server/egressselector"
)

// Reconnecting to etcd after an outage.
//
// gRPC backs off between failed connection attempts (1 s, then 1.6 times
// more each time, up to 2 min), so after a 30 s etcd outage the server
// would wait up to about 10 s more after etcd is back before trying again.
// k8s.io/apiserver builds the etcd client itself and offers one hook into
// its dialing: the egress lookup. Through it the server dials etcd with a
// dialer that keeps trying every quarter second for as long as gRPC allows
// one attempt (at least 20 s), so gRPC sees one slow attempt that succeeds
// as soon as etcd listens again, instead of a failure and a long backoff.
const (
	etcdDialAttemptTimeout = time.Second
	etcdDialRetryInterval  = 250 * time.Millisecond
)

// patientEtcdDialer is the egress lookup for TCP etcd endpoints.
func patientEtcdDialer(egressselector.NetworkContext) (utilnet.DialFunc, error) {
	return dialUntilDeadline, nil
}

func dialUntilDeadline(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	for {
		attempt, cancel := context.WithTimeout(ctx, etcdDialAttemptTimeout)
		conn, err := d.DialContext(attempt, network, addr)
		cancel()
		if err == nil {
			return conn, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(etcdDialRetryInterval):
		}
	}
}

// usesTCP tells whether every endpoint is a TCP one; the embedded etcd's unix
// sockets are dialled by the etcd client itself (the egress hook would take
// them for TCP addresses).
func usesTCP(endpoints []string) bool {
	for _, e := range endpoints {
		if strings.HasPrefix(e, "unix") {
			return false
		}
	}
	return len(endpoints) > 0
}
