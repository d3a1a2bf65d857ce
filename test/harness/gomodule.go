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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ModuleDir is the directory in the Go module cache of module (a path, or
// path@version), downloaded first when it is not there: the upstream
// operators' manifests and examples are read from there. dir is where `go
// mod download -json` runs: a module that pins it (test/operators/<version>),
// or, for path@version, any directory, in which case go.mod files are not
// consulted.
func ModuleDir(ctx context.Context, dir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module)
	cmd.Dir = dir
	if strings.Contains(module, "@") {
		// A given version needs no go.mod, whatever $GOFLAGS says of one.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// -json reports a module it cannot download in Error, on stdout.
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); err == nil {
		err = jerr
	}
	if err == nil && m.Dir == "" {
		err = errors.New("no module directory")
	}
	if err != nil {
		return "", fmt.Errorf("harness: `go mod download -json %s` in %s (it needs go on PATH and the module in the cache or from the module proxy): %w: %s %s",
			module, dir, err, m.Error, stderr.String())
	}
	return m.Dir, nil
}
