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
	"encoding/json"
	"os"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestImportYAMLStdin reads a multi-document YAML stream from stdin: the
// seed's typed MPIJobList (whose items, as the API serves them, may omit
// their type), a single object without a namespace, and empty documents.
// Objects without a namespace go to the chosen context's namespace.
func TestImportYAMLStdin(t *testing.T) {
	s := inprocess.Start(t)
	data, err := os.ReadFile("../../../test/testdata/mpijob-list-response.json")
	if err != nil {
		t.Fatal(err)
	}
	seedList := map[string]any{}
	if err := json.Unmarshal(data, &seedList); err != nil {
		t.Fatal(err)
	}
	item := seedList["items"].([]any)[0].(map[string]any)
	delete(item, "apiVersion")
	delete(item, "kind")
	single := exported(t, "", "single")
	stream := "---\n" + toYAML(t, seedList) + "---\n" + toYAML(t, single) + "---\n"

	kc := writeKubeconfig(t, s, "ctx-ns")
	r := runImport(t, stream, "--kubeconfig", kc, "--context", "other", "-f", "-")
	if r.err != nil {
		t.Errorf("import: %v", r.err)
	}
	assertLines(t, r.out, "created kube-test/mpi-test\n", "created ctx-ns/single\n",
		"2 created, 0 unchanged, 0 refused, 0 differ, 0 status written\n")
	if r.errOut != "" {
		t.Errorf("warnings for a clean export: %s", r.errOut)
	}
	assertImported(t, s, "kube-test", seedItem(t))
	assertImported(t, s, "ctx-ns", single)

	// The kubeconfig defaults to $KUBECONFIG, and its current context's
	// namespace is "default"; the same stream as JSON is unchanged there.
	t.Setenv("KUBECONFIG", kubeconfig(s))
	r = runImport(t, toJSON(t, seedList), "-f", "-")
	if r.err != nil {
		t.Errorf("import from $KUBECONFIG: %v", r.err)
	}
	assertLines(t, r.out, "unchanged kube-test/mpi-test\n", "0 created, 1 unchanged")
}

// TestImportDryRun: the server validates everything and stores nothing.
func TestImportDryRun(t *testing.T) {
	s := inprocess.Start(t)
	ok := exported(t, "dry", "ok")
	bad := exported(t, "dry", "bad")
	at(bad, "spec", "mpiReplicaSpecs", "Worker")["replicas"] = 0
	file := writeFile(t, "export.yaml", toYAML(t, ok)+"---\n"+toYAML(t, vList(bad)))

	r := runImport(t, "", "--kubeconfig", kubeconfig(s), "--dry-run", "-f", file)
	if r.err == nil {
		t.Error("dry run with a refusal succeeded")
	}
	assertLines(t, r.out, "created dry/ok (server dry run)\n",
		`refused dry/bad: MPIJob.kubeflow.org "bad" is invalid: spec.mpiReplicaSpecs[Worker].replicas`,
		"1 created, 0 unchanged, 1 refused, 0 differ, 0 status written (server dry run)\n")
	list, err := s.Client.KubeflowV1alpha2().MPIJobs("").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("a dry run stored %d objects", len(list.Items))
	}

	// For an existing object, a dry run compares and reports as a real run.
	r = runImport(t, "", "--kubeconfig", kubeconfig(s), "-f", file)
	assertLines(t, r.out, "created dry/ok\n")
	rv := get(t, s, "dry", "ok").ResourceVersion
	r = runImport(t, "", "--kubeconfig", kubeconfig(s), "--dry-run", "-f", file)
	assertLines(t, r.out, "unchanged dry/ok (server dry run)\n")
	if got := get(t, s, "dry", "ok").ResourceVersion; got != rv {
		t.Errorf("a dry run changed dry/ok: resourceVersion %s, was %s", got, rv)
	}
	if _, err := s.Client.KubeflowV1alpha2().MPIJobs("dry").Get(t.Context(), "bad", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get dry/bad: %v, want not found", err)
	}
}

// TestImportBadInput: input that does not parse imports nothing, and the
// error says where; this needs no server, since input is read first.
func TestImportBadInput(t *testing.T) {
	nowhere := writeFile(t, "kubeconfig", "")
	for name, tc := range map[string]struct{ input, args, want string }{
		"bad YAML":      {input: "apiVersion: kubeflow.org/v1alpha2\nkind: [\n", want: "stdin: document 1"},
		"not an object": {input: "- a\n- b\n", want: "stdin: document 1: not an object"},
		"null item":     {input: `{"kind":"MPIJobList","apiVersion":"kubeflow.org/v1alpha2","items":[null]}`, want: "item 1: not an object"},
		"stdin twice":   {args: "-f -", want: "standard input can be read once"},
		"missing file":  {args: "-f /nonexistent/export.yaml", want: "no such file"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"--kubeconfig", nowhere, "-f", "-"}, strings.Fields(tc.args)...)
			r := runImport(t, tc.input, args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", r.err, tc.want)
			}
			if r.out != "" {
				t.Errorf("output for input that does not parse: %s", r.out)
			}
		})
	}
}
