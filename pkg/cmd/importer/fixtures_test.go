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

package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/importer"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// result is what one run of the command printed and returned.
type result struct {
	out, errOut string
	err         error
}

// runImport runs `import` as the binary would, with stdin as standard input.
func runImport(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := importer.NewCommand(&out, &errOut)
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetErr(io.Discard) // cobra's own "Error:" line; the test checks err
	err := cmd.ExecuteContext(context.Background())
	t.Logf("import %s\nstdout:\n%sstderr:\n%serr: %v", strings.Join(args, " "), out.String(), errOut.String(), err)
	return result{out: out.String(), errOut: errOut.String(), err: err}
}

// kubeconfig is the admin kubeconfig the standalone server writes.
func kubeconfig(s *inprocess.Server) string { return s.Admin.Path }

// seedItem is the example list's mpi-test as the old cluster exported it:
// uid, resourceVersion, selfLink, creationTimestamp, generation and status.
func seedItem(t *testing.T) map[string]any {
	t.Helper()
	list, err := harness.SeedList()
	if err != nil {
		t.Fatal(err)
	}
	return list["items"].([]any)[0].(map[string]any)
}

// exported is the seed item renamed, as another object of the same export.
func exported(t *testing.T, namespace, name string) map[string]any {
	t.Helper()
	obj := seedItem(t)
	meta := obj["metadata"].(map[string]any)
	meta["name"] = name
	if namespace == "" {
		delete(meta, "namespace")
	} else {
		meta["namespace"] = namespace
	}
	meta["selfLink"] = "/apis/kubeflow.org/v1alpha2/namespaces/" + namespace + "/mpijobs/" + name
	return obj
}

// at walks a path of map keys and returns the map found there.
func at(obj map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		obj = obj[k].(map[string]any)
	}
	return obj
}

// vList wraps objects as `kubectl get -A -o json` prints them.
func vList(items ...map[string]any) map[string]any {
	anyItems := make([]any, len(items))
	for i, item := range items {
		anyItems[i] = item
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "items": anyItems,
		"metadata": map[string]any{"resourceVersion": ""}}
}

// writeFile writes content into the test's temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func toYAML(t *testing.T, v any) string {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// typed decodes an exported object as the server's type sees it.
func typed(t *testing.T, obj map[string]any) *v1alpha2.MPIJob {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	job := &v1alpha2.MPIJob{}
	if err := json.Unmarshal(data, job); err != nil {
		t.Fatal(err)
	}
	return job
}

// get reads an object from the server.
func get(t *testing.T, s *inprocess.Server, namespace, name string) *v1alpha2.MPIJob {
	t.Helper()
	job, err := s.Client.KubeflowV1alpha2().MPIJobs(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s/%s: %v", namespace, name, err)
	}
	return job
}

// assertImported checks that the server holds the exported object's spec
// and status (semantically: cpu 1 and "1" are equal), labels, annotations
// and owner references, with fresh server metadata.
func assertImported(t *testing.T, s *inprocess.Server, namespace string, obj map[string]any) *v1alpha2.MPIJob {
	t.Helper()
	want := typed(t, obj)
	got := get(t, s, namespace, want.Name)
	eq := equality.Semantic.DeepEqual
	if !eq(got.Spec, want.Spec) {
		t.Errorf("%s/%s spec:\n got %+v\nwant %+v", namespace, want.Name, got.Spec, want.Spec)
	}
	if !eq(got.Status, want.Status) {
		t.Errorf("%s/%s status:\n got %+v\nwant %+v", namespace, want.Name, got.Status, want.Status)
	}
	if !eq(got.Labels, want.Labels) || !eq(got.Annotations, want.Annotations) ||
		!eq(got.OwnerReferences, want.OwnerReferences) {
		t.Errorf("%s/%s metadata: got %+v, want labels, annotations and owners of %+v", namespace, want.Name, got.ObjectMeta, want.ObjectMeta)
	}
	if got.UID == want.UID || got.ResourceVersion == want.ResourceVersion || got.Generation != 1 ||
		got.CreationTimestamp.Equal(&want.CreationTimestamp) || got.DeletionTimestamp != nil {
		t.Errorf("%s/%s kept the old cluster's server fields: %+v", namespace, want.Name, got.ObjectMeta)
	}
	for _, m := range got.ManagedFields {
		for _, old := range want.ManagedFields {
			if m.Manager == old.Manager {
				t.Errorf("%s/%s has the export's field manager %q", namespace, want.Name, m.Manager)
			}
		}
	}
	return got
}

// writeKubeconfig copies the admin kubeconfig with one more context, named
// "other", whose namespace is the given one.
func writeKubeconfig(t *testing.T, s *inprocess.Server, namespace string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig(s))
	if err != nil {
		t.Fatal(err)
	}
	ctx := *cfg.Contexts[cfg.CurrentContext]
	ctx.Namespace = namespace
	cfg.Contexts["other"] = &ctx
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func assertLines(t *testing.T, output string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(output, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}
