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
	"strings"
	"time"
)

// Output is what the process itself wrote, its stderr and then its stdout,
// without the line the harness writes into the log before each start. That
// line names the binary and every flag, so a test that looks for a path or a
// flag in the process's own messages would find it there and could not fail.
func (p *Process) Output() string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(p.Log(), "\n") {
		if !p.isStartLine(line) {
			b.WriteString(line)
		}
	}
	return b.String() + p.Stdout()
}

// isStartLine tells the "=== <time> <binary> <flags>" line of start from
// the process's own output.
func (p *Process) isStartLine(line string) bool {
	rest, ok := strings.CutPrefix(line, "=== ")
	if !ok {
		return false
	}
	stamp, cmdline, ok := strings.Cut(rest, " ")
	if !ok {
		return false
	}
	if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
		return false
	}
	return strings.HasPrefix(cmdline, p.Bin+" ") || strings.TrimSuffix(cmdline, "\n") == p.Bin
}
