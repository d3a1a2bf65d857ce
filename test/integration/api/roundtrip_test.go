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

package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// testRoundTrip: what a client writes is what it reads back (DESIGN §4).
func testRoundTrip(t *testing.T, e *env) {
	const ns, name = "kube-test", "mpi-test"
	seed := seedJob(t)
	want := expectedSpec(t)

	created := e.create(t, seed)
	t.Run("CreateResponse", func(t *testing.T) {
		if d := diff(want, created["spec"]); d != "" {
			t.Errorf("POST response spec differs from the seed's (-want +got):\n%s", d)
		}
		if created["apiVersion"] != "kubeflow.org/v1alpha2" || created["kind"] != "MPIJob" {
			t.Errorf("POST response apiVersion/kind = %v/%v", created["apiVersion"], created["kind"])
		}
		if g := generation(t, created); g != 1 {
			t.Errorf("metadata.generation = %d, want 1", g)
		}
		for _, f := range []string{"uid", "resourceVersion", "creationTimestamp"} {
			if metaString(t, created, f) == "" {
				t.Errorf("metadata.%s is empty", f)
			}
		}
	})

	got := e.read(t, ns, name)
	t.Run("GetSpec", func(t *testing.T) {
		if d := diff(want, got["spec"]); d != "" {
			t.Errorf("GET spec differs from the seed's (-want +got):\n%s", d)
		}
		// The operator's in-memory defaults are never persisted.
		if _, ok := get(got, "spec", "backoffLimit"); ok {
			t.Errorf("spec.backoffLimit was added: %v", got["spec"])
		}
		if _, ok := get(got, "spec", "mpiReplicaSpecs", "Launcher", "restartPolicy"); ok {
			t.Errorf("Launcher restartPolicy was added: %v", mustGet(t, got, "spec", "mpiReplicaSpecs", "Launcher"))
		}
		if v, ok := get(got, "spec", "cleanPodPolicy"); !ok || v != "All" {
			t.Errorf("spec.cleanPodPolicy = %v, want All as written", v)
		}
		if _, ok := get(got, "metadata", "selfLink"); ok {
			t.Errorf("metadata.selfLink is served: %v", got["metadata"])
		}
		// A new object has no status yet.
		if c, _ := get(got, "status", "conditions"); c != nil {
			t.Errorf("status.conditions = %v, want none", c)
		}
	})

	// The operator reports status through /status with the whole object.
	withStatus := deepCopy(got)
	withStatus["status"] = seedStatus(t)
	r := e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, name) + "/status", Body: withStatus})
	harness.ExpectCode(t, r, http.StatusOK)
	if d := diff(seedStatus(t), r.Object(t)["status"]); d != "" {
		t.Errorf("PUT /status response status differs from the seed's (-want +got):\n%s", d)
	}
	afterStatus := e.read(t, ns, name)
	t.Run("GetStatus", func(t *testing.T) {
		if d := diff(seedStatus(t), afterStatus["status"]); d != "" {
			t.Errorf("GET status differs from the seed's (-want +got):\n%s", d)
		}
		if d := diff(want, afterStatus["spec"]); d != "" {
			t.Errorf("spec changed by the status write (-want +got):\n%s", d)
		}
		if g := generation(t, afterStatus); g != 1 {
			t.Errorf("metadata.generation = %d after a status write, want 1", g)
		}
	})

	t.Run("ListMatchesSeedExample", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "GET", URL: nsPath(ns)})
		harness.ExpectCode(t, r, http.StatusOK)
		list := r.Object(t)
		example := seedList(t)
		for _, k := range []string{"apiVersion", "kind"} {
			if list[k] != example[k] {
				t.Errorf("list %s = %v, want %v", k, list[k], example[k])
			}
		}
		md, ok := list["metadata"].(obj)
		if !ok {
			t.Fatalf("list has no metadata object: %s", r.Body)
		}
		if rv, _ := md["resourceVersion"].(string); rv == "" {
			t.Errorf("list metadata.resourceVersion is empty: %v", md)
		}
		if _, ok := md["selfLink"]; ok {
			t.Errorf("list metadata.selfLink is served: %v", md)
		}
		items, _ := list["items"].([]interface{})
		if len(items) != 1 {
			t.Fatalf("want 1 item, got %d: %s", len(items), r.Body)
		}
		item := items[0].(obj)
		exItem := example["items"].([]interface{})[0].(obj)
		// Items of a typed list carry no apiVersion/kind on the wire, as
		// with kube-apiserver's built-in types (the example, from a CRD,
		// has them); the list's own apiVersion/kind say what they are.
		for _, k := range []string{"name", "namespace"} {
			if v, _ := get(item, "metadata", k); v != mustGet(t, exItem, "metadata", k) {
				t.Errorf("item metadata.%s = %v, want %v", k, v, mustGet(t, exItem, "metadata", k))
			}
		}
		if _, ok := get(item, "metadata", "selfLink"); ok {
			t.Errorf("item metadata.selfLink is served")
		}
		if g := generation(t, item); g != 1 {
			t.Errorf("item metadata.generation = %d, want 1 as in the example", g)
		}
		// The example's spec, as a typed object returns it.
		exSpec := deepCopy(exItem)["spec"].(obj)
		if d := diff(want, item["spec"]); d != "" {
			t.Errorf("item spec differs (-want +got):\n%s", d)
		}
		// The example's quantities are the same numbers the seed has.
		if d := diff(seedJob(t)["spec"], exSpec); d != "" {
			t.Errorf("the seed object and the example list disagree (-seed +example):\n%s", d)
		}
		if d := diff(exItem["status"], item["status"]); d != "" {
			t.Errorf("item status differs from the example's (-want +got):\n%s", d)
		}
	})

	// The seed file itself, POSTed as YAML (kubectl create --raw, curl).
	t.Run("CreateFromYAML", func(t *testing.T) {
		seedFile, err := harness.RepoPath("artifacts", "mpijobs", "mpi-test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(seedFile)
		if err != nil {
			t.Fatal(err)
		}
		r := e.do(t, harness.Request{Method: "POST", URL: nsPath("kube-test-yaml"), ContentType: "application/yaml",
			Body: strings.Replace(string(data), "namespace: kube-test", "namespace: kube-test-yaml", 1)})
		harness.ExpectCode(t, r, http.StatusCreated)
		if d := diff(want, e.read(t, "kube-test-yaml", name)["spec"]); d != "" {
			t.Errorf("spec of the YAML-created seed differs (-want +got):\n%s", d)
		}
		// And read back as YAML.
		r = e.do(t, harness.Request{Method: "GET", URL: objPath("kube-test-yaml", name), Accept: "application/yaml"})
		harness.ExpectCode(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
			t.Errorf("Content-Type = %q, want application/yaml", ct)
		}
		var back obj
		if err := yaml.Unmarshal(r.Body, &back); err != nil {
			t.Fatalf("YAML response: %v", err)
		}
		if d := diff(want, back["spec"]); d != "" {
			t.Errorf("spec read as YAML differs (-want +got):\n%s", d)
		}
	})

	t.Run("StoredAsJSONv1alpha2", func(t *testing.T) {
		raw := e.etcdGet(t, ns, name)
		if raw == nil {
			t.Fatalf("no key %s in etcd", etcdKey(ns, name))
		}
		if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) || !json.Valid(raw) {
			t.Fatalf("stored value is not JSON: %q", truncate(raw))
		}
		stored := e.etcdObject(t, ns, name)
		if stored["apiVersion"] != "kubeflow.org/v1alpha2" || stored["kind"] != "MPIJob" {
			t.Errorf("stored apiVersion/kind = %v/%v, want kubeflow.org/v1alpha2/MPIJob", stored["apiVersion"], stored["kind"])
		}
		if d := diff(want, stored["spec"]); d != "" {
			t.Errorf("stored spec differs from the seed's (-want +got):\n%s", d)
		}
		if d := diff(seedStatus(t), stored["status"]); d != "" {
			t.Errorf("stored status differs from the seed's (-want +got):\n%s", d)
		}
		if _, ok := get(stored, "spec", "backoffLimit"); ok {
			t.Errorf("spec.backoffLimit persisted")
		}
		if metaString(t, stored, "uid") != metaString(t, afterStatus, "uid") {
			t.Errorf("stored uid %v != served uid %v", metaString(t, stored, "uid"), metaString(t, afterStatus, "uid"))
		}
	})
}
