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
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/yaml"
)

// seedObject reads the seed's mpi-test MPIJob; every benchmark object is a
// copy of it under another name and namespace, without status (a create
// resets status anyway).
func seedObject(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := yaml.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	delete(obj, "status")
	return obj, nil
}

// objectJSON is the seed under a new name and namespace, as a create body.
func objectJSON(seed map[string]any, ns, name string) []byte {
	meta := map[string]any{"name": name, "namespace": ns}
	obj := make(map[string]any, len(seed))
	for k, v := range seed {
		obj[k] = v
	}
	obj["metadata"] = meta
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	return b
}

func namespaceName(i int) string { return fmt.Sprintf("bench-%03d", i) }

// createAll POSTs copies of the seed with the given number of concurrent
// clients and returns how long it took; any answer but 201 is an error.
func createAll(ctx context.Context, p *peer, seed map[string]any, ns func(i int) string, name func(i int) string, n, clients int) (time.Duration, error) {
	return createBodiesAt(ctx, p, apiPath, seedBody(seed), ns, name, n, clients)
}

// seedBody makes copies of the seed as create bodies.
func seedBody(seed map[string]any) func(ns, name string, i int) []byte {
	return func(ns, name string, _ int) []byte { return objectJSON(seed, ns, name) }
}

// createBodiesAt is createAll under the API path api, with body(namespace,
// name, i) as object i.
func createBodiesAt(ctx context.Context, p *peer, api string, body func(ns, name string, i int) []byte, ns func(i int) string, name func(i int) string, n, clients int) (time.Duration, error) {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				namespace := ns(i)
				if _, err := p.call(ctx, "POST", nsPathAt(api, namespace), body(namespace, name(i), i), 201); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}
