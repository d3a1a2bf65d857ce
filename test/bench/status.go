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
	"sync"
	"sync/atomic"
	"time"
)

// measureStatusUpdates measures what an operator costs the write path most:
// clients each read an existing job and write its whole status back through
// /status in JSON, as mpi-operator v0.7.0 does on every sync. Each client
// has jobs of its own, so no write conflicts. The peers alternate which goes
// first from round to round.
func (r *results) measureStatusUpdates(ctx context.Context, peers []*peer, perNS int) error {
	names := statusJobs(r.cfg, perNS)
	rate := map[string][]float64{}
	latency := map[string][]float64{}
	for round := 0; round < r.cfg.rounds; round++ {
		for _, p := range alternate(peers, round) {
			took, lat, err := statusUpdates(ctx, p, namespaceName(0), names, r.cfg.creates, r.cfg.clients, round)
			if err != nil {
				return err
			}
			rate[p.name] = append(rate[p.name], float64(r.cfg.creates)/took.Seconds())
			latency[p.name] = append(latency[p.name], lat...)
		}
	}
	label := fmt.Sprintf("%d clients, GET then PUT /status of the whole job, JSON", r.cfg.clients)
	r.add(row{metric: "status update throughput, " + label, unit: "updates/s",
		ours: summarize(rate[peers[0].name]), peer: ptr(summarize(rate[peers[1].name]))})
	ours, crd := summarize(latency[peers[0].name]), summarize(latency[peers[1].name])
	r.add(row{metric: "status update p99 latency of the PUT, " + label, unit: "ms",
		ours: one(ours.p99), peer: ptr(one(crd.p99)), lowerBetter: true})
	return nil
}

// statusJobs are the names of the perNS jobs the load put in namespace 0.
func statusJobs(cfg *config, perNS int) []string {
	names := make([]string, perNS)
	for k := range names {
		names[k] = fmt.Sprintf("mpi-test-%06d", k*cfg.namespaces)
	}
	return names
}

// statusUpdates makes n read-modify-write cycles with the given number of
// clients; client c updates names[c], names[c+clients], ... in turn, and
// starts again at names[c] after its last (no two clients share a job while
// there are at least as many jobs as clients). Each
// write changes the status (a worker count and a time), so that none is a
// no-op the server could skip. It returns the wall time and each PUT's
// latency in milliseconds.
func statusUpdates(ctx context.Context, p *peer, ns string, names []string, n, clients, round int) (time.Duration, []float64, error) {
	return statusUpdatesAt(ctx, p, apiPath, ns, names, n, clients, round)
}

// statusUpdatesAt is statusUpdates under the API path api.
func statusUpdatesAt(ctx context.Context, p *peer, api, ns string, names []string, n, clients, round int) (time.Duration, []float64, error) {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var mu sync.Mutex
	latencies := make([]float64, 0, n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) { once.Do(func() { firstErr = err; cancel() }) }
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := 0
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				// Only client c's own names, round and round: wrapping
				// around all of names would hand one job to two clients
				// and their PUTs would conflict (409).
				name := names[c%len(names)] // more clients than jobs: shared
				if own := (len(names) - c + clients - 1) / clients; own > 0 {
					name = names[c+(mine%own)*clients]
				}
				mine++
				path := nsPathAt(api, ns) + "/" + name
				body, err := p.call(ctx, "GET", path, nil, 200)
				if err != nil {
					fail(err)
					return
				}
				var obj map[string]any
				if err := json.Unmarshal(body, &obj); err != nil {
					fail(fmt.Errorf("GET %s on %s: %w", path, p.name, err))
					return
				}
				obj["status"] = operatorStatus(round*n+i, time.Now())
				body, err = json.Marshal(obj)
				if err != nil {
					fail(err)
					return
				}
				sent := time.Now()
				if _, err := p.call(ctx, "PUT", path+"/status", body, 200); err != nil {
					fail(err)
					return
				}
				took := float64(time.Since(sent)) / float64(time.Millisecond)
				mu.Lock()
				latencies = append(latencies, took)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return time.Since(start), latencies, firstErr
}

// operatorStatus is a status as an operator writes it for a running job:
// Created and Running conditions, the replicas' counts and the start time.
// seq makes each one different.
func operatorStatus(seq int, now time.Time) map[string]any {
	ts := now.UTC().Format(time.RFC3339)
	condition := func(typ, reason, message string) map[string]any {
		return map[string]any{"type": typ, "status": "True", "reason": reason, "message": message,
			"lastUpdateTime": ts, "lastTransitionTime": ts}
	}
	return map[string]any{
		"conditions": []any{
			condition("Created", "MPIJobCreated", "MPIJob is created."),
			condition("Running", "MPIJobRunning", "MPIJob is running."),
		},
		"replicaStatuses": map[string]any{
			"Launcher": map[string]any{"active": 1},
			"Worker":   map[string]any{"active": 1 + seq%1000},
		},
		"startTime": ts,
	}
}
