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
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// testVersionsFieldSelectors: each version selects on its own field labels,
// over one set of jobs written in both; v2beta1's runPolicy.cleanPodPolicy
// is the top-level copy, unset values match "", and a label of the other
// version is refused naming the supported ones.
func testVersionsFieldSelectors(t *testing.T, e *env) {
	const ns = "versions-fields"
	e.createIn(t, beta, versionJob(beta, ns, "suspended", obj{"runPolicy": obj{"suspend": true, "cleanPodPolicy": "All"}}))
	e.createIn(t, beta, versionJob(beta, ns, "resumed", obj{"runPolicy": obj{"suspend": false}}))
	// runPolicy's copy None is not what v2beta1 shows nor selects on.
	e.createIn(t, alpha, versionJob(alpha, ns, "alpha", obj{"cleanPodPolicy": "Running", "runPolicy": obj{"cleanPodPolicy": "None"}}))
	cur := e.readIn(t, beta, ns, "suspended")
	cur["status"] = obj{"conditions": []any{
		obj{"type": "Created", "status": "True", "reason": "MPIJobCreated"},
		obj{"type": "Suspended", "status": "True", "reason": "MPIJobSuspended"},
	}}
	harness.ExpectCode(t, e.do(t, harness.Request{Method: http.MethodPut, URL: versionObjPath(beta, ns, "suspended") + "/status", Body: cur}), http.StatusOK)

	for _, c := range []struct {
		version, selector string
		want              []string
	}{
		{beta, "spec.runPolicy.suspend=true", []string{"suspended"}},
		{beta, "spec.runPolicy.suspend=false", []string{"resumed"}},
		{beta, "spec.runPolicy.suspend=", []string{"alpha"}},
		{beta, "spec.runPolicy.suspend!=true", []string{"alpha", "resumed"}},
		{beta, "spec.runPolicy.cleanPodPolicy=Running", []string{"alpha"}},
		{beta, "spec.runPolicy.cleanPodPolicy=None", nil},
		{beta, "spec.runPolicy.cleanPodPolicy=All", []string{"suspended"}},
		{beta, "spec.runPolicy.cleanPodPolicy=", []string{"resumed"}},
		{beta, "spec.slotsPerWorker=1", []string{"resumed", "suspended"}},
		{beta, "spec.slotsPerWorker=", []string{"alpha"}},
		{beta, "status.state=Suspended", []string{"suspended"}},
		{beta, "status.state=", []string{"alpha", "resumed"}},
		{beta, "metadata.name=alpha,metadata.namespace=" + ns, []string{"alpha"}},
		{alpha, "spec.cleanPodPolicy=Running", []string{"alpha"}},
		{alpha, "spec.cleanPodPolicy=All", []string{"suspended"}},
		{alpha, "spec.cleanPodPolicy=", []string{"resumed"}},
		{alpha, "spec.slotsPerWorker=1", []string{"resumed", "suspended"}},
		{alpha, "status.state=Suspended", []string{"suspended"}},
		{alpha, "metadata.name=resumed", []string{"resumed"}},
	} {
		t.Run(c.version+"/"+c.selector, func(t *testing.T) {
			var got []string
			for _, it := range e.listIn(t, c.version, ns, "?fieldSelector="+url.QueryEscape(c.selector)) {
				got = append(got, mustGet(t, it, "metadata", "name").(string))
			}
			slices.Sort(got)
			if d := diff(c.want, got); d != "" {
				t.Errorf("names (-want +got):\n%s", d)
			}
		})
	}

	supported := map[string][]string{
		alpha: {"metadata.name", "metadata.namespace", "spec.cleanPodPolicy", "spec.slotsPerWorker", "status.state"},
		beta:  {"metadata.name", "metadata.namespace", "spec.runPolicy.cleanPodPolicy", "spec.runPolicy.suspend", "spec.slotsPerWorker", "status.state"},
	}
	for version, label := range map[string]string{alpha: "spec.runPolicy.suspend", beta: "spec.cleanPodPolicy"} {
		t.Run(version+"/unsupported "+label, func(t *testing.T) {
			for _, watch := range []string{"", "&watch=true"} {
				r := e.do(t, harness.Request{URL: versionNSPath(version, ns) + "?fieldSelector=" + label + "%3Dx" + watch})
				s := harness.ExpectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest, label)
				_, list, _ := strings.Cut(s.Message, "(supported: ")
				list = strings.TrimSuffix(list, ")")
				if d := diff(supported[version], strings.Split(list, ", ")); d != "" {
					t.Errorf("the supported labels the message names (-want +got):\n%s\nmessage: %q", d, s.Message)
				}
			}
		})
	}
}

// testVersionsOpenAPI: the two versions have their own models in OpenAPI v2
// and v3, so clients (kubectl explain, server-side apply) never mix them.
func testVersionsOpenAPI(t *testing.T, e *env) {
	models := func(defs obj) (out []string) {
		for k := range defs {
			if strings.HasPrefix(k, "org.kubeflow.") {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	v2 := mustGet(t, harness.ExpectObject(t, e.do(t, harness.Request{URL: "/openapi/v2"}), http.StatusOK), "definitions").(obj)
	all := models(v2)
	for _, v := range bothVersions {
		for _, kind := range []string{"MPIJob", "MPIJobList", "MPIJobSpec", "RunPolicy", "JobStatus"} {
			if _, ok := v2["org.kubeflow."+v+"."+kind]; !ok {
				t.Errorf("/openapi/v2 has no model org.kubeflow.%s.%s; it has %v", v, kind, all)
			}
		}
		gvk := mustGet(t, v2, "org.kubeflow."+v+".MPIJob", "x-kubernetes-group-version-kind")
		if d := diff([]any{obj{"group": "kubeflow.org", "version": v, "kind": "MPIJob"}}, gvk); d != "" {
			t.Errorf("/openapi/v2 org.kubeflow.%s.MPIJob GVK (-want +got):\n%s", v, d)
		}
		doc := harness.ExpectObject(t, e.do(t, harness.Request{URL: "/openapi/v3/apis/kubeflow.org/" + v}), http.StatusOK)
		schemas := mustGet(t, doc, "components", "schemas").(obj)
		for _, m := range models(schemas) {
			if !strings.HasPrefix(m, "org.kubeflow."+v+".") {
				t.Errorf("/openapi/v3/apis/kubeflow.org/%s has the other version's model %s", v, m)
			}
		}
		if _, ok := schemas["org.kubeflow."+v+".MPIJob"]; !ok {
			t.Errorf("/openapi/v3/apis/kubeflow.org/%s has no org.kubeflow.%s.MPIJob", v, v)
		}
	}
	// Only v2beta1's spec has sshAuthMountPath, only v1alpha2's mainContainer.
	for model, field := range map[string]string{"org.kubeflow.v2beta1.MPIJobSpec": "sshAuthMountPath", "org.kubeflow.v1alpha2.MPIJobSpec": "mainContainer"} {
		if _, ok := get(v2, model, "properties", field); !ok {
			t.Errorf("/openapi/v2 %s has no property %s", model, field)
		}
	}
	if _, ok := get(v2, "org.kubeflow.v1alpha2.MPIJobSpec", "properties", "sshAuthMountPath"); ok {
		t.Errorf("/openapi/v2 v1alpha2 MPIJobSpec has sshAuthMountPath")
	}
}
