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
	"time"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// coldStart times exec to a ready /readyz of our server with its embedded
// etcd: first starts on empty data dirs, then restarts of one data dir that
// holds n objects.
func coldStart(ctx context.Context, cfg *config, dir string, seed map[string]any, n, rounds int) (empty, loaded []time.Duration, err error) {
	// Every start's log goes to dir/mpijob-apiserver.log.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	// The server's ReadyAfter is exec to the first 200 from /readyz.
	startIn := func(dataDir string) (*harness.Server, error) {
		return startServer(ctx, cfg, dataDir, dir, nil, nil)
	}
	for r := 0; r < rounds; r++ {
		d := filepath.Join(dir, fmt.Sprintf("cold-empty-%d", r))
		s, err := startIn(d)
		if err != nil {
			return nil, nil, err
		}
		stop(s.Process)
		empty = append(empty, s.ReadyAfter)
		_ = os.RemoveAll(d)
	}
	d := filepath.Join(dir, "cold-loaded")
	s, err := startIn(d)
	if err != nil {
		return nil, nil, err
	}
	_, err = createAll(ctx, ourPeer(s, nil), seed, func(i int) string { return namespaceName(i % 10) }, func(i int) string { return fmt.Sprintf("cold-%06d", i) }, n, 32)
	stop(s.Process)
	if err != nil {
		return nil, nil, err
	}
	for r := 0; r < rounds; r++ {
		s, err := startIn(d)
		if err != nil {
			return nil, nil, err
		}
		stop(s.Process)
		loaded = append(loaded, s.ReadyAfter)
	}
	return empty, loaded, nil
}
