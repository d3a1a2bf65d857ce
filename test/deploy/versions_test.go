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

package deploy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// renderWithoutV2beta1 renders the top kustomization as a user who removed
// the v2beta1 component would have it: the base alone, from a kustomization
// outside the repository.
func renderWithoutV2beta1(t *testing.T) *manifest {
	t.Helper()
	base, err := harness.RepoPath("artifacts", "deploy", "base")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// kustomize takes only relative paths to other kustomizations.
	rel, err := filepath.Rel(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- " + rel + "\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	return render(t, dir)
}

// TestVersionAPIServices checks the APIService of each version: v2beta1
// comes with the component and goes without it, and sorts after v1alpha2 in
// the group, as the server's own discovery orders them.
func TestVersionAPIServices(t *testing.T) {
	want := map[string]struct {
		version         string
		versionPriority int32
	}{
		apiServiceName:        {"v1alpha2", 15},
		v2beta1APIServiceName: {"v2beta1", 10},
	}
	check := func(t *testing.T, m *manifest, name string) apiService {
		var as apiService
		o := m.get(t, "APIService", "", name, &as)
		s := as.Spec
		if s.Group != "kubeflow.org" || s.Version != want[name].version {
			t.Errorf("%s: APIService %s serves %s/%s, want kubeflow.org/%s", m.dir, name, s.Group, s.Version, want[name].version)
		}
		if s.GroupPriorityMinimum != 1000 || s.VersionPriority != want[name].versionPriority {
			t.Errorf("%s: APIService %s priorities %d/%d, want 1000/%d", m.dir, name, s.GroupPriorityMinimum, s.VersionPriority, want[name].versionPriority)
		}
		if s.Service == nil || s.Service.Namespace != namespace || s.Service.Name != serverName || s.Service.Port == nil || *s.Service.Port != 443 {
			t.Errorf("%s: APIService %s service %+v, want %s/%s port 443", m.dir, name, s.Service, namespace, serverName)
		}
		if s.InsecureSkipTLSVerify || len(s.CABundle) != 0 {
			t.Errorf("%s: APIService %s skips TLS verification or carries a caBundle", m.dir, name)
		}
		for k, v := range map[string]string{"app.kubernetes.io/name": serverName, "app.kubernetes.io/part-of": serverName} {
			if o.Metadata.Labels[k] != v {
				t.Errorf("%s: APIService %s label %s = %q, want %q", m.dir, name, k, o.Metadata.Labels[k], v)
			}
		}
		return as
	}

	t.Run("with", func(t *testing.T) {
		m := render(t, "artifacts/deploy")
		alpha, beta := check(t, m, apiServiceName), check(t, m, v2beta1APIServiceName)
		if beta.Spec.VersionPriority >= alpha.Spec.VersionPriority {
			t.Errorf("v2beta1's versionPriority %d is not below v1alpha2's %d: kubectl would prefer v2beta1",
				beta.Spec.VersionPriority, alpha.Spec.VersionPriority)
		}
		if len(m.ofKind("APIService")) != 2 {
			t.Errorf("artifacts/deploy renders %d APIServices, want 2", len(m.ofKind("APIService")))
		}
	})
	t.Run("without", func(t *testing.T) {
		m := renderWithoutV2beta1(t)
		check(t, m, apiServiceName)
		if _, ok := m.find("APIService", "", v2beta1APIServiceName); ok {
			t.Errorf("the base registers %s; it belongs to the component", v2beta1APIServiceName)
		}
		base := render(t, "artifacts/deploy")
		for _, o := range m.objects {
			got, ok := base.find(o.Kind, o.Metadata.Namespace, o.Metadata.Name)
			if !ok || string(got.raw) != string(o.raw) {
				t.Errorf("the component changes or drops %s", o.key())
			}
		}
	})
}
