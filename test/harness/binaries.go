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

package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// A program the tests run, built from the root module once per test process
// unless the environment names a binary already built (the Makefile builds
// them before the tests).
type program struct {
	env  string // the variable that names a built binary
	pkg  string // the main package, from the repository root
	name string

	once sync.Once
	path string
	err  error
}

var (
	serverProgram = &program{env: "MPIJOB_APISERVER_BIN", pkg: "./cmd/mpijob-apiserver", name: "mpijob-apiserver"}
	// etcdProgram is the one etcd program of the repository: etcd v3.7.0
	// (the version k8s.io/apiserver v0.37.2 requires) from the root module's
	// dependencies; the machine's packaged etcd is too old.
	etcdProgram = &program{env: "ETCD_BIN", pkg: "./test/tools/etcd", name: "etcd"}
)

// ServerBinary is the mpijob-apiserver binary: $MPIJOB_APISERVER_BIN, or one
// built from the repository into _output/harness the first time it is
// asked for in this process.
func ServerBinary() (string, error) { return serverProgram.binary() }

// EtcdBinary is the etcd binary: $ETCD_BIN, or one built from
// ./test/tools/etcd like ServerBinary.
func EtcdBinary() (string, error) { return etcdProgram.binary() }

func (p *program) binary() (string, error) {
	p.once.Do(func() {
		if p.path = os.Getenv(p.env); p.path != "" {
			if _, err := os.Stat(p.path); err != nil {
				p.err = fmt.Errorf("harness: $%s: %w", p.env, err)
			}
			return
		}
		p.path, p.err = p.build()
	})
	return p.path, p.err
}

// build compiles the program into _output/harness. Several test processes
// may build at once: each writes its own file and renames it into place.
func (p *program) build() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "_output", "harness")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, p.name)
	tmp := out + "." + strconv.Itoa(os.Getpid())
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", tmp, p.pkg)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("harness: go build %s (set $%s to use a built binary): %v\n%s", p.pkg, p.env, err, output)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "harness: built %s in %s\n", out, time.Since(start).Round(time.Millisecond))
	return out, nil
}
