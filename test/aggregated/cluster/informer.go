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

package cluster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// InformerBinEnv names the variable that gives the path of
// mpijob-informer-v0.3.0, the v1alpha2 informer of mpi-operator v0.3.0's
// generated clientset (test/operators/v0.3.0/cmd/mpijob-informer).
const InformerBinEnv = "MPIJOB_INFORMER_V030_BIN"

// InformerEvent is one event that the v0.3.0 informer delivered (Event add,
// update or delete), or its "synced" line once its first list is cached.
// Spec and Status are as v0.3.0's Go types marshal them.
type InformerEvent struct {
	Event           string            `json:"event"`
	Name            string            `json:"name"`
	ResourceVersion string            `json:"resourceVersion"`
	Generation      int64             `json:"generation"`
	Annotations     map[string]string `json:"annotations"`
	Spec            json.RawMessage   `json:"spec"`
	Status          json.RawMessage   `json:"status"`
}

// Informer is a running mpijob-informer-v0.3.0.
type Informer struct {
	*harness.Process
	// Events are its lines, parsed, as it writes them; closed when it has
	// exited and everything it wrote was read, or on Stop.
	Events <-chan InformerEvent

	stop     chan struct{}
	stopOnce sync.Once
	stopped  chan struct{}
	err      error // why reading ended early, set before stopped is closed
}

// StartInformer runs mpijob-informer-v0.3.0 ($MPIJOB_INFORMER_V030_BIN, else
// _output/operators/bin, built by test/operators/build.sh) as user on
// namespace's v1alpha2 MPIJobs, logging to Dir/logs/mpijob-informer.log.
// Stop it with Stop.
func (c *Cluster) StartInformer(user, namespace string) (*Informer, error) {
	bin := os.Getenv(InformerBinEnv)
	if bin == "" {
		var err error
		if bin, err = harness.RepoPath("_output", "operators", "bin", "mpijob-informer-v0.3.0"); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("cluster: mpijob-informer: %w (run make aggregated-bins, or set $%s)", err, InformerBinEnv)
	}
	// $KUBECONFIG would not override --kubeconfig, but keep the user's
	// credentials the only ones it could use.
	p, err := harness.StartProcess("mpijob-informer", bin, filepath.Join(c.Dir, "logs", "mpijob-informer.log"),
		[]string{"--kubeconfig=" + c.Kubeconfig(user), "--namespace=" + namespace}, []string{"KUBECONFIG="})
	if err != nil {
		return nil, err
	}
	events := make(chan InformerEvent)
	inf := &Informer{Process: p, Events: events, stop: make(chan struct{}), stopped: make(chan struct{})}
	go inf.follow(events)
	return inf, nil
}

// follow reads the process's stdout file as it grows and sends each whole
// line it reads.
func (inf *Informer) follow(events chan<- InformerEvent) {
	defer close(inf.stopped)
	defer close(events)
	f, err := os.Open(inf.StdoutFile)
	if err != nil {
		inf.err = err
		return
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var line []byte
	for {
		chunk, err := r.ReadBytes('\n')
		line = append(line, chunk...)
		if errors.Is(err, io.EOF) {
			// The rest of the line, or the next, is not written yet; once
			// the process has exited nothing more comes.
			if exited, _ := inf.Exited(); exited && len(chunk) == 0 {
				return
			}
			select {
			case <-inf.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			inf.err = err
			return
		}
		var ev InformerEvent
		if err := json.Unmarshal(bytes.TrimSpace(line), &ev); err != nil {
			inf.err = fmt.Errorf("cluster: mpijob-informer wrote %q: %w", line, err)
			return
		}
		line = nil
		select {
		case events <- ev:
		case <-inf.stop:
			return
		}
	}
}

// Stop stops reading and the process (SIGTERM, then SIGKILL after
// harness.TeardownTimeout); it returns what ended the reading early or the
// process's exit, if either was an error. Safe to call more than once.
func (inf *Informer) Stop() error {
	inf.stopOnce.Do(func() { close(inf.stop) })
	<-inf.stopped
	return errors.Join(inf.err, inf.Teardown())
}
