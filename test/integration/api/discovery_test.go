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
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

var (
	wantVerbs       = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	wantStatusVerbs = []string{"get", "patch", "update"}
)

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func decode(t testing.TB, r harness.Response, into interface{}) {
	t.Helper()
	if err := json.Unmarshal(r.Body, into); err != nil {
		t.Fatalf("%s: %v: %s", r.Request, err, truncate(r.Body))
	}
}

func testDiscovery(t *testing.T, e *env) {
	t.Run("APIGroupList", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "GET", URL: "/apis"})
		harness.ExpectCode(t, r, http.StatusOK)
		var list metav1.APIGroupList
		decode(t, r, &list)
		if list.Kind != "APIGroupList" {
			t.Errorf("/apis kind = %q", list.Kind)
		}
		var found *metav1.APIGroup
		for i := range list.Groups {
			if list.Groups[i].Name == "kubeflow.org" {
				found = &list.Groups[i]
			}
		}
		if found == nil {
			t.Fatalf("/apis does not list kubeflow.org: %s", r.Body)
		}
		checkGroup(t, *found)
	})

	t.Run("APIGroup", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "GET", URL: "/apis/kubeflow.org"})
		harness.ExpectCode(t, r, http.StatusOK)
		var g metav1.APIGroup
		decode(t, r, &g)
		if g.Kind != "APIGroup" {
			t.Errorf("kind = %q", g.Kind)
		}
		checkGroup(t, g)
	})

	for _, version := range servedVersions {
		t.Run("APIResourceList/"+version, func(t *testing.T) {
			r := e.do(t, harness.Request{Method: "GET", URL: "/apis/kubeflow.org/" + version})
			harness.ExpectCode(t, r, http.StatusOK)
			var l metav1.APIResourceList
			decode(t, r, &l)
			if l.Kind != "APIResourceList" || l.GroupVersion != "kubeflow.org/"+version {
				t.Errorf("kind/groupVersion = %q/%q", l.Kind, l.GroupVersion)
			}
			byName := map[string]metav1.APIResource{}
			for _, res := range l.APIResources {
				byName[res.Name] = res
			}
			if len(byName) != 3 {
				t.Errorf("resources = %v, want mpijobs, mpijobs/status and mpijobs/scale", l.APIResources)
			}
			mj, ok := byName["mpijobs"]
			if !ok {
				t.Fatalf("no mpijobs in %s", r.Body)
			}
			if !mj.Namespaced || mj.Kind != "MPIJob" || mj.SingularName != "mpijob" {
				t.Errorf("mpijobs namespaced/kind/singularName = %v/%q/%q", mj.Namespaced, mj.Kind, mj.SingularName)
			}
			if got := sorted(mj.Verbs); !slices.Equal(got, wantVerbs) {
				t.Errorf("mpijobs verbs = %v, want %v", got, wantVerbs)
			}
			if got := sorted(mj.ShortNames); !slices.Equal(got, []string{"mj", "mpij"}) {
				t.Errorf("shortNames = %v, want [mj mpij]", got)
			}
			if !slices.Equal(mj.Categories, []string{"kubeflow"}) {
				t.Errorf("categories = %v, want [kubeflow]", mj.Categories)
			}
			if mj.StorageVersionHash == "" {
				t.Errorf("mpijobs has no storageVersionHash")
			}
			st, ok := byName["mpijobs/status"]
			if !ok {
				t.Fatalf("no mpijobs/status in %s", r.Body)
			}
			if !st.Namespaced || st.Kind != "MPIJob" {
				t.Errorf("mpijobs/status namespaced/kind = %v/%q", st.Namespaced, st.Kind)
			}
			if got := sorted(st.Verbs); !slices.Equal(got, wantStatusVerbs) {
				t.Errorf("mpijobs/status verbs = %v, want %v", got, wantStatusVerbs)
			}
			sc, ok := byName["mpijobs/scale"]
			if !ok {
				t.Fatalf("no mpijobs/scale in %s", r.Body)
			}
			if !sc.Namespaced || sc.Kind != "Scale" || sc.Group != "autoscaling" || sc.Version != "v1" {
				t.Errorf("mpijobs/scale namespaced/kind/group/version = %v/%q/%q/%q", sc.Namespaced, sc.Kind, sc.Group, sc.Version)
			}
			if got := sorted(sc.Verbs); !slices.Equal(got, []string{"get", "patch", "update"}) {
				t.Errorf("mpijobs/scale verbs = %v, want [get patch update]", got)
			}
		})
	}

	t.Run("Aggregated", func(t *testing.T) {
		const accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
		r := e.do(t, harness.Request{Method: "GET", URL: "/apis", Accept: accept + ",application/json"})
		harness.ExpectCode(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "as=APIGroupDiscoveryList") {
			t.Fatalf("Content-Type = %q, want the aggregated discovery document", ct)
		}
		var list apidiscoveryv2.APIGroupDiscoveryList
		decode(t, r, &list)
		if list.Kind != "APIGroupDiscoveryList" || list.APIVersion != "apidiscovery.k8s.io/v2" {
			t.Errorf("kind/apiVersion = %q/%q", list.Kind, list.APIVersion)
		}
		var group *apidiscoveryv2.APIGroupDiscovery
		for i := range list.Items {
			if list.Items[i].Name == "kubeflow.org" {
				group = &list.Items[i]
			}
		}
		if group == nil {
			t.Fatalf("kubeflow.org not in the aggregated discovery: %s", truncate(r.Body))
		}
		// The order is the preference: kubectl reads `get mj` in the first.
		var versions []string
		for _, v := range group.Versions {
			versions = append(versions, v.Version)
		}
		if !slices.Equal(versions, servedVersions) {
			t.Fatalf("versions = %v, want %v in that order", versions, servedVersions)
		}
		for _, v := range group.Versions {
			checkAggregatedVersion(t, v)
		}
	})
}

// checkAggregatedVersion checks one version of kubeflow.org in the
// aggregated discovery document: mpijobs with its status and scale.
func checkAggregatedVersion(t *testing.T, v apidiscoveryv2.APIVersionDiscovery) {
	t.Run(v.Version, func(t *testing.T) {
		if v.Freshness != "" && v.Freshness != apidiscoveryv2.DiscoveryFreshnessCurrent {
			t.Errorf("freshness = %q", v.Freshness)
		}
		if len(v.Resources) != 1 {
			t.Fatalf("resources = %+v, want mpijobs", v.Resources)
		}
		res := v.Resources[0]
		if res.Resource != "mpijobs" || res.SingularResource != "mpijob" || res.Scope != apidiscoveryv2.ScopeNamespace {
			t.Errorf("resource/singular/scope = %q/%q/%q", res.Resource, res.SingularResource, res.Scope)
		}
		// kube-apiserver fills responseKind from the legacy APIResource, whose
		// group and version are empty for the group version's own kinds
		// (deployments in apps/v1 too); the kind is always set.
		if res.ResponseKind == nil || res.ResponseKind.Kind != "MPIJob" ||
			(res.ResponseKind.Group != "" && res.ResponseKind.Group != "kubeflow.org") ||
			(res.ResponseKind.Version != "" && res.ResponseKind.Version != v.Version) {
			t.Errorf("responseKind = %+v", res.ResponseKind)
		}
		if got := sorted(res.Verbs); !slices.Equal(got, wantVerbs) {
			t.Errorf("verbs = %v, want %v", got, wantVerbs)
		}
		if got := sorted(res.ShortNames); !slices.Equal(got, []string{"mj", "mpij"}) {
			t.Errorf("shortNames = %v", got)
		}
		if !slices.Equal(res.Categories, []string{"kubeflow"}) {
			t.Errorf("categories = %v", res.Categories)
		}
		subresources := map[string]apidiscoveryv2.APISubresourceDiscovery{}
		for _, sub := range res.Subresources {
			subresources[sub.Subresource] = sub
		}
		sub, hasStatus := subresources["status"]
		scale, hasScale := subresources["scale"]
		if len(res.Subresources) != 2 || !hasStatus || !hasScale {
			t.Fatalf("subresources = %+v, want status and scale", res.Subresources)
		}
		if scale.ResponseKind == nil || scale.ResponseKind.Kind != "Scale" || scale.ResponseKind.Group != "autoscaling" || scale.ResponseKind.Version != "v1" {
			t.Errorf("scale responseKind = %+v, want autoscaling/v1 Scale", scale.ResponseKind)
		}
		if got := sorted(scale.Verbs); !slices.Equal(got, []string{"get", "patch", "update"}) {
			t.Errorf("scale verbs = %v", got)
		}
		if got := sorted(sub.Verbs); !slices.Equal(got, wantStatusVerbs) {
			t.Errorf("status verbs = %v", got)
		}
		// kube-apiserver leaves the group and version of a subresource of
		// the parent's kind empty (deployments/status too); the kind is set.
		if sub.ResponseKind == nil || sub.ResponseKind.Kind != "MPIJob" ||
			(sub.ResponseKind.Group != "" && sub.ResponseKind.Group != "kubeflow.org") ||
			(sub.ResponseKind.Version != "" && sub.ResponseKind.Version != v.Version) {
			t.Errorf("status responseKind = %+v", sub.ResponseKind)
		}
	})
}

// servedVersions are the versions of kubeflow.org, the preferred first.
var servedVersions = []string{"v1alpha2", "v2beta1"}

func checkGroup(t *testing.T, g metav1.APIGroup) {
	t.Helper()
	var versions []string
	for _, v := range g.Versions {
		versions = append(versions, v.Version)
		if v.GroupVersion != "kubeflow.org/"+v.Version {
			t.Errorf("groupVersion = %q for version %q", v.GroupVersion, v.Version)
		}
	}
	if !slices.Equal(versions, servedVersions) {
		t.Errorf("versions = %+v, want %v in that order", g.Versions, servedVersions)
	}
	if g.PreferredVersion.GroupVersion != "kubeflow.org/v1alpha2" {
		t.Errorf("preferredVersion = %+v", g.PreferredVersion)
	}
}

// schemaRef returns the definition name a property refers to, directly or
// through allOf (OpenAPI v3 wraps $ref to carry a default).
func schemaRef(prop obj) string {
	if ref, ok := prop["$ref"].(string); ok {
		return ref[strings.LastIndex(ref, "/")+1:]
	}
	if all, ok := prop["allOf"].([]interface{}); ok && len(all) > 0 {
		return schemaRef(all[0].(obj))
	}
	return ""
}

func requiredOf(def obj) []string {
	var out []string
	req, _ := def["required"].([]interface{})
	for _, r := range req {
		out = append(out, r.(string))
	}
	return out
}

func checkGVKExtension(t *testing.T, def obj, where string) {
	t.Helper()
	gvks, _ := def["x-kubernetes-group-version-kind"].([]interface{})
	for _, g := range gvks {
		m := g.(obj)
		if m["group"] == "kubeflow.org" && m["version"] == "v1alpha2" && m["kind"] == "MPIJob" {
			return
		}
	}
	t.Errorf("%s: MPIJob has no x-kubernetes-group-version-kind kubeflow.org/v1alpha2 MPIJob: %v", where, def["x-kubernetes-group-version-kind"])
}

// checkModel checks the MPIJob model and the required fields the spec
// documents (§3, §6).
func checkModel(t *testing.T, defs obj, where string) {
	t.Helper()
	const mpijob = "org.kubeflow.v1alpha2.MPIJob"
	def, ok := defs[mpijob].(obj)
	if !ok {
		var names []string
		for k := range defs {
			if strings.Contains(k, "kubeflow") {
				names = append(names, k)
			}
		}
		t.Fatalf("%s: no %s definition; kubeflow definitions: %v", where, mpijob, names)
	}
	checkGVKExtension(t, def, where)
	props, _ := def["properties"].(obj)
	for _, p := range []string{"apiVersion", "kind", "metadata", "spec", "status"} {
		if _, ok := props[p]; !ok {
			t.Errorf("%s: MPIJob has no property %s", where, p)
		}
	}
	specName := schemaRef(props["spec"].(obj))
	statusName := schemaRef(props["status"].(obj))
	if specName != "org.kubeflow.v1alpha2.MPIJobSpec" || statusName != "org.kubeflow.v1alpha2.JobStatus" {
		t.Errorf("%s: spec/status refer to %q/%q", where, specName, statusName)
	}
	spec, _ := defs[specName].(obj)
	if !slices.Contains(requiredOf(spec), "mpiReplicaSpecs") {
		t.Errorf("%s: %s required = %v, want mpiReplicaSpecs", where, specName, requiredOf(spec))
	}
	specProps, _ := spec["properties"].(obj)
	for _, p := range []string{"slotsPerWorker", "backoffLimit", "activeDeadlineSeconds", "cleanPodPolicy",
		"mpiReplicaSpecs", "mainContainer", "runPolicy", "mpiDistribution"} {
		if _, ok := specProps[p]; !ok {
			t.Errorf("%s: %s has no property %s", where, specName, p)
		}
	}
	status, _ := defs[statusName].(obj)
	req := requiredOf(status)
	if !slices.Contains(req, "conditions") || !slices.Contains(req, "replicaStatuses") {
		t.Errorf("%s: %s required = %v, want conditions and replicaStatuses", where, statusName, req)
	}
	if list, ok := defs["org.kubeflow.v1alpha2.MPIJobList"].(obj); !ok {
		t.Errorf("%s: no MPIJobList definition", where)
	} else if r := requiredOf(list); !slices.Contains(r, "items") {
		t.Errorf("%s: MPIJobList required = %v, want items", where, r)
	}
}

func testOpenAPI(t *testing.T, e *env) {
	t.Run("V2", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "GET", URL: "/openapi/v2"})
		harness.ExpectCode(t, r, http.StatusOK)
		doc := r.Object(t)
		defs, _ := doc["definitions"].(obj)
		checkModel(t, defs, "/openapi/v2")
		paths, _ := doc["paths"].(obj)
		for _, p := range []string{
			"/apis/kubeflow.org/v1alpha2/namespaces/{namespace}/mpijobs",
			"/apis/kubeflow.org/v1alpha2/namespaces/{namespace}/mpijobs/{name}",
			"/apis/kubeflow.org/v1alpha2/namespaces/{namespace}/mpijobs/{name}/status",
			"/apis/kubeflow.org/v1alpha2/mpijobs",
		} {
			if _, ok := paths[p]; !ok {
				t.Errorf("/openapi/v2 has no path %s", p)
			}
		}
	})
	t.Run("V3", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "GET", URL: "/openapi/v3"})
		harness.ExpectCode(t, r, http.StatusOK)
		index, _ := r.Object(t)["paths"].(obj)
		entry, ok := index["apis/kubeflow.org/v1alpha2"].(obj)
		if !ok {
			t.Fatalf("/openapi/v3 does not list apis/kubeflow.org/v1alpha2: %s", truncate(r.Body))
		}
		if u, _ := entry["serverRelativeURL"].(string); !strings.HasPrefix(u, "/openapi/v3/apis/kubeflow.org/v1alpha2") {
			t.Errorf("serverRelativeURL = %q", u)
		}
		r = e.do(t, harness.Request{Method: "GET", URL: "/openapi/v3/apis/kubeflow.org/v1alpha2"})
		harness.ExpectCode(t, r, http.StatusOK)
		doc := r.Object(t)
		schemas, _ := mustGet(t, doc, "components", "schemas").(obj)
		checkModel(t, schemas, "/openapi/v3")
		paths, _ := doc["paths"].(obj)
		if _, ok := paths["/apis/kubeflow.org/v1alpha2/namespaces/{namespace}/mpijobs/{name}/status"]; !ok {
			t.Errorf("/openapi/v3 has no status path")
		}
	})
}

func testTable(t *testing.T, e *env) {
	const ns = "table-ns"
	const accept = "application/json;as=Table;v=v1;g=meta.k8s.io"
	e.create(t, harness.SeedJobForTest(t, ns, "mpi-test"))
	cur := e.read(t, ns, "mpi-test")
	cur["status"] = seedStatus(t)
	harness.ExpectCode(t, e.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "mpi-test") + "/status", Body: cur}), http.StatusOK)
	unset := harness.SeedJobForTest(t, ns, "bare")
	del(t, unset, "spec", "slotsPerWorker")
	e.create(t, unset)

	wantColumns := []struct {
		name     string
		priority int32
	}{
		{"NAME", 0}, {"STATE", 0}, {"WORKERS", 0}, {"AGE", 0}, {"SLOTS", 1}, {"LAUNCHER IMAGE", 1},
	}
	check := func(t *testing.T, path string, wantRows int) metav1.Table {
		r := e.do(t, harness.Request{Method: "GET", URL: path, Accept: accept})
		harness.ExpectCode(t, r, http.StatusOK)
		var tbl metav1.Table
		decode(t, r, &tbl)
		if tbl.Kind != "Table" || tbl.APIVersion != "meta.k8s.io/v1" {
			t.Fatalf("kind/apiVersion = %q/%q: %s", tbl.Kind, tbl.APIVersion, truncate(r.Body))
		}
		if len(tbl.ColumnDefinitions) != len(wantColumns) {
			t.Fatalf("columns = %+v", tbl.ColumnDefinitions)
		}
		for i, c := range wantColumns {
			got := tbl.ColumnDefinitions[i]
			if strings.ToUpper(got.Name) != c.name || got.Priority != c.priority {
				t.Errorf("column %d = %q priority %d, want %s priority %d", i, got.Name, got.Priority, c.name, c.priority)
			}
		}
		if len(tbl.Rows) != wantRows {
			t.Fatalf("rows = %d, want %d", len(tbl.Rows), wantRows)
		}
		if tbl.ResourceVersion == "" {
			t.Errorf("table has no resourceVersion")
		}
		return tbl
	}
	t.Run("List", func(t *testing.T) {
		tbl := check(t, nsPath(ns), 2)
		byName := map[string][]interface{}{}
		for _, row := range tbl.Rows {
			if len(row.Cells) != len(wantColumns) {
				t.Fatalf("row %v has %d cells", row.Cells, len(row.Cells))
			}
			byName[row.Cells[0].(string)] = row.Cells
		}
		seed := byName["mpi-test"]
		if seed == nil {
			t.Fatalf("no mpi-test row: %+v", tbl.Rows)
		}
		if seed[1] != "Succeeded" || seed[2] != float64(2) || seed[4] != float64(1) ||
			seed[5] != "100.79.1.215:20202/paas_cci_w00427225/horovod-mxnet:mnist" {
			t.Errorf("mpi-test row = %v, want [mpi-test Succeeded 2 <age> 1 <image>]", seed)
		}
		if age, _ := seed[3].(string); age == "" || age == "<unknown>" {
			t.Errorf("age cell = %v", seed[3])
		}
		bare := byName["bare"]
		if bare == nil {
			t.Fatalf("no bare row")
		}
		if bare[1] != "" || bare[4] != nil {
			t.Errorf("bare row = %v, want an empty state and no slots", bare)
		}
	})
	t.Run("Get", func(t *testing.T) {
		tbl := check(t, objPath(ns, "mpi-test"), 1)
		if tbl.Rows[0].Cells[0] != "mpi-test" {
			t.Errorf("row = %v", tbl.Rows[0].Cells)
		}
		// Objects in rows are partial metadata by default, as kubectl asks.
		var pom metav1.PartialObjectMetadata
		if err := json.Unmarshal(tbl.Rows[0].Object.Raw, &pom); err != nil || pom.Kind != "PartialObjectMetadata" || pom.Name != "mpi-test" {
			t.Errorf("row object = %s (%v)", tbl.Rows[0].Object.Raw, err)
		}
	})
	t.Run("IncludeObjectNone", func(t *testing.T) {
		r := e.do(t, harness.Request{Method: "GET", URL: nsPath(ns) + "?includeObject=None", Accept: accept})
		harness.ExpectCode(t, r, http.StatusOK)
		var tbl metav1.Table
		decode(t, r, &tbl)
		if len(tbl.Rows) != 2 || tbl.Rows[0].Object.Raw != nil {
			t.Errorf("includeObject=None rows = %+v", tbl.Rows)
		}
	})
}

// testContentNegotiation: a client that prefers protobuf and accepts JSON
// (client-go's protobuf content type with a JSON fallback) gets an answer,
// as from kube-apiserver: protobuf it can decode, or JSON.
func testContentNegotiation(t *testing.T, e *env) {
	const ns = "negotiation-ns"
	e.create(t, harness.SeedJobForTest(t, ns, "a"))
	for _, path := range []string{nsPath(ns), objPath(ns, "a")} {
		r := e.do(t, harness.Request{Method: "GET", URL: path, Accept: "application/vnd.kubernetes.protobuf, application/json"})
		ct := r.Header.Get("Content-Type")
		if r.Code != http.StatusOK {
			t.Errorf("GET %s preferring protobuf with a JSON fallback: want 200, got %d %s: %q", path, r.Code, ct, truncate(r.Body))
			continue
		}
		if strings.HasPrefix(ct, "application/json") && !json.Valid(r.Body) {
			t.Errorf("GET %s: invalid JSON", path)
		}
	}
	// Protobuf alone: served, or refused with 406 - never a 5xx.
	r := e.do(t, harness.Request{Method: "GET", URL: nsPath(ns), Accept: "application/vnd.kubernetes.protobuf"})
	if r.Code != http.StatusOK && r.Code != http.StatusNotAcceptable {
		t.Errorf("GET preferring protobuf only: want 200 or 406, got %d", r.Code)
	}
	// The metadata-only lists the garbage collector and namespace
	// controller use.
	r = e.do(t, harness.Request{Method: "GET", URL: nsPath(ns), Accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"})
	harness.ExpectCode(t, r, http.StatusOK)
	if k := r.Object(t)["kind"]; k != "PartialObjectMetadataList" {
		t.Errorf("kind = %v, want PartialObjectMetadataList", k)
	}
}
