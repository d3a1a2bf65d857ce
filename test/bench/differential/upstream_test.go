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
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mpijob/mpijob-apiserver/test/harness"
	"sigs.k8s.io/yaml"
)

// upstreamModule is the mpi-operator release whose CRD and examples the
// server is compared with.
const upstreamModule = "github.com/kubeflow/mpi-operator@v0.7.0"

// upstreamDir downloads the release into the module cache (a no-op when it
// is there already) and returns its directory. It runs outside this module
// so that go.mod stays as it is.
func upstreamDir(t *testing.T) string {
	t.Helper()
	dir, err := harness.ModuleDir(context.Background(), t.TempDir(), upstreamModule)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// example is one MPIJob of the release's examples, as JSON.
type example struct {
	file string
	json []byte
}

// upstreamExamples reads every YAML document under examples/v2beta1.
func upstreamExamples(t *testing.T, dir string) []example {
	t.Helper()
	root := filepath.Join(dir, "examples", "v2beta1")
	var out []example
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, doc := range strings.Split("\n"+string(data), "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			j, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				return err
			}
			out = append(out, example{file: rel, json: j})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no examples under %s", root)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].file < out[j].file })
	return out
}
