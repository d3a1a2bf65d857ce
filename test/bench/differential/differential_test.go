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

package differential

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// fuzzSeed makes the fuzzed jobs the same on every run, so that a
	// failure names a job that can be made again.
	fuzzSeed = 20260801
	fuzzJobs = 1000
	workers  = 8
	// shown bounds the failures printed in full; the rest are counted by
	// kind.
	shown = 10
)

// TestDifferential sends the same kubeflow.org/v2beta1 requests to
// mpijob-apiserver and to mpi-operator v0.7.0's CRD served by
// apiextensions-apiserver, each on its own etcd, and compares the answers.
func TestDifferential(t *testing.T) {
	start := time.Now()
	dir := upstreamDir(t)
	ours := startOurs(t)
	crd := startCRDPeer(t, filepath.Join(dir, "manifests", "base", "kubeflow.org_mpijobs.yaml"))
	t.Logf("both servers ready after %v", time.Since(start).Round(time.Millisecond))
	pair := &pair{ours: ours, crd: crd}

	t.Run("examples", func(t *testing.T) {
		rec := &recorder{}
		for i, ex := range upstreamExamples(t, dir) {
			pair.lifecycle(rec, fmt.Sprintf("ex-%d", i), ex.file, ex.json, i)
		}
		rec.report(t)
	})

	t.Run("fuzzed", func(t *testing.T) {
		began := time.Now()
		g := newGenerator(fuzzSeed)
		bodies := make([][]byte, fuzzJobs)
		for i := range bodies {
			data, err := json.Marshal(g.job(fmt.Sprintf("fuzz-%04d", i)))
			if err != nil {
				t.Fatal(err)
			}
			bodies[i] = data
		}
		rec := &recorder{}
		next := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := range next {
					pair.lifecycle(rec, "fuzz", fmt.Sprintf("fuzz-%04d", i), bodies[i], i)
				}
			})
		}
		for i := range bodies {
			next <- i
		}
		close(next)
		wg.Wait()
		t.Logf("%d fuzzed jobs, 4 operations each on both servers, in %v", fuzzJobs, time.Since(began).Round(time.Millisecond))
		rec.report(t)
	})

	t.Run("invalid", func(t *testing.T) { testInvalid(t, pair) })
	t.Run("invalid updates", func(t *testing.T) { testInvalidUpdates(t, pair) })
	t.Run("invalid statuses", func(t *testing.T) { testInvalidStatus(t, pair) })

	exceptionHits.Lock()
	for _, e := range knownDifferences {
		t.Logf("known difference %q: %d comparisons", e.name, exceptionHits.n[e.name])
	}
	exceptionHits.Unlock()
	t.Logf("differential test: %v", time.Since(start).Round(time.Millisecond))
}

type pair struct{ ours, crd *server }

// lifecycle creates, reads, updates and writes the status of one job on
// both servers, comparing each answer; what differs goes to rec.
func (p *pair) lifecycle(rec *recorder, ns, what string, body []byte, seed int) {
	var meta struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		rec.add(fmt.Sprintf("%s: %v", what, err), "bad input")
		return
	}
	name := meta.Metadata.Name
	path := jobsPath(ns)
	step := func(op string, want int, o, c map[string]any, oCode, cCode int, oBody, cBody []byte) bool {
		if oCode != want || cCode != want {
			rec.add(fmt.Sprintf("%s %s: HTTP ours %d, crd %d, want %d both\nours: %.600s\ncrd:  %.600s", what, op, oCode, cCode, want, oBody, cBody), op+": HTTP codes")
			return false
		}
		if d := compare(o, c); len(d) > 0 {
			rec.add(fmt.Sprintf("%s %s: objects differ:\n  %s", what, op, strings.Join(d, "\n  ")), kinds(op, d)...)
		}
		return true
	}
	call := func(s *server, method, path string, body []byte) (map[string]any, int, []byte) {
		r, err := s.send(method, path, body)
		if err != nil {
			return nil, 0, []byte(err.Error())
		}
		if r.Code >= 300 {
			return nil, r.Code, r.Body
		}
		obj, err := object(r)
		if err != nil {
			return nil, 0, []byte(err.Error())
		}
		return obj, r.Code, r.Body
	}
	both := func(op, method, path string, want int, bodyOf func(side *server) []byte) (map[string]any, map[string]any, bool) {
		o, oc, ob := call(p.ours, method, path, bodyOf(p.ours))
		c, cc, cb := call(p.crd, method, path, bodyOf(p.crd))
		return o, c, step(op, want, o, c, oc, cc, ob, cb)
	}
	same := func(*server) []byte { return body }

	if _, _, ok := both("create", http.MethodPost, path, http.StatusCreated, same); !ok {
		return
	}
	oGot, cGot, ok := both("get", http.MethodGet, path+"/"+name, http.StatusOK, func(*server) []byte { return nil })
	if !ok {
		return
	}
	read := map[*server]map[string]any{p.ours: oGot, p.crd: cGot}
	oUp, cUp, ok := both("update", http.MethodPut, path+"/"+name, http.StatusOK, func(s *server) []byte {
		return mustJSON(changeSpec(deepCopy(read[s])))
	})
	if !ok {
		return
	}
	updated := map[*server]map[string]any{p.ours: oUp, p.crd: cUp}
	status := newGenerator(uint64(seed)).status()
	both("status update", http.MethodPut, path+"/"+name+"/status", http.StatusOK, func(s *server) []byte {
		obj := deepCopy(updated[s])
		obj["status"] = deepCopy(status)
		// Ignored through /status by both.
		obj["spec"].(map[string]any)["slotsPerWorker"] = 7
		return mustJSON(obj)
	})
}

// changeSpec is the update: a label and one more worker.
func changeSpec(obj map[string]any) map[string]any {
	md := obj["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
	}
	labels["updated"] = "yes"
	md["labels"] = labels
	if w, ok := dig(obj, "spec", "mpiReplicaSpecs", "Worker").(map[string]any); ok {
		n, _ := w["replicas"].(json.Number).Int64()
		w["replicas"] = n + 1
	}
	return obj
}

// mustJSON marshals what json.Unmarshal made; it cannot fail.
func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// recorder collects failures from the workers: the first few in full, all
// of them counted by kind.
type recorder struct {
	mu     sync.Mutex
	n      int
	full   []string
	byKind map[string]int
}

func (r *recorder) add(msg string, kinds ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if len(r.full) < shown {
		r.full = append(r.full, msg)
	}
	if r.byKind == nil {
		r.byKind = map[string]int{}
	}
	for _, k := range kinds {
		r.byKind[k]++
	}
}

func (r *recorder) report(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return
	}
	kinds := make([]string, 0, len(r.byKind))
	for k, n := range r.byKind {
		kinds = append(kinds, fmt.Sprintf("%5d  %s", n, k))
	}
	sort.Strings(kinds)
	t.Errorf("%d operations differ. By kind:\n%s\nThe first %d:\n%s", r.n, strings.Join(kinds, "\n"), len(r.full), strings.Join(r.full, "\n\n"))
}

var index = regexp.MustCompile(`\[\d+\]`)

// kinds names each difference by operation, path without list indices
// and which side lacks it.
func kinds(op string, diffs []string) []string {
	out := make([]string, 0, len(diffs))
	seen := map[string]bool{}
	for _, d := range diffs {
		path, rest, _ := strings.Cut(d, ": ")
		k := op + " " + index.ReplaceAllString(path, "[]")
		switch {
		case strings.Contains(rest, "ours absent"):
			k += " (only crd)"
		case strings.Contains(rest, "crd absent"):
			k += " (only ours)"
		default:
			k += " (values)"
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
