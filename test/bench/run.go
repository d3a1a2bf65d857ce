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
	"strings"
	"time"
)

// results gathers every measurement of one run.
type results struct {
	machine  machineInfo
	cfg      *config
	rows     []row
	loadRate map[string]float64 // objects/s while loading, per peer
	failures []string           // phases that failed, with why
}

func run(ctx context.Context, cfg *config) error {
	if err := useBinaries(cfg); err != nil {
		return err
	}
	dir := cfg.workDir
	if dir == "" {
		d, err := os.MkdirTemp("", "mpijob-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	seed, err := seedObject(cfg.seedFile)
	if err != nil {
		return err
	}
	res := &results{machine: describeMachine(), cfg: cfg, loadRate: map[string]float64{}}
	logf("machine: %s", res.machine)

	ours, err := startOurs(ctx, cfg, dir)
	if err != nil {
		return err
	}
	defer ours.stop()
	crd, err := startCRDPeer(ctx, cfg, dir)
	if err != nil {
		return err
	}
	defer crd.stop()
	peers := []*peer{ours, crd}

	// Load each peer in turn, so that they never share the cores.
	loadNS := func(i int) string { return namespaceName(i % cfg.namespaces) }
	loadName := func(i int) string { return fmt.Sprintf("mpi-test-%06d", i) }
	body := seedBody(seed)
	if cfg.corpus == corpusVaried {
		body = variedJob
	}
	for _, p := range peers {
		took, err := createBodiesAt(ctx, p, apiPath, body, loadNS, loadName, cfg.objects, cfg.clients)
		if err != nil {
			return fmt.Errorf("loading %s: %w", p.name, err)
		}
		res.loadRate[p.name] = float64(cfg.objects) / took.Seconds()
		logf("loaded %d objects into %s in %s", cfg.objects, p.name, took.Round(time.Millisecond))
		if cfg.corpus == corpusVaried {
			start := time.Now()
			if err := writeVariedStatuses(ctx, p, loadNS, loadName, cfg.objects, cfg.clients); err != nil {
				return fmt.Errorf("writing the statuses of %s: %w", p.name, err)
			}
			logf("wrote their statuses in %s", time.Since(start).Round(time.Millisecond))
		}
	}
	perNS := cfg.objects / cfg.namespaces
	for _, p := range peers {
		n, err := countItems(ctx, p, nsPath(namespaceName(0)))
		if err != nil {
			return err
		}
		if n < perNS {
			return fmt.Errorf("%s lists %d objects in %s, loaded %d", p.name, n, namespaceName(0), perNS)
		}
	}
	// A phase that fails is reported and the run goes on, so that one
	// failure does not throw away what the other phases measured; the run
	// still ends in an error.
	phase := func(name string, err error) {
		if err != nil {
			res.failures = append(res.failures, fmt.Sprintf("%s: %v", name, err))
			logf("%s failed: %v", name, err)
		}
	}
	settle()
	phase("RSS after load", res.measureRSS(peers, "RSS after load"))
	phase("LIST", res.measureLists(ctx, peers, perNS))
	phase("full LIST", res.measureFullLists(ctx, peers))
	settle()
	phase("RSS after full LISTs", res.measureRSS(peers, "RSS after full LISTs"))
	if !cfg.skipWatch {
		phase("watch", res.measureWatch(ctx, peers, seed))
		phase("informer watch", res.measureInformerWatch(ctx, peers, seed))
	}
	phase("create", res.measureCreates(ctx, peers, seed, dir))
	phase("status updates", res.measureStatusUpdates(ctx, peers, perNS))
	if !cfg.skipV2beta1 { // stops the CRD peer, then serves v0.7.0's CRD in its place
		phase("v2beta1", res.measureV2beta1(ctx, ours, crd, dir, perNS))
	}
	// Profiles last: their extra writes would skew the comparison.
	if cfg.profileDir != "" {
		phase("profiles", profilePhases(ctx, cfg, ours, seed))
	}
	ours.stop()
	crd.stop()
	if !cfg.skipColdStart {
		phase("cold start", res.measureColdStart(ctx, dir, seed))
	}
	res.print(os.Stdout)
	if cfg.out != "" {
		if err := res.writeMarkdown(cfg.out, cfg.svg); err != nil {
			return err
		}
		logf("wrote %s", cfg.out)
	}
	if cfg.svg != "" {
		if err := os.WriteFile(cfg.svg, res.svgChart(), 0o644); err != nil {
			return err
		}
		logf("wrote %s", cfg.svg)
	}
	if len(res.failures) > 0 {
		return fmt.Errorf("%d phases failed: %s", len(res.failures), strings.Join(res.failures, "; "))
	}
	return nil
}

// settle lets the Go runtimes of the servers finish the work a phase left
// behind before memory is read.
func settle() { time.Sleep(3 * time.Second) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
