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
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	watchNamespace  = "bench-watch"
	watchNamePrefix = "wev-"
	watchersPerConn = 25
)

// watchResult is one round of the watch benchmark.
type watchResult struct {
	latencies []time.Duration // write sent to event received, every watcher
	cpu       float64         // server CPU seconds during the round
	missed    int             // events a watcher never saw
	ended     int             // watch streams the server had ended by the round's end
}

// watchBench opens the watchers on one namespace, then for each round writes
// at the given rate and records when each watcher sees each object's ADDED
// event.
type watchBench struct {
	p        *peer
	seed     map[string]any
	ns       string
	watchers int
	rate     int
	seconds  int
	api      string // the API path; empty is apiPath
	// informers, when set, watches with that many client-go informers of
	// the kind (informers.go) instead of raw JSON watch streams.
	informers informerKind

	sent    []atomic.Int64 // unix nanos each write was sent, by sequence
	mu      sync.Mutex
	got     [][]time.Duration // per sequence, the latency each watcher saw
	arrived atomic.Int64
	ended   atomic.Int64 // watch streams that ended before the run did
}

func (w *watchBench) run(ctx context.Context, rounds int) ([]watchResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := w.start(ctx, rounds); err != nil {
		return nil, err
	}
	return w.rounds(ctx, rounds, w.rate*w.seconds)
}

// start opens the watchers, or starts the informers and waits until they
// have synced, for rounds rounds of writes. They stay open until ctx ends.
func (w *watchBench) start(ctx context.Context, rounds int) error {
	perRound := w.rate * w.seconds
	w.sent = make([]atomic.Int64, perRound*rounds)
	w.got = make([][]time.Duration, perRound*rounds)
	if w.informers != "" {
		return w.startInformers(ctx)
	}
	var ready sync.WaitGroup
	errs := make(chan error, w.watchers)
	var client *http.Client
	for i := 0; i < w.watchers; i++ {
		// Many watchers share a connection, as informers of one client do,
		// but not all: HTTP/2 caps concurrent streams per connection.
		if i%watchersPerConn == 0 {
			client = newHTTPClient(1)
		}
		ready.Add(1)
		go func(c *http.Client) {
			if err := w.watch(ctx, c, &ready); err != nil && ctx.Err() == nil {
				w.ended.Add(1)
				errs <- err
			}
		}(client)
	}
	ready.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// watchSamples are what the rounds of one watch measurement gave.
type watchSamples struct {
	latencies []float64 // every delivery, in milliseconds
	p99s      []float64 // each round's p99 delivery, in milliseconds
	cpu       []float64 // the server's CPU seconds in each round
}

// alternatingSamples opens the watchers of every bench, then runs rounds
// rounds in which each bench writes and is watched in turn, the benches
// taking turns to go first from round to round; a round in which a watcher
// missed an event is an error. The watchers of the other benches stay open,
// idle, on their own namespace or server.
func alternatingSamples(ctx context.Context, benches []*watchBench, rounds int) ([]watchSamples, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, w := range benches {
		if err := w.start(ctx, rounds); err != nil {
			return nil, fmt.Errorf("%s: %w", w.p.name, err)
		}
	}
	out := make([]watchSamples, len(benches))
	for r := 0; r < rounds; r++ {
		for _, i := range turns(len(benches), r) {
			w := benches[i]
			perRound := w.rate * w.seconds
			res, err := w.round(ctx, r*perRound, perRound)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", w.p.name, err)
			}
			if res.missed > 0 {
				return nil, fmt.Errorf("%s: %d events never arrived; the server ended %d of %d watch streams", w.p.name, res.missed, res.ended, w.watchers)
			}
			ms := millis(res.latencies)
			out[i].latencies = append(out[i].latencies, ms...)
			out[i].p99s = append(out[i].p99s, summarize(ms).p99)
			out[i].cpu = append(out[i].cpu, res.cpu)
		}
	}
	return out, nil
}

// turns is the order n measurements take in round r: each goes first in
// turn.
func turns(n, r int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = (r + i) % n
	}
	return order
}

func (w *watchBench) rounds(ctx context.Context, rounds, perRound int) ([]watchResult, error) {
	var results []watchResult
	for r := 0; r < rounds; r++ {
		res, err := w.round(ctx, r*perRound, perRound)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
	}
	return results, nil
}

// saw records that a watcher received the ADDED event of the object name
// at now; names the benchmark did not write are ignored.
func (w *watchBench) saw(name string, now time.Time) {
	seq, err := strconv.Atoi(strings.TrimPrefix(name, watchNamePrefix))
	if err != nil || !strings.HasPrefix(name, watchNamePrefix) || seq >= len(w.sent) {
		return
	}
	lat := now.Sub(time.Unix(0, w.sent[seq].Load()))
	w.mu.Lock()
	w.got[seq] = append(w.got[seq], lat)
	w.mu.Unlock()
	w.arrived.Add(1)
}

func (w *watchBench) round(ctx context.Context, first, n int) (watchResult, error) {
	cpu0, err := cpuSeconds(w.p.server)
	if err != nil {
		return watchResult{}, err
	}
	w.arrived.Store(0)
	interval := time.Second / time.Duration(w.rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := first; i < first+n; i++ {
		<-tick.C
		seq := i
		wg.Add(1)
		// Each write on its own goroutine: a slow server answer must not
		// lower the offered rate.
		go func() {
			defer wg.Done()
			name := watchNamePrefix + strconv.Itoa(seq)
			w.sent[seq].Store(time.Now().UnixNano())
			if _, err := w.p.call(ctx, "POST", w.path(), objectJSON(w.seed, w.ns, name), 201); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return watchResult{}, err
	}
	want := int64(n * w.watchers)
	deadline := time.Now().Add(30 * time.Second)
	for w.arrived.Load() < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cpu1, err := cpuSeconds(w.p.server)
	if err != nil {
		return watchResult{}, err
	}
	res := watchResult{cpu: cpu1 - cpu0, ended: int(w.ended.Load())}
	w.mu.Lock()
	for i := first; i < first+n; i++ {
		res.latencies = append(res.latencies, w.got[i]...)
		res.missed += w.watchers - len(w.got[i])
	}
	w.mu.Unlock()
	return res, nil
}

// path is the collection the watchers watch and the writes go to.
func (w *watchBench) path() string {
	if w.api == "" {
		return nsPath(w.ns)
	}
	return nsPathAt(w.api, w.ns)
}

// watch reads one watch stream line by line, finding the object's name
// without decoding the event: the harness must not be the bottleneck of 200
// watchers on two cores.
func (w *watchBench) watch(ctx context.Context, c *http.Client, ready *sync.WaitGroup) error {
	once := sync.OnceFunc(ready.Done)
	defer once()
	resp, err := w.p.do(ctx, c, "GET", w.path()+"?watch=true", "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("watch on %s: %d", w.p.name, resp.StatusCode)
	}
	once()
	key := []byte(`"name":"` + watchNamePrefix)
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// An event larger than the buffer: keep its head, skip the rest.
			head := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				_, err = r.ReadSlice('\n')
			}
			line = head
		}
		if err != nil {
			return err
		}
		now := time.Now()
		if !bytes.HasPrefix(line, []byte(`{"type":"ADDED"`)) {
			continue
		}
		i := bytes.Index(line, key)
		if i < 0 {
			continue
		}
		rest := line[i+len(key)-len(watchNamePrefix):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			continue
		}
		w.saw(string(rest[:j]), now)
	}
}
