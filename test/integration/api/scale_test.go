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
	"fmt"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// scaleVersions are the versions /scale is tested through.
var scaleVersions = []string{"v1alpha2", "v2beta1"}

// TestScale runs the tests of /mpijobs/scale on a server of its own; each
// subtest works in its own namespace.
func TestScale(t *testing.T) {
	s := inprocess.Start(t)
	e := newEnv(t, s)
	t.Run("GetPut", func(t *testing.T) { testScaleGetPut(t, e) })
	t.Run("Patch", func(t *testing.T) { testScalePatch(t, e) })
	t.Run("Invalid", func(t *testing.T) { testScaleInvalid(t, e) })
	t.Run("Conflict", func(t *testing.T) { testScaleConflict(t, e) })
	t.Run("NotFound", func(t *testing.T) { testScaleNotFound(t, e) })
	t.Run("AcrossVersions", func(t *testing.T) { testScaleAcrossVersions(t, e) })
	t.Run("Status", func(t *testing.T) { testScaleStatus(t, e) })
	t.Run("Apply", func(t *testing.T) { testScaleApply(t, e) })
	t.Run("Discovery", func(t *testing.T) { testScaleDiscovery(t, e) })
	t.Run("OpenAPI", func(t *testing.T) { testScaleOpenAPI(t, e) })
	t.Run("Clientset", func(t *testing.T) { testScaleClientset(t, s) })
}

func scaleJobPath(version, ns, name string) string {
	return "/apis/kubeflow.org/" + version + "/namespaces/" + ns + "/mpijobs/" + name
}

func scalePath(version, ns, name string) string { return scaleJobPath(version, ns, name) + "/scale" }

// createScaleJob creates a job of two workers in version, with extra merged
// into its spec, and returns it as created.
func (e *env) createScaleJob(t testing.TB, version, ns, name string, extra obj) obj {
	t.Helper()
	template := func(image string) obj {
		return obj{"spec": obj{"containers": []any{obj{"name": "mpi", "image": image}}}}
	}
	spec := obj{"mpiReplicaSpecs": obj{
		"Launcher": obj{"replicas": 1, "template": template("launcher:1")},
		"Worker":   obj{"replicas": 2, "template": template("worker:1")},
	}}
	for k, v := range extra {
		spec[k] = v
	}
	body := obj{
		"apiVersion": "kubeflow.org/" + version, "kind": "MPIJob",
		"metadata": obj{"namespace": ns, "name": name}, "spec": spec,
	}
	r := e.do(t, harness.Request{Method: "POST", URL: strings.TrimSuffix(scaleJobPath(version, ns, ""), "/"), Body: body})
	return harness.ExpectObject(t, r, http.StatusCreated)
}

func (e *env) readScaleJob(t testing.TB, version, ns, name string) obj {
	t.Helper()
	return harness.ExpectObject(t, e.do(t, harness.Request{URL: scaleJobPath(version, ns, name)}), http.StatusOK)
}

func workerReplicas(t testing.TB, job obj) any {
	t.Helper()
	return mustGet(t, job, "spec", "mpiReplicaSpecs", "Worker", "replicas")
}

// expectScale checks a Scale body against the job it stands for.
func expectScale(t testing.TB, scale, job obj, specReplicas, statusReplicas float64, selector string) {
	t.Helper()
	want := obj{
		"kind": "Scale", "apiVersion": "autoscaling/v1",
		"metadata": obj{
			"name":              metaString(t, job, "name"),
			"namespace":         metaString(t, job, "namespace"),
			"uid":               metaString(t, job, "uid"),
			"resourceVersion":   metaString(t, job, "resourceVersion"),
			"creationTimestamp": metaString(t, job, "creationTimestamp"),
		},
		"spec":   obj{"replicas": specReplicas},
		"status": obj{"replicas": statusReplicas},
	}
	if selector != "" {
		want["status"].(obj)["selector"] = selector
	}
	if d := diff(want, scale); d != "" {
		t.Errorf("Scale (-want +got):\n%s", d)
	}
}

func testScaleGetPut(t *testing.T, e *env) {
	for _, v := range scaleVersions {
		t.Run(v, func(t *testing.T) {
			ns, name := "scale-getput-"+v, "job"
			job := e.createScaleJob(t, v, ns, name, nil)
			scale := harness.ExpectObject(t, e.do(t, harness.Request{URL: scalePath(v, ns, name)}), http.StatusOK)
			expectScale(t, scale, job, 2, 0, "")

			set(t, scale, 5, "spec", "replicas")
			put := harness.ExpectObject(t, e.do(t, harness.Request{Method: "PUT", URL: scalePath(v, ns, name), Body: scale}), http.StatusOK)
			after := e.readScaleJob(t, v, ns, name)
			expectScale(t, put, after, 5, 0, "")
			if got := workerReplicas(t, after); got != 5.0 {
				t.Errorf("Worker replicas after PUT /scale: %v, want 5", got)
			}
			if g := generation(t, after); g != generation(t, job)+1 {
				t.Errorf("generation after a scale: %d, want %d", g, generation(t, job)+1)
			}

			// Writing back the same count changes nothing, not even the
			// resourceVersion.
			put = harness.ExpectObject(t, e.do(t, harness.Request{Method: "PUT", URL: scalePath(v, ns, name), Body: put}), http.StatusOK)
			if rv := metaString(t, put, "resourceVersion"); rv != metaString(t, after, "resourceVersion") {
				t.Errorf("an unchanged scale moved the resourceVersion from %s to %s:\nbefore %s\nafter %s", metaString(t, after, "resourceVersion"), rv, mustJSON(after["metadata"]), mustJSON(e.readScaleJob(t, v, ns, name)["metadata"]))
			}
		})
	}
}

func testScalePatch(t *testing.T, e *env) {
	patches := []struct {
		name, contentType, body string
		want                    float64
	}{
		{"merge", contentMerge, `{"spec":{"replicas":3}}`, 3},
		{"json", contentJSONP, `[{"op":"replace","path":"/spec/replicas","value":4}]`, 4},
		{"strategic", contentSMP, `{"spec":{"replicas":6}}`, 6},
	}
	for _, v := range scaleVersions {
		ns, name := "scale-patch-"+v, "job"
		e.createScaleJob(t, v, ns, name, nil)
		for _, p := range patches {
			t.Run(v+"/"+p.name, func(t *testing.T) {
				r := e.do(t, harness.Request{Method: "PATCH", URL: scalePath(v, ns, name), Body: p.body, ContentType: p.contentType})
				scale := harness.ExpectObject(t, r, http.StatusOK)
				if got := mustGet(t, scale, "spec", "replicas"); got != p.want {
					t.Errorf("Scale spec.replicas after the patch: %v, want %v", got, p.want)
				}
				if got := workerReplicas(t, e.readScaleJob(t, v, ns, name)); got != p.want {
					t.Errorf("Worker replicas after the patch: %v, want %v", got, p.want)
				}
			})
		}
	}
}

func testScaleInvalid(t *testing.T, e *env) {
	for _, v := range scaleVersions {
		t.Run(v, func(t *testing.T) {
			ns, name := "scale-invalid-"+v, "job"
			e.createScaleJob(t, v, ns, name, nil)
			before := e.etcdGet(t, ns, name)
			for _, n := range []int{0, -1} {
				r := e.do(t, harness.Request{Method: "PATCH", URL: scalePath(v, ns, name),
					Body: fmt.Sprintf(`{"spec":{"replicas":%d}}`, n), ContentType: contentMerge})
				harness.ExpectInvalid(t, r, "spec.mpiReplicaSpecs[Worker].replicas",
					`MPIJob.kubeflow.org "job" is invalid`, fmt.Sprintf("Invalid value: %d", n),
					"must be greater than or equal to 1", "written through the scale subresource's spec.replicas")
			}
			e.expectEtcdUnchanged(t, ns, name, before)
		})
	}
}

func testScaleConflict(t *testing.T, e *env) {
	for _, v := range scaleVersions {
		t.Run(v, func(t *testing.T) {
			ns, name := "scale-conflict-"+v, "job"
			e.createScaleJob(t, v, ns, name, nil)
			stale := harness.ExpectObject(t, e.do(t, harness.Request{URL: scalePath(v, ns, name)}), http.StatusOK)
			fresh := deepCopy(stale)
			set(t, fresh, 3, "spec", "replicas")
			harness.ExpectCode(t, e.do(t, harness.Request{Method: "PUT", URL: scalePath(v, ns, name), Body: fresh}), http.StatusOK)

			before := e.etcdGet(t, ns, name)
			set(t, stale, 7, "spec", "replicas")
			r := e.do(t, harness.Request{Method: "PUT", URL: scalePath(v, ns, name), Body: stale})
			harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict,
				`Operation cannot be fulfilled on mpijobs.kubeflow.org "job"`, "the object has been modified")

			wrongUID := deepCopy(stale)
			set(t, wrongUID, "", "metadata", "resourceVersion")
			set(t, wrongUID, "00000000-0000-0000-0000-000000000000", "metadata", "uid")
			r = e.do(t, harness.Request{Method: "PUT", URL: scalePath(v, ns, name), Body: wrongUID})
			harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict,
				"Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000")
			r = e.do(t, harness.Request{Method: "PATCH", URL: scalePath(v, ns, name), ContentType: contentMerge,
				Body: `{"metadata":{"uid":"00000000-0000-0000-0000-000000000000"},"spec":{"replicas":7}}`})
			harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict,
				"precondition failed: UID in the Scale 00000000-0000-0000-0000-000000000000, UID of the MPIJob "+metaString(t, e.readScaleJob(t, v, ns, name), "uid"))
			e.expectEtcdUnchanged(t, ns, name, before)
		})
	}
}

func testScaleNotFound(t *testing.T, e *env) {
	for _, v := range scaleVersions {
		t.Run(v, func(t *testing.T) {
			ns := "scale-notfound-" + v
			harness.ExpectStatus(t, e.do(t, harness.Request{URL: scalePath(v, ns, "nothing")}),
				http.StatusNotFound, metav1.StatusReasonNotFound, `mpijobs.kubeflow.org "nothing" not found`)
			body := obj{"apiVersion": "autoscaling/v1", "kind": "Scale",
				"metadata": obj{"name": "nothing", "namespace": ns}, "spec": obj{"replicas": 2}}
			harness.ExpectStatus(t, e.do(t, harness.Request{Method: "PUT", URL: scalePath(v, ns, "nothing"), Body: body}),
				http.StatusNotFound, metav1.StatusReasonNotFound, `mpijobs.kubeflow.org "nothing" not found`)
			e.expectNotInEtcd(t, ns, "nothing")
		})
	}
}

// testScaleAcrossVersions scales in one version and reads in the other:
// only the worker count, the generation, the resourceVersion and the
// managed fields may differ, and what only the other version can express
// survives.
func testScaleAcrossVersions(t *testing.T, e *env) {
	cases := []struct{ write, read string }{{"v2beta1", "v1alpha2"}, {"v1alpha2", "v2beta1"}}
	for _, c := range cases {
		t.Run(c.write+"-then-"+c.read, func(t *testing.T) {
			ns, name := "scale-across-"+c.write, "job"
			e.createScaleJob(t, "v2beta1", ns, name, obj{"sshAuthMountPath": "/home/mpiuser/.ssh", "runLauncherAsWorker": true})
			before := e.readScaleJob(t, c.read, ns, name)
			r := e.do(t, harness.Request{Method: "PATCH", URL: scalePath(c.write, ns, name), Body: `{"spec":{"replicas":4}}`, ContentType: contentMerge})
			harness.ExpectCode(t, r, http.StatusOK)
			after := e.readScaleJob(t, c.read, ns, name)

			want := deepCopy(before)
			set(t, want, 4.0, "spec", "mpiReplicaSpecs", "Worker", "replicas")
			set(t, want, float64(generation(t, before)+1), "metadata", "generation")
			for _, f := range []string{"resourceVersion", "managedFields"} {
				del(t, want, "metadata", f)
				del(t, after, "metadata", f)
			}
			if d := diff(want, after); d != "" {
				t.Errorf("%s read after a %s scale (-want +got):\n%s", c.read, c.write, d)
			}
			beta := e.readScaleJob(t, "v2beta1", ns, name)
			if got := mustGet(t, beta, "spec", "sshAuthMountPath"); got != "/home/mpiuser/.ssh" {
				t.Errorf("v2beta1 spec.sshAuthMountPath after the scale: %v", got)
			}
			if got := mustGet(t, beta, "spec", "runLauncherAsWorker"); got != true {
				t.Errorf("v2beta1 spec.runLauncherAsWorker after the scale: %v", got)
			}
		})
	}
}

// testScaleStatus reports workers through /status and reads them in the
// Scale: the active count, and the selector string before the label
// selector.
func testScaleStatus(t *testing.T, e *env) {
	ns, name := "scale-status", "job"
	e.createScaleJob(t, "v2beta1", ns, name, nil)
	statuses := []struct {
		name     string
		worker   obj
		active   float64
		selector string
	}{
		{"none", obj{"active": 2}, 2, ""},
		{"labelSelector", obj{"active": 2, "labelSelector": obj{"matchLabels": obj{"training.kubeflow.org/job-name": "job"}}},
			2, "training.kubeflow.org/job-name=job"},
		{"selector", obj{"active": 1, "selector": "app=mpi", "labelSelector": obj{"matchLabels": obj{"app": "other"}}}, 1, "app=mpi"},
	}
	for _, s := range statuses {
		t.Run(s.name, func(t *testing.T) {
			status := obj{"status": obj{"conditions": []any{}, "replicaStatuses": obj{"Launcher": obj{}, "Worker": s.worker}}}
			r := e.do(t, harness.Request{Method: "PATCH", URL: scaleJobPath("v2beta1", ns, name) + "/status", Body: mustJSON(status), ContentType: contentMerge})
			job := harness.ExpectObject(t, r, http.StatusOK)
			for _, v := range scaleVersions {
				scale := harness.ExpectObject(t, e.do(t, harness.Request{URL: scalePath(v, ns, name)}), http.StatusOK)
				expectScale(t, scale, job, 2, s.active, s.selector)
			}
		})
	}
}

// testScaleApply applies spec.replicas on /scale, which makes the applier
// the owner of the Worker count in the job, so that another manager's apply
// of that count is a conflict naming it.
func testScaleApply(t *testing.T, e *env) {
	for _, v := range scaleVersions {
		t.Run(v, func(t *testing.T) {
			ns, name := "scale-apply-"+v, "job"
			e.createScaleJob(t, v, ns, name, nil)
			scaleApply := `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"job"},"spec":{"replicas":3}}`

			// The creator owns the count; taking it over needs force.
			r := e.do(t, harness.Request{Method: "PATCH", URL: scalePath(v, ns, name) + "?fieldManager=scaler", Body: scaleApply, ContentType: contentApply})
			harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict, "Apply failed with 1 conflict", ".spec.replicas")
			r = e.do(t, harness.Request{Method: "PATCH", URL: scalePath(v, ns, name) + "?fieldManager=scaler&force=true", Body: scaleApply, ContentType: contentApply})
			if got := mustGet(t, harness.ExpectObject(t, r, http.StatusOK), "spec", "replicas"); got != 3.0 {
				t.Errorf("Scale spec.replicas after the apply: %v, want 3", got)
			}

			job := e.readScaleJob(t, v, ns, name)
			entries := managedFieldsOf(t, job, "scaler")
			if len(entries) != 1 {
				t.Fatalf("managedFields of scaler: %v, want one entry", entries)
			}
			want := obj{"f:spec": obj{"f:mpiReplicaSpecs": obj{"f:Worker": obj{"f:replicas": obj{}}}}}
			if d := diff(want, entries[0]["fieldsV1"]); d != "" {
				t.Errorf("fields of scaler (-want +got):\n%s", d)
			}
			if got := entries[0]["apiVersion"]; got != "kubeflow.org/"+v {
				t.Errorf("apiVersion of scaler's entry: %v, want kubeflow.org/%s", got, v)
			}
			if got := entries[0]["subresource"]; got != "scale" {
				t.Errorf("subresource of scaler's entry: %v, want scale", got)
			}

			for _, other := range scaleVersions {
				jobApply := fmt.Sprintf(`{"apiVersion":"kubeflow.org/%s","kind":"MPIJob","metadata":{"name":"job"},"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":6}}}}`, other)
				r = e.do(t, harness.Request{Method: "PATCH", URL: scaleJobPath(other, ns, name) + "?fieldManager=other", Body: jobApply, ContentType: contentApply})
				harness.ExpectStatus(t, r, http.StatusConflict, metav1.StatusReasonConflict,
					`conflict with "scaler" with subresource "scale": .spec.mpiReplicaSpecs.Worker.replicas`)
			}
			if got := workerReplicas(t, e.readScaleJob(t, v, ns, name)); got != 3.0 {
				t.Errorf("Worker replicas after the refused applies: %v, want 3", got)
			}
		})
	}
}

func testScaleDiscovery(t *testing.T, e *env) {
	for _, v := range scaleVersions {
		t.Run(v, func(t *testing.T) {
			list := harness.ExpectObject(t, e.do(t, harness.Request{URL: "/apis/kubeflow.org/" + v}), http.StatusOK)
			var found obj
			for _, res := range mustGet(t, list, "resources").([]any) {
				if res.(obj)["name"] == "mpijobs/scale" {
					found = res.(obj)
				}
			}
			want := obj{"name": "mpijobs/scale", "singularName": "", "namespaced": true, "group": "autoscaling", "version": "v1",
				"kind": "Scale", "verbs": []any{"get", "patch", "update"}}
			if d := diff(want, found); d != "" {
				t.Errorf("discovery of mpijobs/scale (-want +got):\n%s", d)
			}
		})
	}
}

// testScaleClientset scales through the generated clientset's GetScale and
// UpdateScale of both versions.
func testScaleClientset(t *testing.T, s *inprocess.Server) {
	ns := "scale-clientset"
	e := newEnv(t, s)
	e.createScaleJob(t, "v1alpha2", ns, "job", nil)
	ctx := t.Context()

	alpha := s.Client.KubeflowV1alpha2().MPIJobs(ns)
	scale, err := alpha.GetScale(ctx, "job", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("v1alpha2 GetScale: %v", err)
	}
	if scale.Spec.Replicas != 2 || scale.Name != "job" {
		t.Errorf("v1alpha2 GetScale: %+v, want job with 2 replicas", scale)
	}
	scale.Spec.Replicas = 3
	if scale, err = alpha.UpdateScale(ctx, "job", scale, metav1.UpdateOptions{}); err != nil || scale.Spec.Replicas != 3 {
		t.Fatalf("v1alpha2 UpdateScale: %+v, %v; want 3 replicas", scale, err)
	}

	beta := s.Client.KubeflowV2beta1().MPIJobs(ns)
	scale, err = beta.GetScale(ctx, "job", metav1.GetOptions{})
	if err != nil || scale.Spec.Replicas != 3 {
		t.Fatalf("v2beta1 GetScale: %+v, %v; want 3 replicas", scale, err)
	}
	scale.Spec.Replicas = 5
	if scale, err = beta.UpdateScale(ctx, "job", scale, metav1.UpdateOptions{}); err != nil || scale.Spec.Replicas != 5 {
		t.Fatalf("v2beta1 UpdateScale: %+v, %v; want 5 replicas", scale, err)
	}
	job, err := alpha.Get(ctx, "job", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := job.Spec.MPIReplicaSpecs["Worker"].Replicas; w == nil || *w != 5 {
		t.Errorf("v1alpha2 Worker replicas after UpdateScale: %v, want 5", w)
	}
}

// testScaleOpenAPI checks the published Scale: typed as autoscaling/v1
// Scale alone, so that kubectl explain and apply find it.
func testScaleOpenAPI(t *testing.T, e *env) {
	for _, v := range scaleVersions {
		t.Run(v, func(t *testing.T) {
			doc := harness.ExpectObject(t, e.do(t, harness.Request{URL: "/openapi/v3/apis/kubeflow.org/" + v}), http.StatusOK)
			scale := mustGet(t, doc, "components", "schemas", "io.k8s.api.autoscaling.v1.Scale")
			want := []any{obj{"group": "autoscaling", "kind": "Scale", "version": "v1"}}
			if d := diff(want, mustGet(t, scale, "x-kubernetes-group-version-kind")); d != "" {
				t.Errorf("x-kubernetes-group-version-kind of Scale (-want +got):\n%s", d)
			}
			for _, p := range []string{"spec", "status"} {
				if _, ok := get(scale, "properties", p); !ok {
					t.Errorf("the published Scale has no %s", p)
				}
			}
			if _, ok := get(doc, "paths", "/apis/kubeflow.org/"+v+"/namespaces/{namespace}/mpijobs/{name}/scale", "put"); !ok {
				t.Errorf("the published paths have no PUT of mpijobs/{name}/scale")
			}
		})
	}
}
