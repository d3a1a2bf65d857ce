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
	"path/filepath"
	"strings"
	"testing"
)

// TestOutput: Output is the process's own stderr and stdout, across a
// restart, without the start lines the harness adds to the log.
func TestOutput(t *testing.T) {
	p, err := StartProcess("sh", "/bin/sh", filepath.Join(t.TempDir(), "sh.log"),
		[]string{"-c", "echo === not a start line >&2; echo to-stderr >&2; echo to-stdout"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if n := strings.Count("\n"+p.Log(), "\n=== "); n != 4 {
		t.Fatalf("the log has %d lines starting with ===, want two start lines and two of the process's own:\n%s", n, p.Log())
	}
	own := "=== not a start line\nto-stderr\n"
	if got, want := p.Output(), own+own+"to-stdout\nto-stdout\n"; got != want {
		t.Errorf("Output() = %q, want %q", got, want)
	}
}
