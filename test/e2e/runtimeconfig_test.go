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
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestVersionFlagRefusals: a version or group the server does not have, or
// no version served at all, stops the server before it serves, with a
// message naming the flag's value and what the server has.
func TestVersionFlagRefusals(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want string
	}{
		{"--storage-version=v3", `--storage-version "v3": kubeflow.org has no such version (known versions: v1alpha2, v2beta1)`},
		{"--runtime-config=kubeflow.org/v3=true", `--runtime-config "kubeflow.org/v3": kubeflow.org has no version "v3" (known versions: v1alpha2, v2beta1)`},
		{"--runtime-config=unknown.group/v1=true", `--runtime-config "unknown.group/v1": this server has no API group "unknown.group"; it serves only kubeflow.org (versions v1alpha2, v2beta1)`},
		{"--runtime-config=kubeflow.org/v1alpha2=false,kubeflow.org/v2beta1=false", "--runtime-config turns off every version of kubeflow.org (v1alpha2, v2beta1): at least one must be served"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "mj")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			s, err := harness.LaunchServer(harness.ServerOptions{DataDir: dir, LogDir: dir, Args: []string{tc.flag}})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-s.Done():
			case <-time.After(cmdTimeout):
				_ = s.Kill()
				t.Fatalf("still running after %s with %s", cmdTimeout, tc.flag)
			}
			if s.ExitCode() == 0 {
				t.Errorf("exit code 0 with %s", tc.flag)
			}
			if !strings.Contains(s.Log(), strings.ReplaceAll(tc.want, `"`, `\"`)) {
				t.Errorf("the log lacks %q:\n%s", tc.want, s.LogTail(10))
			}
			if _, err := os.Stat(s.Layout().AdminKubeconfig()); err == nil {
				t.Errorf("the refused server wrote its admin kubeconfig")
			}
		})
	}
}

// versionsOf reads an APIGroup's versions and preferred version.
func versionsOf(t *testing.T, g metav1.APIGroup) (versions []string, preferred string) {
	t.Helper()
	for _, v := range g.Versions {
		versions = append(versions, v.GroupVersion)
	}
	return versions, g.PreferredVersion.GroupVersion
}

// expectServed checks what discovery, the OpenAPI documents, kubectl and
// requests say of the two versions when only on is served.
func expectServed(t *testing.T, s *harness.Server, on, off string) {
	t.Helper()
	c := newSVClient(t, s)
	onGV, offGV := "kubeflow.org/"+on, "kubeflow.org/"+off

	var groups metav1.APIGroupList
	r := c.send(harness.Request{URL: "/apis", Accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
	harness.ExpectCode(t, r, http.StatusOK)
	// The aggregated form, as kubectl asks for it.
	if strings.Contains(string(r.Body), `"version":"`+off+`"`) || !strings.Contains(string(r.Body), `"version":"`+on+`"`) {
		t.Errorf("aggregated /apis: want only %s: %s", onGV, r.Body)
	}
	r = c.send(harness.Request{URL: "/apis"})
	harness.ExpectCode(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &groups); err != nil || len(groups.Groups) != 1 {
		t.Fatalf("/apis: want one group: %v %s", err, r.Body)
	}
	for _, path := range []string{"/apis", "/apis/kubeflow.org"} {
		g := groups.Groups[0]
		if path != "/apis" {
			r = c.send(harness.Request{URL: path})
			harness.ExpectCode(t, r, http.StatusOK)
			if err := json.Unmarshal(r.Body, &g); err != nil {
				t.Fatal(err)
			}
		}
		if versions, preferred := versionsOf(t, g); len(versions) != 1 || versions[0] != onGV || preferred != onGV {
			t.Errorf("%s: versions %v, preferred %s; want only %s", path, versions, preferred, onGV)
		}
	}
	kc := harness.Kubectl{Path: kubectlPath, Kubeconfig: s.Admin.Path, Home: t.TempDir()}
	if out := kc.Succeeds(t, "", "api-resources", "--api-group=kubeflow.org"); !strings.Contains(out, onGV) || strings.Contains(out, offGV) {
		t.Errorf("kubectl api-resources: want only %s:\n%s", onGV, out)
	}
	if out := kc.Succeeds(t, "", "api-versions"); strings.TrimSpace(out) != onGV {
		t.Errorf("kubectl api-versions: %q, want only %s", out, onGV)
	}

	r = c.send(harness.Request{URL: "/openapi/v2"})
	harness.ExpectCode(t, r, http.StatusOK)
	var v2 struct {
		Definitions map[string]any `json:"definitions"`
		Paths       map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &v2); err != nil {
		t.Fatal(err)
	}
	found := false
	for name := range v2.Definitions {
		if strings.Contains(name, ".kubeflow."+off+".") || strings.Contains(name, "kubeflow."+off+".") {
			t.Errorf("/openapi/v2 has the model %s of the version turned off", name)
		}
		found = found || strings.Contains(name, "kubeflow."+on+".MPIJob")
	}
	if !found {
		t.Errorf("/openapi/v2 has no %s MPIJob model", on)
	}
	for path := range v2.Paths {
		if strings.Contains(path, "/"+offGV+"/") {
			t.Errorf("/openapi/v2 has the path %s", path)
		}
	}
	r = c.send(harness.Request{URL: "/openapi/v3"})
	harness.ExpectCode(t, r, http.StatusOK)
	var v3 struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &v3); err != nil {
		t.Fatal(err)
	}
	if _, ok := v3.Paths["apis/"+onGV]; !ok {
		t.Errorf("/openapi/v3 lacks apis/%s: %s", onGV, r.Body)
	}
	if _, ok := v3.Paths["apis/"+offGV]; ok {
		t.Errorf("/openapi/v3 lists apis/%s", offGV)
	}
	// The document of a version not served holds no model. (The server
	// answers 200 with an empty body there, as for any unknown group.)
	if r = c.send(harness.Request{URL: "/openapi/v3/apis/" + offGV}); strings.Contains(string(r.Body), "MPIJob") {
		t.Errorf("/openapi/v3/apis/%s describes MPIJobs: %s", offGV, r)
	}
	r = c.send(harness.Request{URL: "/openapi/v3/apis/" + onGV})
	harness.ExpectCode(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), "kubeflow."+off+".") {
		t.Errorf("/openapi/v3/apis/%s names models of %s", onGV, off)
	}

	// Requests to the version turned off find nothing; the other works.
	for _, req := range []harness.Request{
		{URL: "/apis/" + offGV},
		{URL: "/apis/" + offGV + "/mpijobs"},
		{URL: "/apis/" + offGV + "/namespaces/rc/mpijobs/j"},
		{Method: http.MethodPost, URL: "/apis/" + offGV + "/namespaces/rc/mpijobs",
			Body: strings.Replace(harness.MPIJobJSON("rc", "j", 1), "kubeflow.org/v1alpha2", offGV, 1)},
	} {
		harness.ExpectCode(t, c.send(req), http.StatusNotFound)
	}
	harness.ExpectCode(t, c.send(harness.Request{Method: http.MethodPost, URL: "/apis/" + onGV + "/namespaces/rc/mpijobs",
		Body: strings.Replace(harness.MPIJobJSON("rc", "j", 1), "kubeflow.org/v1alpha2", onGV, 1)}), http.StatusCreated)
	r = c.send(harness.Request{URL: "/apis/" + onGV + "/namespaces/rc/mpijobs/j"})
	harness.ExpectCode(t, r, http.StatusOK)
	if out := kc.Succeeds(t, "", "get", "mpijobs", "j", "-n", "rc", "-o", "jsonpath={.apiVersion}/{.metadata.name}"); out != onGV+"/j" {
		t.Errorf("kubectl get mpijobs j: %q, want %s/j", out, onGV)
	}
}

// TestRuntimeConfigV2beta1Off: with kubeflow.org/v2beta1=false nothing
// shows or serves v2beta1; v1alpha2 works.
func TestRuntimeConfigV2beta1Off(t *testing.T) {
	s := harness.StartServerForTest(t, harness.ServerOptions{Args: []string{"--runtime-config=kubeflow.org/v2beta1=false"}})
	expectServed(t, s, "v1alpha2", "v2beta1")
}

// TestRuntimeConfigV1alpha2Off: with kubeflow.org/v1alpha2=false, v2beta1
// is the preferred and only version, and works.
func TestRuntimeConfigV1alpha2Off(t *testing.T) {
	s := harness.StartServerForTest(t, harness.ServerOptions{Args: []string{"--runtime-config=kubeflow.org/v1alpha2=false"}})
	expectServed(t, s, "v2beta1", "v1alpha2")
}
