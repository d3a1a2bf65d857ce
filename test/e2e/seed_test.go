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
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const (
	seedManifest = "artifacts/mpijobs/mpi-test.yaml"
	seedExample  = "test/testdata/mpijob-list-response.json"
)

var (
	seedOnce sync.Once
	seedErr  error
	// seedStatusResp is the server's answer to the status PUT.
	seedStatusResp []byte
)

// seeded makes sure the seed object exists on the shared server with the
// example's status, as a user creates it: kubectl create -f the artifact,
// then a PUT of its status through /status as the operator would.
func seeded(t *testing.T) {
	t.Helper()
	seedOnce.Do(func() { seedErr = createSeed() })
	if seedErr != nil {
		t.Fatalf("creating the seed object: %v", seedErr)
	}
}

func createSeed() error {
	s := shared
	manifest, err := harness.RepoPath(seedManifest)
	if err != nil {
		return err
	}
	r := s.run("", "create", "-f", manifest)
	if r.ExitCode != 0 {
		return fmt.Errorf("%s", r)
	}
	if want := "mpijob.kubeflow.org/mpi-test created"; strings.TrimSpace(r.Stdout) != want {
		return fmt.Errorf("kubectl create printed %q, want %q", r.Stdout, want)
	}
	code, cur, err := s.curlDo(curlReq{path: jobsPath(seedNS) + "/" + seedName})
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("GET the created object: %d %v: %s", code, err, cur)
	}
	var current struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(cur, &current); err != nil || current.Metadata.ResourceVersion == "" {
		return fmt.Errorf("the created object has no resourceVersion (%v): %s", err, cur)
	}

	// The body is the seed object with the example's status and the
	// current resourceVersion.
	body, err := harness.SeedJob()
	if err != nil {
		return err
	}
	example, err := seedExampleItem()
	if err != nil {
		return err
	}
	body["status"] = example["status"]
	body["metadata"].(obj)["resourceVersion"] = current.Metadata.ResourceVersion
	data, _ := json.Marshal(body)
	code, resp, err := s.curlDo(curlReq{method: http.MethodPut, path: jobsPath(seedNS) + "/" + seedName + "/status", body: data})
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("PUT .../mpi-test/status: %d, want 200: %s", code, resp)
	}
	seedStatusResp = resp
	return nil
}

func seedExampleItem() (obj, error) {
	list, err := harness.SeedList()
	if err != nil {
		return nil, err
	}
	items, _ := list["items"].([]any)
	if len(items) != 1 {
		return nil, fmt.Errorf("%s: want one item, have %d", seedExample, len(items))
	}
	return items[0].(obj), nil
}

// seedList is the example list response of the original API page.
func seedList(t *testing.T) obj {
	t.Helper()
	list, err := harness.SeedList()
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestSeedRoundTrip is the acceptance path: the seed object created
// with kubectl, its status PUT through /status, and the list read with curl
// compared with the original API page's example response.
func TestSeedRoundTrip(t *testing.T) {
	dumpOnFailure(t, shared)
	seeded(t)
	example := seedList(t)
	exampleItem := get(example, "items", 0).(obj)
	wantSpec := canonicalSpec(t, exampleItem["spec"].(obj))
	wantStatus := exampleItem["status"]

	t.Run("status PUT answer", func(t *testing.T) {
		resp := decodeJSON(t, seedStatusResp)
		if d := cmp.Diff(wantStatus, resp["status"]); d != "" {
			t.Errorf("status in the /status PUT answer differs from the seed's (-seed +served):\n%s", d)
		}
		if d := cmp.Diff(wantSpec, resp["spec"]); d != "" {
			t.Errorf("spec in the /status PUT answer (-want +served):\n%s", d)
		}
	})

	code, body := shared.curl(t, curlReq{path: jobsPath(seedNS)})
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d, want 200: %s", jobsPath(seedNS), code, body)
	}
	list := decodeJSON(t, body)
	t.Logf("list metadata: %v", list["metadata"])

	if got, want := list["apiVersion"], example["apiVersion"]; got != want {
		t.Errorf("list apiVersion = %v, want %v", got, want)
	}
	if got, want := list["kind"], example["kind"]; got != want {
		t.Errorf("list kind = %v, want %v", got, want)
	}
	if rv := getStr(list, "metadata", "resourceVersion"); rv == "" {
		t.Errorf("list metadata.resourceVersion is empty: %v", list["metadata"])
	}
	if at := findKey(list, "selfLink", ""); len(at) > 0 {
		t.Errorf("selfLink is served at %v; Kubernetes dropped it", at)
	}
	items, _ := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("list has %d items, want 1 (the seed): %s", len(items), body)
	}
	item := items[0].(obj)
	// Items carry no apiVersion and kind: kube-apiserver omits them in lists
	// of typed (built-in) objects; the example came from a CRD, whose
	// unstructured items keep them. When present they must be right.
	for _, k := range []string{"apiVersion", "kind"} {
		if v, ok := item[k]; ok && v != exampleItem[k] {
			t.Errorf("item %s = %v, want %v", k, v, exampleItem[k])
		}
	}
	for _, k := range []string{"name", "namespace"} {
		if got, want := getStr(item, "metadata", k), getStr(exampleItem, "metadata", k); got != want {
			t.Errorf("item metadata.%s = %q, want %q", k, got, want)
		}
	}
	// generation is 1 as in the example: the status write must not move it.
	if got := get(item, "metadata", "generation"); got != float64(1) {
		t.Errorf("item metadata.generation = %v, want 1 (only spec changes move it)", got)
	}
	for _, k := range []string{"uid", "resourceVersion", "creationTimestamp"} {
		if getStr(item, "metadata", k) == "" {
			t.Errorf("item metadata.%s is empty", k)
		}
	}
	if d := cmp.Diff(wantSpec, item["spec"]); d != "" {
		t.Errorf("item spec differs from the seed's beyond canonical quantities and an empty template metadata (-want +served):\n%s", d)
	}
	if d := cmp.Diff(wantStatus, item["status"]); d != "" {
		t.Errorf("item status differs from the seed's (-seed +served):\n%s", d)
	}
}
