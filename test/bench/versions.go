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

// The v2beta1 phase runs after the v1alpha2 phases (before the profiles)
// unless --skip-v2beta1 is given. One apiextensions server cannot serve two
// CRDs under one name, so it stops the first CRD peer (the v1alpha2 CRD), to
// free the cores, and starts a second one on an etcd of its own serving
// mpi-operator v0.7.0's CRD (manifests/base of the module, from the Go module
// cache). That peer is loaded through kubeflow.org/v2beta1 with as many
// objects in the same namespaces under the same names; each is the seed as
// our server converts it: one loaded object read from our server in v2beta1
// JSON, without metadata and status, so that both peers hold the same
// v2beta1 content. Our server keeps the objects loaded in v1alpha2 and serves
// them as v2beta1 through conversion. The rows, all in v2beta1 with our
// server as "ours" and the v0.7.0 CRD as the peer: the namespace LIST in
// JSON, our protobuf over the wire against the CRD's JSON, create
// throughput, status update throughput and PUT p99 (of jobs both peers
// created in v2beta1, as v2beta1StatusUpdates says), and watch delivery p99
// and CPU (unless --skip-watch); the goal of each is the ours/CRD ratio of
// its v1alpha2 row in the same run. Then the cost of conversion, on our
// server alone: the namespace LIST in v2beta1 against the same LIST in
// v1alpha2, JSON and protobuf, goal ≤ 1.1× (there the "CRD peer" column is
// our own v1alpha2). Peers and API versions alternate which goes first from
// round to round.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const (
	v2beta1Path = "/apis/kubeflow.org/v2beta1"
	v070Name    = "CRD v0.7.0 (apiextensions-apiserver)"
	// upstreamModule is the mpi-operator release whose CRD serves v2beta1.
	upstreamModule = "github.com/kubeflow/mpi-operator@v0.7.0"
	// v2beta1Prefix starts the metric of a row compared with the v0.7.0 CRD.
	v2beta1Prefix = "v2beta1 vs CRD v0.7.0 (goal: the v1alpha2 row's ratio): "
)

func (r *results) measureV2beta1(ctx context.Context, ours, crd *peer, dir string, perNS int) error {
	start := time.Now()
	crdFile, err := upstreamCRDFile(ctx, dir)
	if err != nil {
		return err
	}
	crd.stop()
	v070, err := startCRDPeerAs(ctx, r.cfg, dir, v070Name, "v0.7.0", "--crd-file="+crdFile)
	if err != nil {
		return err
	}
	defer v070.stop()
	seed, err := v2beta1Seed(ctx, ours)
	if err != nil {
		return err
	}
	took, err := createBodiesAt(ctx, v070, v2beta1Path, seedBody(seed),
		func(i int) string { return namespaceName(i % r.cfg.namespaces) },
		func(i int) string { return fmt.Sprintf("mpi-test-%06d", i) }, r.cfg.objects, r.cfg.clients)
	if err != nil {
		return fmt.Errorf("loading %s: %w", v070.name, err)
	}
	r.loadRate[v070.name] = float64(r.cfg.objects) / took.Seconds()
	logf("loaded %d objects into %s in %s (%.0f objects/s)", r.cfg.objects, v070.name, took.Round(time.Millisecond), r.loadRate[v070.name])
	for _, p := range []*peer{ours, v070} {
		n, err := countItems(ctx, p, nsPathAt(v2beta1Path, namespaceName(0)))
		if err != nil {
			return err
		}
		if n < perNS {
			return fmt.Errorf("%s lists %d v2beta1 objects in %s, loaded %d", p.name, n, namespaceName(0), perNS)
		}
	}
	peers := []*peer{ours, v070}
	// One part failing does not stop the others.
	errs := []error{r.v2beta1Lists(ctx, peers, perNS)}
	if !r.cfg.skipWatch {
		errs = append(errs, r.v2beta1Watch(ctx, peers, seed))
	}
	// The status updates write jobs the creates made.
	errs = append(errs, r.v2beta1Creates(ctx, peers, seed))
	if errs[len(errs)-1] == nil {
		errs = append(errs, r.v2beta1StatusUpdates(ctx, peers))
	}
	logf("v2beta1 phase took %s", time.Since(start).Round(time.Second))
	return errors.Join(errs...)
}

// upstreamCRDFile is v0.7.0's MPIJob CRD in the Go module cache, downloaded
// first when it is not there.
func upstreamCRDFile(ctx context.Context, dir string) (string, error) {
	tmp, err := os.MkdirTemp(dir, "gomod")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	mod, err := harness.ModuleDir(ctx, tmp, upstreamModule)
	if err != nil {
		return "", err
	}
	f := filepath.Join(mod, "manifests", "base", "kubeflow.org_mpijobs.yaml")
	if _, err := os.Stat(f); err != nil {
		return "", err
	}
	return f, nil
}

// v2beta1Seed is the first loaded object as our server serves it in
// v2beta1, without metadata and status: the seed converted as our server
// converts it.
func v2beta1Seed(ctx context.Context, ours *peer) (map[string]any, error) {
	b, err := ours.call(ctx, "GET", nsPathAt(v2beta1Path, namespaceName(0))+"/mpi-test-000000", nil, 200)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	if obj["apiVersion"] != "kubeflow.org/v2beta1" {
		return nil, fmt.Errorf("GET in v2beta1 answered apiVersion %v", obj["apiVersion"])
	}
	delete(obj, "metadata")
	delete(obj, "status")
	return obj, nil
}

// v2beta1Lists LISTs namespace 0 in v2beta1 from both peers and, on our
// server, in v1alpha2 too, JSON and (ours only) protobuf.
func (r *results) v2beta1Lists(ctx context.Context, peers []*peer, perNS int) error {
	ns := namespaceName(0)
	ours, v070 := peers[0], peers[1]
	type kind struct {
		p    *peer
		path string
		v    listVariant
	}
	asJSON, asProto := listVariants[0], listVariant{label: "protobuf", protobuf: true}
	kinds := []kind{
		{ours, nsPathAt(v2beta1Path, ns), asJSON},
		{v070, nsPathAt(v2beta1Path, ns), asJSON},
		{ours, nsPath(ns), asJSON},
		{ours, nsPathAt(v2beta1Path, ns), asProto},
		{ours, nsPath(ns), asProto},
	}
	samples := make([][]time.Duration, len(kinds))
	for _, k := range kinds { // warm-up
		if _, _, err := listOnce(ctx, k.p, k.path, k.v); err != nil {
			return err
		}
	}
	for round := 0; round < r.cfg.rounds; round++ {
		for i := range kinds {
			j := i
			if round%2 == 1 {
				j = len(kinds) - 1 - i
			}
			for s := 0; s < r.cfg.listSamples; s++ {
				took, _, err := listOnce(ctx, kinds[j].p, kinds[j].path, kinds[j].v)
				if err != nil {
					return err
				}
				samples[j] = append(samples[j], took)
			}
		}
	}
	sum := func(j int) summary { return summarize(millis(samples[j])) }
	base := fmt.Sprintf("LIST %d objects, JSON, %s", perNS, asJSON.label)
	r.addV2beta1(base, "ms", sum(0), sum(1), true)
	r.addV2beta1(fmt.Sprintf("LIST %d objects, RV=\"\": ours protobuf over the wire, not decoded, vs CRD JSON", perNS), "ms", sum(3), sum(1), true)
	r.add(row{metric: fmt.Sprintf("cost of conversion, LIST %d objects, JSON, RV=\"\": ours v2beta1 vs ours v1alpha2 (in the CRD peer column)", perNS),
		unit: "ms", ours: sum(0), peer: ptr(sum(2)), peerName: "v1alpha2", lowerBetter: true, goalPeer: 1.1})
	r.add(row{metric: fmt.Sprintf("cost of conversion, LIST %d objects, protobuf, RV=\"\": ours v2beta1 vs ours v1alpha2 (in the CRD peer column)", perNS),
		unit: "ms", ours: sum(3), peer: ptr(sum(4)), peerName: "v1alpha2", lowerBetter: true, goalPeer: 1.1})
	return nil
}

func (r *results) v2beta1Creates(ctx context.Context, peers []*peer, seed map[string]any) error {
	rate := map[string][]float64{}
	for round := 0; round < r.cfg.rounds; round++ {
		ns := v2beta1CreateNamespace(round)
		for _, p := range alternate(peers, round) {
			took, err := createBodiesAt(ctx, p, v2beta1Path, seedBody(seed), func(int) string { return ns },
				func(i int) string { return fmt.Sprintf("c-%06d", i) }, r.cfg.creates, r.cfg.clients)
			if err != nil {
				return err
			}
			rate[p.name] = append(rate[p.name], float64(r.cfg.creates)/took.Seconds())
		}
	}
	r.addV2beta1(fmt.Sprintf("create throughput, %d clients", r.cfg.clients), "objects/s",
		summarize(rate[peers[0].name]), summarize(rate[peers[1].name]), false)
	return nil
}

// v2beta1StatusUpdates writes the status of jobs both peers created in
// v2beta1 (v2beta1Creates' first round), as mpi-operator v0.7.0 writes that
// of its users' jobs. The jobs loaded in v1alpha2 would measure another
// path on this server: their managers are v1alpha2's, so every v2beta1
// update converts managed fields across versions.
func (r *results) v2beta1StatusUpdates(ctx context.Context, peers []*peer) error {
	names := make([]string, r.cfg.creates)
	for i := range names {
		names[i] = fmt.Sprintf("c-%06d", i)
	}
	rate, latency := map[string][]float64{}, map[string][]float64{}
	for round := 0; round < r.cfg.rounds; round++ {
		for _, p := range alternate(peers, round) {
			took, lat, err := statusUpdatesAt(ctx, p, v2beta1Path, v2beta1CreateNamespace(0), names, r.cfg.creates, r.cfg.clients, round)
			if err != nil {
				return err
			}
			rate[p.name] = append(rate[p.name], float64(r.cfg.creates)/took.Seconds())
			latency[p.name] = append(latency[p.name], lat...)
		}
	}
	label := fmt.Sprintf("%d clients, GET then PUT /status of the whole job, JSON", r.cfg.clients)
	r.addV2beta1("status update throughput, "+label, "updates/s", summarize(rate[peers[0].name]), summarize(rate[peers[1].name]), false)
	ours, crd := summarize(latency[peers[0].name]), summarize(latency[peers[1].name])
	r.addV2beta1("status update p99 latency of the PUT, "+label, "ms", one(ours.p99), one(crd.p99), true)
	return nil
}

func (r *results) v2beta1Watch(ctx context.Context, peers []*peer, seed map[string]any) error {
	var benches []*watchBench
	for _, p := range peers {
		benches = append(benches, &watchBench{p: p, seed: seed, ns: watchNamespace + "-v2beta1", api: v2beta1Path,
			watchers: r.cfg.watchers, rate: r.cfg.watchRate, seconds: r.cfg.watchSeconds})
	}
	got, err := alternatingSamples(ctx, benches, r.cfg.rounds)
	if err != nil {
		return fmt.Errorf("v2beta1 watch: %w", err)
	}
	label := fmt.Sprintf("%d watchers, %d writes/s", r.cfg.watchers, r.cfg.watchRate)
	r.addV2beta1(watchP99Metric+label, "ms", summarize(got[0].p99s), summarize(got[1].p99s), true)
	r.addV2beta1(fmt.Sprintf("server CPU per %d s watch round, %s", r.cfg.watchSeconds, label), "s",
		summarize(got[0].cpu), summarize(got[1].cpu), true)
	return nil
}

// addV2beta1 adds the v2beta1 row of the v1alpha2 row whose metric is base;
// its goal is that row's ours/CRD ratio (to two places), when there is one.
func (r *results) addV2beta1(base, unit string, ours, crd summary, lowerBetter bool) {
	goal := 0.0
	for _, x := range r.rows {
		if x.metric == base {
			v, _ := x.peerRatio()
			goal = math.Round(v*100) / 100
		}
	}
	r.add(row{metric: v2beta1Prefix + base, unit: unit, ours: ours, peer: &crd, lowerBetter: lowerBetter, goalPeer: goal})
}

// v2beta1CreateNamespace is where v2beta1Creates creates in round.
func v2beta1CreateNamespace(round int) string { return fmt.Sprintf("bench-create-v2beta1-%d", round) }
