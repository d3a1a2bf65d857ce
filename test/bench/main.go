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

// Command bench measures mpijob-apiserver against the same MPIJob served as
// a CRD by k8s.io/apiextensions-apiserver, each on its own etcd 3.7.0 process
// of identical configuration, and against the floors (in-process encoding,
// raw etcd puts). It prints a table of medians and ratios and can write
// docs/BENCHMARKS.md with an SVG chart. `make bench` runs it; see the README.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

type config struct {
	serverBin, etcdBin, crdPeerBin string
	seedFile                       string
	workDir                        string
	out, svg                       string

	objects, namespaces int
	rounds, listSamples int
	creates, clients    int
	watchers, watchRate int
	watchSeconds        int
	serverArgs          stringList
	serverEnv           stringList
	quick               bool
	skipColdStart       bool
	skipWatch           bool
	skipV2beta1         bool
	corpus              string
	profileDir          string
	profileSeconds      int
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	cfg := &config{}
	flag.StringVar(&cfg.serverBin, "server-bin", "_output/bin/mpijob-apiserver", "the mpijob-apiserver binary")
	flag.StringVar(&cfg.etcdBin, "etcd-bin", "_output/bin/etcd", "an etcd 3.7.0 server binary (test/tools/etcd)")
	flag.StringVar(&cfg.crdPeerBin, "crdpeer-bin", "_output/bench/crdpeer", "the CRD peer binary (test/bench/crdpeer)")
	flag.StringVar(&cfg.seedFile, "seed", "artifacts/mpijobs/mpi-test.yaml", "the object every benchmark object copies")
	flag.StringVar(&cfg.workDir, "work-dir", "", "where the etcd data and server files go (default: a new temp dir, removed at the end)")
	flag.StringVar(&cfg.out, "out", "", "write the results into this markdown file (between its bench markers)")
	flag.StringVar(&cfg.svg, "svg", "", "write the ratio chart to this SVG file")
	flag.IntVar(&cfg.objects, "objects", 10000, "MPIJobs loaded into each peer (up to 150000)")
	flag.IntVar(&cfg.namespaces, "namespaces", 10, "namespaces the objects are spread over evenly")
	flag.IntVar(&cfg.rounds, "rounds", 5, "rounds of every measurement")
	flag.IntVar(&cfg.listSamples, "list-samples", 5, "LISTs of each kind per round")
	flag.IntVar(&cfg.creates, "creates", 2000, "creates per round of the create-throughput measurement")
	flag.IntVar(&cfg.clients, "clients", 32, "concurrent clients for loading and creates")
	flag.IntVar(&cfg.watchers, "watchers", 200, "concurrent watchers (up to 1000)")
	flag.IntVar(&cfg.watchRate, "watch-writes", 50, "writes per second while the watchers watch")
	flag.IntVar(&cfg.watchSeconds, "watch-seconds", 10, "length of each watch round")
	flag.Var(&cfg.serverArgs, "server-arg", "an extra flag for mpijob-apiserver (repeatable), e.g. to measure a lever off")
	flag.Var(&cfg.serverEnv, "server-env", "an extra KEY=VALUE in mpijob-apiserver's environment (repeatable), e.g. GOGC=50")
	flag.BoolVar(&cfg.quick, "quick", false, "a smoke run: 1,000 objects, 1 round, short watch; proves the harness, figures mean little")
	flag.BoolVar(&cfg.skipColdStart, "skip-cold-start", false, "do not measure the embedded-etcd cold start")
	flag.BoolVar(&cfg.skipWatch, "skip-watch", false, "do not measure the watch fan-out")
	flag.BoolVar(&cfg.skipV2beta1, "skip-v2beta1", false, "do not measure kubeflow.org/v2beta1 against mpi-operator v0.7.0's CRD and against v1alpha2")
	flag.StringVar(&cfg.corpus, "corpus", corpusCopies, "what is loaded: "+corpusCopies+" (copies of --seed) or "+corpusVaried+
		" (a generated, reproducible corpus of differing jobs with statuses, corpus.go)")
	flag.StringVar(&cfg.profileDir, "profile-dir", "", "also record CPU and heap profiles of this server under the LIST, watch and create workloads into this dir")
	flag.IntVar(&cfg.profileSeconds, "profile-seconds", 15, "length of each profiled workload")
	flag.Parse()
	if cfg.quick {
		cfg.objects, cfg.rounds, cfg.listSamples, cfg.creates, cfg.watchSeconds = 1000, 1, 2, 300, 2
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func (c *config) validate() error {
	switch {
	case c.corpus != corpusCopies && c.corpus != corpusVaried:
		return fmt.Errorf("--corpus must be %s or %s, got %q", corpusCopies, corpusVaried, c.corpus)
	case c.objects < 1 || c.objects > 150000:
		return fmt.Errorf("--objects must be 1..150000, got %d", c.objects)
	case c.namespaces < 1 || c.namespaces > c.objects:
		return fmt.Errorf("--namespaces must be 1..--objects, got %d", c.namespaces)
	case c.rounds < 1 || c.listSamples < 1 || c.creates < 1 || c.clients < 1:
		return fmt.Errorf("--rounds, --list-samples, --creates and --clients must be positive")
	case c.watchers < 1 || c.watchers > 1000:
		return fmt.Errorf("--watchers must be 1..1000, got %d", c.watchers)
	case c.watchRate < 1 || c.watchSeconds < 1:
		return fmt.Errorf("--watch-writes and --watch-seconds must be positive")
	}
	for _, f := range []string{c.serverBin, c.etcdBin, c.crdPeerBin, c.seedFile} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%v (make bench builds the binaries)", err)
		}
	}
	return nil
}
