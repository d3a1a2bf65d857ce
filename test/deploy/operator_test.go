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
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// The overlay artifacts/mpi-operator: the server (artifacts/deploy) and
// mpi-operator v0.7.0's controller (its subdirectory operator/).
const (
	operatorOverlay   = "artifacts/mpi-operator"
	operatorOnly      = "artifacts/mpi-operator/operator"
	operatorName      = "mpi-operator"
	operatorNamespace = "mpi-operator"
	operatorImage     = "mpioperator/mpi-operator:0.7.0"
	// operatorVersion is the release, and its build module test/operators/<version>.
	operatorVersion = "v0.7.0"
)

var operatorObjects = []string{
	"ClusterRole mpi-operator",
	"ClusterRoleBinding mpi-operator",
	"Deployment mpi-operator/mpi-operator",
	"Namespace mpi-operator",
	"ServiceAccount mpi-operator/mpi-operator",
}

// grant is one verb on one resource of one API group, as RBAC rules grant it.
type grant struct{ group, resource, verb string }

func (g grant) String() string {
	if g.group == "" {
		return g.verb + " " + g.resource
	}
	return g.verb + " " + g.resource + "." + g.group
}

// droppedUpstreamGrants are upstream's controller rules this installation
// leaves out on purpose, each with the reason.
var droppedUpstreamGrants = map[grant]string{
	{"apiextensions.k8s.io", "customresourcedefinitions", "create"}: "only served the CRD, which the APIServices replace",
	{"apiextensions.k8s.io", "customresourcedefinitions", "get"}:    "only served the CRD, which the APIServices replace",
}

// extraOperatorGrants are rules ours has beyond upstream's, each with the
// reason. None.
var extraOperatorGrants = map[grant]string{}

// operatorModuleDir is the github.com/kubeflow/mpi-operator module that
// test/operators/v0.7.0 pins, in the module cache (as cluster.Operator's
// ModuleDir of test/aggregated finds it).
var operatorModuleDir = sync.OnceValues(func() (string, error) {
	dir, err := harness.RepoPath("test", "operators", operatorVersion)
	if err != nil {
		return "", err
	}
	dir, err = harness.ModuleDir(context.Background(), dir, "github.com/kubeflow/mpi-operator")
	if err != nil {
		return "", fmt.Errorf("mpi-operator %s's own manifests come from the module cache: %w", operatorVersion, err)
	}
	return dir, nil
})

// renderUpstream renders a kustomization of upstream's own manifests, such
// as manifests/base.
func renderUpstream(t *testing.T, dir string) *manifest {
	t.Helper()
	mod, err := operatorModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	return render(t, filepath.Join(mod, dir))
}

// TestOperatorOverlayObjects checks what `kubectl apply -k
// artifacts/mpi-operator` creates: the server's objects, unchanged, and the
// operator's, and no CRD; operator/ alone is the operator's.
func TestOperatorOverlayObjects(t *testing.T) {
	m := render(t, operatorOverlay)
	want := slices.Sorted(slices.Values(append(slices.Clone(topObjects), operatorObjects...)))
	if diff := cmp.Diff(want, m.keys()); diff != "" {
		t.Errorf("%s renders other objects than the server's and the operator's (-want +got):\n%s", operatorOverlay, diff)
	}
	for _, o := range m.objects {
		if o.Kind == "CustomResourceDefinition" || strings.HasPrefix(o.APIVersion, "apiextensions.k8s.io/") {
			t.Errorf("%s renders %s: the APIServices serve kubeflow.org, a CRD would fight them for the group", operatorOverlay, o.key())
		}
		if want := apiVersions[o.Kind]; o.APIVersion != want {
			t.Errorf("%s: %s has apiVersion %q, want %q", operatorOverlay, o.key(), o.APIVersion, want)
		}
	}
	server := render(t, "artifacts/deploy")
	for _, o := range server.objects {
		if got, ok := m.find(o.Kind, o.Metadata.Namespace, o.Metadata.Name); !ok || !sameDocument(got, o) {
			t.Errorf("%s changes or drops the server's %s", operatorOverlay, o.key())
		}
	}
	alone := render(t, operatorOnly)
	if diff := cmp.Diff(operatorObjects, alone.keys()); diff != "" {
		t.Errorf("%s renders other objects than the operator's (-want +got):\n%s", operatorOnly, diff)
	}
	for _, o := range alone.objects {
		if got, ok := m.find(o.Kind, o.Metadata.Namespace, o.Metadata.Name); !ok || !sameDocument(got, o) {
			t.Errorf("%s and %s render %s differently", operatorOnly, operatorOverlay, o.key())
		}
	}
}

// TestOperatorDeployment checks the controller's Deployment against itself
// (namespace, lock, identity) and against upstream's standalone overlay
// (image, flags, selector).
func TestOperatorDeployment(t *testing.T) {
	m := render(t, operatorOverlay)
	var d appsv1.Deployment
	m.get(t, "Deployment", operatorNamespace, operatorName, &d)
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment %s has %d containers, want 1", operatorName, len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != operatorImage {
		t.Errorf("image = %q, want %q", c.Image, operatorImage)
	}
	if len(c.Command) != 0 {
		t.Errorf("the container overrides the image's entrypoint: %v", c.Command)
	}
	if r := d.Spec.Replicas; r == nil || *r != 1 {
		t.Errorf("replicas = %s, want 1", ptrString(r))
	}
	if !selects(d.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", d.Spec.Selector, d.Spec.Template.Labels)
	}
	f := flags(t, "Deployment "+operatorName, c.Args)

	// The Lease's namespace holds the ServiceAccount, and is installed.
	lock, ok := f["--lock-namespace"]
	if !ok {
		t.Errorf("no --lock-namespace: the Lease would go to the flag's default namespace, whatever this one is called")
	}
	if lock != d.Namespace {
		t.Errorf("--lock-namespace=%s, but the operator runs in %s", lock, d.Namespace)
	}
	if _, ok := m.find("Namespace", "", lock); !ok {
		t.Errorf("--lock-namespace=%s names a namespace the overlay does not create", lock)
	}
	for _, name := range []string{"--kubeConfig", "--master"} {
		if _, ok := f[name]; ok {
			t.Errorf("%s is set: the operator must use its ServiceAccount's in-cluster credentials", name)
		}
	}

	// serviceAccountName is the ServiceAccount the ClusterRoleBinding binds
	// to the installed ClusterRole.
	sa := rbacv1.Subject{Kind: "ServiceAccount", Name: pod.ServiceAccountName, Namespace: d.Namespace}
	m.get(t, "ServiceAccount", sa.Namespace, sa.Name, &corev1.ServiceAccount{})
	if pod.AutomountServiceAccountToken != nil && !*pod.AutomountServiceAccountToken {
		t.Error("the operator needs its ServiceAccount token for in-cluster configuration")
	}
	var binding rbacv1.ClusterRoleBinding
	m.get(t, "ClusterRoleBinding", "", operatorName, &binding)
	if binding.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: operatorName}) {
		t.Errorf("ClusterRoleBinding %s refers to %+v, want ClusterRole %s", operatorName, binding.RoleRef, operatorName)
	}
	m.get(t, "ClusterRole", "", binding.RoleRef.Name, &rbacv1.ClusterRole{})
	if diff := cmp.Diff([]rbacv1.Subject{sa}, binding.Subjects); diff != "" {
		t.Errorf("ClusterRoleBinding %s does not bind the Deployment's ServiceAccount (-want +got):\n%s", operatorName, diff)
	}

	// As upstream's standalone overlay: its image, its flags, its selector.
	up := renderUpstream(t, "manifests/overlays/standalone")
	var upd appsv1.Deployment
	up.get(t, "Deployment", operatorNamespace, operatorName, &upd)
	if len(upd.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("upstream's Deployment has %d containers, want 1", len(upd.Spec.Template.Spec.Containers))
	}
	upc := upd.Spec.Template.Spec.Containers[0]
	if c.Image != upc.Image {
		t.Errorf("image = %q, upstream's standalone overlay runs %q", c.Image, upc.Image)
	}
	for _, a := range upc.Args {
		// Go's flag package reads -name and --name alike, and a bare
		// boolean flag as =true.
		name, value, ok := strings.Cut("--"+strings.TrimLeft(a, "-"), "=")
		if !ok {
			value = "true"
		}
		if got, ok := f[name]; !ok || got != value {
			t.Errorf("upstream runs the operator with %s, this Deployment has %s=%q (set: %v)", a, name, got, ok)
		}
	}
	if diff := cmp.Diff(upd.Spec.Selector, d.Spec.Selector); diff != "" {
		t.Errorf("the selector is not upstream's, so an upstream installation's Deployment cannot be updated in place (-upstream +ours):\n%s", diff)
	}
}

// TestOperatorRBAC compares the controller's ClusterRole with upstream
// v0.7.0's, grant by grant: every (group, resource, verb) upstream grants is
// granted, but for droppedUpstreamGrants, and nothing else is, but for
// extraOperatorGrants.
func TestOperatorRBAC(t *testing.T) {
	var ours, upstream rbacv1.ClusterRole
	render(t, operatorOverlay).get(t, "ClusterRole", "", operatorName, &ours)
	renderUpstream(t, "manifests/base").get(t, "ClusterRole", "", operatorName, &upstream)

	for _, r := range slices.Concat(ours.Rules, upstream.Rules) {
		if len(r.ResourceNames) != 0 || len(r.NonResourceURLs) != 0 {
			t.Fatalf("a rule names resourceNames or nonResourceURLs, which this comparison does not read: %+v", r)
		}
	}
	upGrants, ourGrants := grants(upstream.Rules), grants(ours.Rules)
	for _, g := range upGrants {
		_, dropped := droppedUpstreamGrants[g]
		switch granted := allows(ours.Rules, g.group, g.resource, g.verb); {
		case dropped && granted:
			t.Errorf("ClusterRole %s grants %s, which droppedUpstreamGrants says it leaves out", operatorName, g)
		case !dropped && !granted:
			t.Errorf("ClusterRole %s does not grant %s, which upstream %s's grants the operator", operatorName, g, operatorVersion)
		}
	}
	for g, why := range droppedUpstreamGrants {
		if !slices.Contains(upGrants, g) {
			t.Errorf("droppedUpstreamGrants lists %s (%s), which upstream %s does not grant: remove it", g, why, operatorVersion)
		}
	}
	for _, g := range ourGrants {
		if allows(upstream.Rules, g.group, g.resource, g.verb) {
			continue
		}
		if why, ok := extraOperatorGrants[g]; ok {
			t.Logf("beyond upstream: %s (%s)", g, why)
		} else {
			t.Errorf("ClusterRole %s grants %s, which upstream %s does not; add it to extraOperatorGrants with the reason, or remove it", operatorName, g, operatorVersion)
		}
	}
	for g, why := range extraOperatorGrants {
		if !slices.Contains(ourGrants, g) || allows(upstream.Rules, g.group, g.resource, g.verb) {
			t.Errorf("extraOperatorGrants lists %s (%s), which is not an extra grant: remove it", g, why)
		}
	}
}

// sameDocument tells whether two renderings wrote an object alike (the
// first document of a rendering has no newline after a separator before it).
func sameDocument(a, b object) bool {
	return bytes.Equal(bytes.TrimSpace(a.raw), bytes.TrimSpace(b.raw))
}

// grants expands RBAC rules into one grant per group, resource and verb
// ("*" stays a verb of its own).
func grants(rules []rbacv1.PolicyRule) []grant {
	var out []grant
	for _, r := range rules {
		for _, group := range r.APIGroups {
			for _, resource := range r.Resources {
				for _, verb := range r.Verbs {
					if g := (grant{group, resource, verb}); !slices.Contains(out, g) {
						out = append(out, g)
					}
				}
			}
		}
	}
	return out
}
