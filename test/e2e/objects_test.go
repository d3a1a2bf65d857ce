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

package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const (
	apiVersion = "kubeflow.org/v1alpha2"
	seedNS     = "kube-test"
	seedName   = "mpi-test"
	seedImage  = "100.79.1.215:20202/paas_cci_w00427225/horovod-mxnet:mnist"
)

func jobsPath(ns string) string { return "/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs" }

// job describes a small MPIJob for manifests.
type job struct {
	name, ns      string
	labels        map[string]string
	workers       int
	slots         int // 0: unset
	cleanPod      string
	launcherImage string
	// sidecarFirst puts a sidecar before the launcher's main container and
	// names the main one in spec.mainContainer.
	sidecarFirst bool
	status       string // raw YAML appended under status:, indented by 2
}

func (j job) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: %s\nkind: MPIJob\nmetadata:\n  name: %s\n  namespace: %s\n", apiVersion, j.name, j.ns)
	if len(j.labels) > 0 {
		b.WriteString("  labels:\n")
		keys := make([]string, 0, len(j.labels))
		for k := range j.labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "    %s: %q\n", k, j.labels[k])
		}
	}
	b.WriteString("spec:\n")
	if j.cleanPod != "" {
		fmt.Fprintf(&b, "  cleanPodPolicy: %s\n", j.cleanPod)
	}
	if j.slots > 0 {
		fmt.Fprintf(&b, "  slotsPerWorker: %d\n", j.slots)
	}
	image := j.launcherImage
	if image == "" {
		image = "e2e.example/launcher:1"
	}
	if j.sidecarFirst {
		b.WriteString("  mainContainer: main\n")
	}
	b.WriteString("  mpiReplicaSpecs:\n    Launcher:\n      replicas: 1\n      template:\n        spec:\n          containers:\n")
	if j.sidecarFirst {
		b.WriteString("          - name: sidecar\n            image: e2e.example/sidecar:1\n")
		fmt.Fprintf(&b, "          - name: main\n            image: %s\n", image)
	} else {
		fmt.Fprintf(&b, "          - name: mpi\n            image: %s\n", image)
	}
	workers := j.workers
	if workers == 0 {
		workers = 2
	}
	fmt.Fprintf(&b, "    Worker:\n      replicas: %d\n      template:\n        spec:\n          containers:\n", workers)
	worker := "mpi"
	if j.sidecarFirst {
		worker = "main" // spec.mainContainer names a worker container too
	}
	fmt.Fprintf(&b, "          - name: %s\n            image: e2e.example/worker:1\n", worker)
	// Quantities in canonical form, so that a repeated client-side apply is
	// "unchanged" (kubernetes/kubernetes#66450: an integer cpu makes kubectl
	// patch it every time, for built-in types as well).
	b.WriteString("            resources:\n              limits:\n                cpu: \"1\"\n                memory: 2Gi\n")
	if j.status != "" {
		b.WriteString("status:\n")
		for _, l := range strings.Split(strings.TrimRight(j.status, "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

// obj is a decoded JSON object.
type obj = map[string]any

func decodeJSON(t *testing.T, data []byte) obj {
	t.Helper()
	var o obj
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatalf("decoding JSON: %v\n%s", err, data)
	}
	return o
}

func yamlToObj(t *testing.T, data []byte) obj {
	t.Helper()
	j, err := utilyaml.ToJSON(data)
	if err != nil {
		t.Fatalf("decoding YAML: %v\n%s", err, data)
	}
	return decodeJSON(t, j)
}

// repoPath is a path of the repository, from its root.
func repoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := harness.RepoPath(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// get walks a path of keys (and, for lists, int indexes) through a decoded object.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(obj)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func getStr(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

// findKey returns the JSON paths at which key occurs anywhere in v.
func findKey(v any, key, at string) []string {
	var found []string
	switch x := v.(type) {
	case obj:
		for k, val := range x {
			if k == key {
				found = append(found, at+"."+k)
			}
			found = append(found, findKey(val, key, at+"."+k)...)
		}
	case []any:
		for i, val := range x {
			found = append(found, findKey(val, key, fmt.Sprintf("%s[%d]", at, i))...)
		}
	}
	return found
}

// canonicalSpec is what kube-apiserver gives back for a typed object written
// with this spec: resource quantities in canonical string form and an empty
// metadata on each pod template. Nothing else may differ.
func canonicalSpec(t *testing.T, spec obj) obj {
	t.Helper()
	data, _ := json.Marshal(spec)
	out := decodeJSON(t, data) // a deep copy
	replicaSpecs, _ := out["mpiReplicaSpecs"].(obj)
	for _, rs := range replicaSpecs {
		tmpl, _ := get(rs, "template").(obj)
		if tmpl == nil {
			continue
		}
		if _, ok := tmpl["metadata"]; !ok {
			tmpl["metadata"] = obj{}
		}
		containers, _ := get(tmpl, "spec", "containers").([]any)
		for _, c := range containers {
			for _, kind := range []string{"limits", "requests"} {
				rl, _ := get(c, "resources", kind).(obj)
				for name, q := range rl {
					parsed, err := resource.ParseQuantity(fmt.Sprint(q))
					if err != nil {
						t.Fatalf("the seed's %s %s %v is not a quantity: %v", kind, name, q, err)
					}
					rl[name] = parsed.String()
				}
			}
		}
	}
	return out
}

// names parses `kubectl get -o name` output into sorted object names.
func names(out string) []string {
	var ns []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			_, n, _ := strings.Cut(l, "/")
			ns = append(ns, n)
		}
	}
	sort.Strings(ns)
	return ns
}

// table splits kubectl's table output into rows of whitespace-separated cells.
func table(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			rows = append(rows, strings.Fields(l))
		}
	}
	return rows
}
