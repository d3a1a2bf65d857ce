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
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// KubectlTimeout bounds one kubectl run.
const KubectlTimeout = time.Minute

// KubectlPath is the kubectl to run: $KUBECTL_BIN, or kubectl on PATH.
func KubectlPath() (string, error) {
	if p := os.Getenv("KUBECTL_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("harness: $KUBECTL_BIN: %w", err)
		}
		return p, nil
	}
	p, err := exec.LookPath("kubectl")
	if err != nil {
		return "", fmt.Errorf("harness: kubectl is required on PATH (or set $KUBECTL_BIN): %w", err)
	}
	return p, nil
}

// Kubectl runs one kubectl binary against one kubeconfig, with a HOME of its
// own (and so a discovery cache of its own) and none of the test process's
// KUBECONFIG.
type Kubectl struct {
	Path       string
	Kubeconfig string
	// Home is kubectl's HOME; its discovery cache lives below it.
	Home string
}

// KubectlResult is what one kubectl run printed and how it exited.
type KubectlResult struct {
	Args           []string
	Stdout, Stderr string
	// ExitCode is kubectl's exit status; -1 when it did not run or was
	// killed (Err says why).
	ExitCode int
	Err      error
}

// String is the command, the exit code and both outputs, for messages.
func (r KubectlResult) String() string {
	return fmt.Sprintf("kubectl %s: exit %d (%v)\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.Args, " "), r.ExitCode, r.Err, r.Stdout, r.Stderr)
}

// Command is the kubectl command for args; the caller runs it, ctx bounds it.
func (k Kubectl) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.Path, append([]string{"--kubeconfig=" + k.Kubeconfig}, args...)...)
	env := []string{"HOME=" + k.Home}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Run runs kubectl (within KubectlTimeout) with stdin (none when empty); a
// non-zero exit is not an error here, the caller checks ExitCode.
func (k Kubectl) Run(ctx context.Context, stdin string, args ...string) KubectlResult {
	ctx, cancel := context.WithTimeout(ctx, KubectlTimeout)
	defer cancel()
	cmd := k.Command(ctx, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := KubectlResult{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		r.ExitCode, r.Err = exit.ExitCode(), nil
	default:
		r.ExitCode = -1
	}
	return r
}

// Succeeds runs kubectl and fails t unless it exits 0; it returns stdout.
func (k Kubectl) Succeeds(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	r := k.Run(context.Background(), stdin, args...)
	if r.ExitCode != 0 {
		t.Fatalf("%s", r)
	}
	return r.Stdout
}

// Fails runs kubectl and fails t if it exits 0; it returns stderr.
func (k Kubectl) Fails(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	r := k.Run(context.Background(), stdin, args...)
	if r.ExitCode == 0 {
		t.Fatalf("want an error, got %s", r)
	}
	if r.ExitCode < 0 {
		t.Fatalf("kubectl did not run: %s", r)
	}
	return r.Stderr
}
