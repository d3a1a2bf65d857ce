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
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// The varied corpus (--corpus=varied): jobs generated from their index
// alone, so every run and both peers get the same ones, that differ as a
// cluster's jobs do — names, labels, images, commands, resources, replica
// counts, policies and statuses — so that interning and the caches of
// encoded objects are not flattered by N copies of one job.

// The values of --corpus.
const (
	corpusCopies = "seed"
	corpusVaried = "varied"
)

// corpusRandSeed fixes the generated corpus.
const corpusRandSeed = 20261207

var (
	corpusTeams    = []string{"vision", "speech", "nlp", "recsys", "ranking", "search", "ads", "robotics", "bio", "infra"}
	corpusImages   = []string{"horovod/horovod", "mpioperator/tensorflow-benchmarks", "mpioperator/mpi-pi", "nvcr.io/nvidia/pytorch", "registry.example.com/ml/train"}
	corpusCPU      = []string{"500m", "1", "2", "4", "8", "16"}
	corpusMemory   = []string{"1Gi", "2Gi", "4Gi", "8Gi", "16Gi", "32Gi", "64Gi"}
	corpusPolicies = []string{"None", "Running", "All"}
	corpusStates   = []string{"Created", "Running", "Succeeded", "Failed"}
)

// corpusRand is the random source of job i.
func corpusRand(i int) *rand.Rand { return rand.New(rand.NewPCG(corpusRandSeed, uint64(i))) }

func pick[T any](r *rand.Rand, from []T) T { return from[r.IntN(len(from))] }

// variedJob is job i of the varied corpus, as a create body (v1alpha2).
func variedJob(ns, name string, i int) []byte {
	r := corpusRand(i)
	team := pick(r, corpusTeams)
	image := fmt.Sprintf("%s:%d.%d.%d", pick(r, corpusImages), 1+r.IntN(3), r.IntN(20), r.IntN(10))
	labels := map[string]any{"team": team, "app": fmt.Sprintf("%s-train-%d", team, r.IntN(50))}
	for k := range r.IntN(4) {
		labels[fmt.Sprintf("experiment-%d", k)] = fmt.Sprintf("run-%d", r.IntN(1000))
	}
	resources := func() map[string]any {
		res := map[string]any{"cpu": pick(r, corpusCPU), "memory": pick(r, corpusMemory)}
		if r.IntN(3) == 0 {
			res["nvidia.com/gpu"] = fmt.Sprint(1 << r.IntN(4))
		}
		return map[string]any{"limits": res, "requests": res}
	}
	container := func(args ...string) map[string]any {
		c := map[string]any{"name": "mpi", "image": image, "resources": resources()}
		if len(args) > 0 {
			c["command"] = []any{"/bin/bash"}
			c["args"] = args
		}
		if n := r.IntN(4); n > 0 {
			var env []any
			for k := range n {
				env = append(env, map[string]any{"name": fmt.Sprintf("VAR_%d", k), "value": fmt.Sprintf("%d", r.IntN(100000))})
			}
			c["env"] = env
		}
		return c
	}
	template := func(c map[string]any) map[string]any {
		return map[string]any{"spec": map[string]any{"containers": []any{c}}}
	}
	launcher := container("-c", fmt.Sprintf("mpirun -np %d python train.py --batch-size %d --epochs %d --lr 0.%03d",
		1+r.IntN(64), 16<<r.IntN(5), 1+r.IntN(100), r.IntN(1000)))
	obj := map[string]any{
		"apiVersion": "kubeflow.org/v1alpha2",
		"kind":       "MPIJob",
		"metadata":   map[string]any{"name": name, "namespace": ns, "labels": labels},
		"spec": map[string]any{
			"slotsPerWorker": 1 + r.IntN(8),
			"cleanPodPolicy": pick(r, corpusPolicies),
			"backoffLimit":   r.IntN(7),
			"mpiReplicaSpecs": map[string]any{
				"Launcher": map[string]any{"replicas": 1, "template": template(launcher)},
				"Worker":   map[string]any{"replicas": 1 + r.IntN(16), "template": template(container())},
			},
		},
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	return b
}

// variedStatus is the status of job i of the varied corpus, as an operator
// would have written it: a state and its history of conditions, replica
// counts and times spread over a week.
func variedStatus(i int) map[string]any {
	r := corpusRand(i)
	// A stream of its own, so that the status does not depend on how many
	// draws the spec took.
	r = rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(7*24*3600)) * time.Second)
	ts := func(d time.Duration) string { return start.Add(d).Format(time.RFC3339) }
	state := pick(r, corpusStates)
	condition := func(typ, reason string, after time.Duration) map[string]any {
		return map[string]any{"type": typ, "status": "True", "reason": reason,
			"message": fmt.Sprintf("MPIJob is %s.", typ), "lastUpdateTime": ts(after), "lastTransitionTime": ts(after)}
	}
	conditions := []any{condition("Created", "MPIJobCreated", 0)}
	workers := 1 + r.IntN(16)
	replicas := map[string]any{"Launcher": map[string]any{}, "Worker": map[string]any{}}
	status := map[string]any{"startTime": ts(0)}
	run := time.Duration(1+r.IntN(3600)) * time.Second
	switch state {
	case "Running":
		conditions = append(conditions, condition("Running", "MPIJobRunning", 30*time.Second))
		replicas = map[string]any{"Launcher": map[string]any{"active": 1}, "Worker": map[string]any{"active": workers}}
	case "Succeeded", "Failed":
		conditions = append(conditions, condition("Running", "MPIJobRunning", 30*time.Second), condition(state, "MPIJob"+state, run))
		key := map[string]string{"Succeeded": "succeeded", "Failed": "failed"}[state]
		replicas = map[string]any{"Launcher": map[string]any{key: 1}, "Worker": map[string]any{}}
		status["completionTime"] = ts(run)
	}
	status["conditions"] = conditions
	status["replicaStatuses"] = replicas
	return status
}

// writeVariedStatuses gives each loaded job of the varied corpus its status
// through /status (a merge patch: a create resets status), with the given
// number of clients.
func writeVariedStatuses(ctx context.Context, p *peer, ns func(i int) string, name func(i int) string, n, clients int) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				body, err := json.Marshal(map[string]any{"status": variedStatus(i)})
				if err == nil {
					err = p.patchStatus(ctx, nsPath(ns(i))+"/"+name(i), body)
				}
				if err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// patchStatus merge-patches the object's status through /status.
func (p *peer) patchStatus(ctx context.Context, path string, body []byte) error {
	resp, err := p.do(ctx, nil, "PATCH", path+"/status", "application/merge-patch+json", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("PATCH %s/status on %s: %d: %.300s", path, p.name, resp.StatusCode, b)
	}
	return nil
}
