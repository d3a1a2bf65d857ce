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
	"path/filepath"
	"time"
)

func (r *results) measureRSS(peers []*peer, label string) error {
	var v, anon [2]float64
	for i, p := range peers {
		b, err := rssBytes(p.server)
		if err != nil {
			return err
		}
		a, err := anonRSSBytes(p.server)
		if err != nil {
			return err
		}
		v[i], anon[i] = float64(b)/(1<<20), float64(a)/(1<<20)
	}
	r.add(row{metric: label, unit: "MiB", ours: one(v[0]), peer: ptr(one(v[1])), lowerBetter: true, goalPeer: 0.25})
	r.add(row{metric: label + ", anonymous part (without the executable's pages)", unit: "MiB", ours: one(anon[0]), peer: ptr(one(anon[1])), lowerBetter: true, goalPeer: 0.2})
	return nil
}

func (r *results) measureLists(ctx context.Context, peers []*peer, perNS int) error {
	ns := namespaceName(0)
	samples := make(map[string]map[string][]time.Duration)
	var body []byte
	for _, v := range listVariants {
		samples[v.label] = map[string][]time.Duration{}
	}
	for _, p := range peers {
		// One warm-up LIST per peer and kind: the first pays for connections.
		for _, v := range listVariants {
			if _, _, err := listOnce(ctx, p, nsPath(ns), v); err != nil {
				return err
			}
		}
	}
	for round := 0; round < r.cfg.rounds; round++ {
		for _, p := range alternate(peers, round) {
			for _, v := range listVariants {
				for s := 0; s < r.cfg.listSamples; s++ {
					took, _, err := listOnce(ctx, p, nsPath(ns), v)
					if err != nil {
						return err
					}
					samples[v.label][p.name] = append(samples[v.label][p.name], took)
				}
			}
		}
	}
	var err error
	if body, err = peers[0].call(ctx, "GET", nsPath(ns), nil, 200); err != nil {
		return err
	}
	floor, err := encodeFloor(body, r.cfg.rounds*r.cfg.listSamples)
	if err != nil {
		return fmt.Errorf("encode floor: %w", err)
	}
	floorSum := summarize(millis(floor))
	for _, v := range listVariants {
		r.add(row{metric: fmt.Sprintf("LIST %d objects, JSON, %s", perNS, v.label), unit: "ms",
			ours: summarize(millis(samples[v.label][peers[0].name])), peer: ptr(summarize(millis(samples[v.label][peers[1].name]))),
			floor: &floorSum, lowerBetter: true, goalPeer: 0.15, goalFloor: 1.5})
	}
	r.add(row{metric: fmt.Sprintf("encode %d objects to JSON in-process (floor)", perNS), unit: "ms", ours: floorSum, lowerBetter: true})

	// Protobuf over the wire, not decoded: the server's side of it.
	var raw []time.Duration
	for i := 0; i <= r.cfg.rounds*r.cfg.listSamples; i++ {
		took, _, err := listOnce(ctx, peers[0], nsPath(ns), listVariant{protobuf: true})
		if err != nil {
			return fmt.Errorf("protobuf LIST: %w", err)
		}
		if i > 0 {
			raw = append(raw, took)
		}
	}
	r.add(row{metric: fmt.Sprintf("LIST %d objects, RV=\"\": ours protobuf over the wire, not decoded, vs CRD JSON", perNS), unit: "ms",
		ours: summarize(millis(raw)), peer: ptr(summarize(millis(samples[listVariants[0].label][peers[1].name]))), lowerBetter: true})

	// Through client-go, decoding included: our typed clientset speaks
	// protobuf; the CRD's users have the dynamic client and JSON.
	typed, err := typedClient(peers[0])
	if err != nil {
		return err
	}
	dyn, err := dynamicClient(peers[1])
	if err != nil {
		return err
	}
	for _, v := range []listVariant{listVariants[0], listVariants[1]} {
		var ours, theirs []time.Duration
		for i := 0; i <= r.cfg.rounds*r.cfg.listSamples; i++ {
			took, n, err := typedListOnce(ctx, typed, ns, v)
			if err != nil {
				return fmt.Errorf("typed protobuf LIST: %w", err)
			}
			if n < perNS {
				return fmt.Errorf("typed LIST saw %d objects, want %d", n, perNS)
			}
			tookDyn, n, err := dynamicListOnce(ctx, dyn, ns, v)
			if err != nil {
				return fmt.Errorf("dynamic LIST of the CRD: %w", err)
			}
			if n < perNS {
				return fmt.Errorf("dynamic LIST saw %d objects, want %d", n, perNS)
			}
			if i > 0 { // the first of each is a warm-up
				ours, theirs = append(ours, took), append(theirs, tookDyn)
			}
		}
		oursSum := summarize(millis(ours))
		r.add(row{metric: fmt.Sprintf("LIST %d objects, %s: ours protobuf via typed clientset vs CRD JSON over the wire", perNS, v.label), unit: "ms",
			ours: oursSum, peer: ptr(summarize(millis(samples[v.label][peers[1].name]))), lowerBetter: true, goalPeer: 0.1})
		r.add(row{metric: fmt.Sprintf("LIST %d objects, %s, client-go decoding included: typed protobuf vs CRD dynamic JSON", perNS, v.label), unit: "ms",
			ours: oursSum, peer: ptr(summarize(millis(theirs))), lowerBetter: true})
	}
	return nil
}

func (r *results) measureFullLists(ctx context.Context, peers []*peer) error {
	all := map[string][]time.Duration{}
	for round := 0; round < r.cfg.rounds; round++ {
		for _, p := range alternate(peers, round) {
			took, _, err := listOnce(ctx, p, apiPath+"/mpijobs", listVariants[0])
			if err != nil {
				return err
			}
			all[p.name] = append(all[p.name], took)
		}
	}
	r.add(row{metric: fmt.Sprintf("LIST all %d objects, JSON, RV=\"\"", r.cfg.objects), unit: "ms",
		ours: summarize(millis(all[peers[0].name])), peer: ptr(summarize(millis(all[peers[1].name]))), lowerBetter: true, goalPeer: 0.1})
	return nil
}

func (r *results) measureWatch(ctx context.Context, peers []*peer, seed map[string]any) error {
	var benches []*watchBench
	for _, p := range peers {
		benches = append(benches, &watchBench{p: p, seed: seed, ns: watchNamespace, watchers: r.cfg.watchers, rate: r.cfg.watchRate, seconds: r.cfg.watchSeconds})
	}
	got, err := alternatingSamples(ctx, benches, r.cfg.rounds)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	logf("watch: %d rounds on each peer", r.cfg.rounds)
	label := fmt.Sprintf("%d watchers, %d writes/s", r.cfg.watchers, r.cfg.watchRate)
	o, c := summarize(got[0].latencies), summarize(got[1].latencies)
	r.add(row{metric: "watch delivery p50, " + label, unit: "ms", ours: one(o.median), peer: ptr(one(c.median)), lowerBetter: true})
	r.add(row{metric: watchP99Metric + label, unit: "ms", ours: summarize(got[0].p99s), peer: ptr(summarize(got[1].p99s)), lowerBetter: true, goalPeer: 1.0})
	r.add(row{metric: fmt.Sprintf("server CPU per %d s watch round, %s", r.cfg.watchSeconds, label), unit: "s",
		ours: summarize(got[0].cpu), peer: ptr(summarize(got[1].cpu)), lowerBetter: true, goalPeer: 0.5})
	return nil
}

// watchP99Metric starts the rows of the rounds' p99 delivery latencies.
const watchP99Metric = "watch delivery p99 (each round's, median of the rounds), "

func (r *results) measureCreates(ctx context.Context, peers []*peer, seed map[string]any, dir string) error {
	rate := map[string][]float64{}
	stored, err := storedBytes(ctx, peers[0].etcd, "/registry/kubeflow.org/mpijobs/"+namespaceName(0)+"/mpi-test-000000")
	if err != nil {
		return err
	}
	raw, err := startEtcd(ctx, dir, "etcd-raw")
	if err != nil {
		return err
	}
	defer stop(raw.Process)
	var floor []float64
	for round := 0; round < r.cfg.rounds; round++ {
		ns := fmt.Sprintf("bench-create-%d", round)
		for _, p := range alternate(peers, round) {
			took, err := createAll(ctx, p, seed, func(int) string { return ns }, func(i int) string { return fmt.Sprintf("c-%06d", i) }, r.cfg.creates, r.cfg.clients)
			if err != nil {
				return err
			}
			rate[p.name] = append(rate[p.name], float64(r.cfg.creates)/took.Seconds())
		}
		took, err := rawPuts(ctx, raw, fmt.Sprintf("/raw/%d", round), stored, r.cfg.creates, r.cfg.clients)
		if err != nil {
			return fmt.Errorf("raw etcd puts: %w", err)
		}
		floor = append(floor, float64(r.cfg.creates)/took.Seconds())
	}
	fs := summarize(floor)
	r.add(row{metric: fmt.Sprintf("create throughput, %d clients", r.cfg.clients), unit: "objects/s",
		ours: summarize(rate[peers[0].name]), peer: ptr(summarize(rate[peers[1].name])), floor: &fs, goalPeer: 2, goalFloor: 0.5})
	r.add(row{metric: fmt.Sprintf("raw etcd put-if-absent of the stored bytes (%d B), %d clients (floor)", len(stored), r.cfg.clients), unit: "objects/s", ours: fs})
	return nil
}

func (r *results) measureColdStart(ctx context.Context, dir string, seed map[string]any) error {
	empty, loaded, err := coldStart(ctx, r.cfg, filepath.Join(dir, "coldstart"), seed, r.cfg.objects, r.cfg.rounds)
	if err != nil {
		return fmt.Errorf("cold start: %w", err)
	}
	r.add(row{metric: "cold start to /readyz, embedded etcd, empty data dir", unit: "ms", ours: summarize(millis(empty)), lowerBetter: true, goalAbs: 1500})
	r.add(row{metric: fmt.Sprintf("restart to /readyz, embedded etcd holding %d objects", r.cfg.objects), unit: "ms", ours: summarize(millis(loaded)), lowerBetter: true, goalAbs: 1500})
	return nil
}

// alternate is the peers in order on even rounds and reversed on odd ones,
// so that neither always runs on a machine the other has just warmed or
// left busy.
func alternate(peers []*peer, round int) []*peer {
	out := make([]*peer, 0, len(peers))
	for _, i := range turns(len(peers), round) {
		out = append(out, peers[i])
	}
	return out
}

func one(v float64) summary  { return summary{n: 1, median: v, min: v, max: v, p99: v} }
func ptr(s summary) *summary { return &s }
