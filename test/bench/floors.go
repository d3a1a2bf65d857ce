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

package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/apiserver"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// storedBytes reads one object as the server stored it in etcd: the raw put
// floor writes exactly these bytes.
func storedBytes(ctx context.Context, etcd *harness.Etcd, key string) ([]byte, error) {
	c, err := harness.EtcdClient(etcd)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	resp, err := c.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) != 1 {
		return nil, fmt.Errorf("no object at %s", key)
	}
	return resp.Kvs[0].Value, nil
}

// rawPuts writes n values of the given bytes under distinct keys with the
// given number of concurrent clients sharing one etcd client (as an API
// server does), and returns how long it took: the floor for a create.
func rawPuts(ctx context.Context, etcd *harness.Etcd, prefix string, value []byte, n, clients int) (time.Duration, error) {
	c, err := harness.EtcdClient(etcd)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				// A create is a transaction that puts only if the key is new.
				key := fmt.Sprintf("%s/%08d", prefix, i)
				_, err := c.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
					Then(clientv3.OpPut(key, string(value))).Commit()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return time.Since(start), <-errs
}

// encodeFloor decodes one LIST answer of our server into the typed list and
// times encoding it again to JSON in this process, with the serializer the
// server uses: no server can write the list faster than this.
func encodeFloor(body []byte, samples int) ([]time.Duration, error) {
	scheme := apiserver.Scheme
	serializer := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{})
	var list v1alpha2.MPIJobList
	if _, _, err := serializer.Decode(body, nil, &list); err != nil {
		return nil, err
	}
	var enc runtime.Encoder = serializer
	out := make([]time.Duration, 0, samples)
	for i := 0; i < samples; i++ {
		start := time.Now()
		if err := enc.Encode(&list, io.Discard); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}
