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
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// coldStart times exec to a ready /readyz of our server with its embedded
// etcd: first starts on empty data dirs, then restarts of one data dir that
// holds n objects.
func coldStart(ctx context.Context, cfg *config, dir string, seed map[string]any, n, rounds int) (empty, loaded []time.Duration, err error) {
	startIn := func(dataDir string) (*peer, time.Duration, error) {
		port, err := freePort()
		if err != nil {
			return nil, 0, err
		}
		start := time.Now()
		p, err := startProcEnv(ourName, cfg.serverEnv, cfg.serverBin, "--data-dir", dataDir, "--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port))
		if err != nil {
			return nil, 0, err
		}
		base := fmt.Sprintf("https://127.0.0.1:%d", port)
		took, err := waitReady(ctx, p, base, start, 60*time.Second)
		if err != nil {
			p.stop()
			return nil, 0, err
		}
		return &peer{name: ourName, server: p, base: base, client: newHTTPClient(64)}, took, nil
	}
	for r := 0; r < rounds; r++ {
		d := filepath.Join(dir, fmt.Sprintf("cold-empty-%d", r))
		p, took, err := startIn(d)
		if err != nil {
			return nil, nil, err
		}
		p.server.stop()
		empty = append(empty, took)
		_ = os.RemoveAll(d)
	}
	d := filepath.Join(dir, "cold-loaded")
	p, _, err := startIn(d)
	if err != nil {
		return nil, nil, err
	}
	if p.token, err = readAdminToken(d); err != nil {
		p.server.stop()
		return nil, nil, err
	}
	_, err = createAll(ctx, p, seed, func(i int) string { return namespaceName(i % 10) }, func(i int) string { return fmt.Sprintf("cold-%06d", i) }, n, 32)
	p.server.stop()
	if err != nil {
		return nil, nil, err
	}
	for r := 0; r < rounds; r++ {
		p, took, err := startIn(d)
		if err != nil {
			return nil, nil, err
		}
		p.server.stop()
		loaded = append(loaded, took)
	}
	return empty, loaded, nil
}
