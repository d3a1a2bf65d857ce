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
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profilePhases records CPU and heap profiles of our server under each
// workload for the given duration: the LIST loop, the watch fan-out (raw
// watchers, typed informers and dynamic informers), the
// create loop and the status update loop in v1alpha2 and in v2beta1, so that
// the report can say where the time goes.
func profilePhases(ctx context.Context, cfg *config, p *peer, seed map[string]any) error {
	if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
		return err
	}
	d := cfg.profileSeconds
	loop := func(fn func() error) func() error {
		return func() error {
			end := time.Now().Add(time.Duration(d) * time.Second)
			for time.Now().Before(end) {
				if err := fn(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	phases := []struct {
		name string
		work func() error
	}{
		{"list-json", loop(func() error {
			_, _, err := listOnce(ctx, p, nsPath(namespaceName(0)), listVariants[0])
			return err
		})},
		{"watch", func() error {
			w := &watchBench{p: p, seed: seed, ns: "bench-profile-watch", watchers: cfg.watchers, rate: cfg.watchRate, seconds: d}
			_, err := w.run(ctx, 1)
			return err
		}},
		{"watch-informers-typed", informerPhase(ctx, cfg, p, seed, typedInformers)},
		{"watch-informers-dynamic", informerPhase(ctx, cfg, p, seed, dynamicInformers)},
		{"create", func() error {
			ns := "bench-profile-create"
			_, err := createAll(ctx, p, seed, func(int) string { return ns }, func(i int) string { return fmt.Sprintf("p-%06d", i) }, cfg.creates*2, cfg.clients)
			return err
		}},
		{"status", loop(func() error {
			_, _, err := statusUpdates(ctx, p, namespaceName(0), statusJobs(cfg, cfg.objects/cfg.namespaces), 500, cfg.clients, 0)
			return err
		})},
		{"status-v2beta1", loop(func() error {
			_, _, err := statusUpdatesAt(ctx, p, v2beta1Path, namespaceName(0), statusJobs(cfg, cfg.objects/cfg.namespaces), 500, cfg.clients, 0)
			return err
		})},
	}
	for _, ph := range phases {
		var wg sync.WaitGroup
		var profErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			profErr = fetchProfile(ctx, p, fmt.Sprintf("/debug/pprof/profile?seconds=%d", d), filepath.Join(cfg.profileDir, ph.name+".cpu.pprof"))
		}()
		if err := ph.work(); err != nil {
			return fmt.Errorf("profiling %s: %w", ph.name, err)
		}
		wg.Wait()
		if profErr != nil {
			return profErr
		}
		if err := fetchProfile(ctx, p, "/debug/pprof/heap", filepath.Join(cfg.profileDir, ph.name+".heap.pprof")); err != nil {
			return err
		}
		logf("profiled %s into %s", ph.name, cfg.profileDir)
	}
	return nil
}

// informerPhase is the watch fan-out read by informers of the given kind,
// each phase on a namespace of its own.
func informerPhase(ctx context.Context, cfg *config, p *peer, seed map[string]any, kind informerKind) func() error {
	return func() error {
		w := &watchBench{p: p, seed: seed, ns: "bench-profile-informers-" + string(kind), watchers: cfg.watchers,
			rate: cfg.watchRate, seconds: cfg.profileSeconds, informers: kind}
		_, err := w.run(ctx, 1)
		return err
	}
}

func fetchProfile(ctx context.Context, p *peer, path, file string) error {
	resp, err := p.do(ctx, nil, "GET", path, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d: %.200s", path, resp.StatusCode, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
