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

package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// serverIdentityRole is the harness's own minimal ClusterRole for the server:
// what k8s.io/apiserver reads from the cluster in aggregated mode.
const serverIdentityRole = "mpijob-apiserver-test:server"

// GrantServerIdentity gives ServerUser what an aggregated server needs,
// without artifacts/deploy: system:auth-delegator (TokenReview,
// SubjectAccessReview), extension-apiserver-authentication-reader in
// kube-system (without it proxied requests arrive anonymous and the
// APIService never becomes Available), and read access to namespaces,
// admission configurations and flowcontrol objects.
func (c *Cluster) GrantServerIdentity(ctx context.Context) error {
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: ServerUser}}
	rbac := c.Client.RbacV1()
	read := []string{"get", "list", "watch"}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: serverIdentityRole},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: read},
			{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{
				"mutatingwebhookconfigurations", "validatingwebhookconfigurations",
				"validatingadmissionpolicies", "validatingadmissionpolicybindings",
				"mutatingadmissionpolicies", "mutatingadmissionpolicybindings"}, Verbs: read},
			{APIGroups: []string{"flowcontrol.apiserver.k8s.io"}, Resources: []string{
				"flowschemas", "prioritylevelconfigurations"}, Verbs: read},
			{APIGroups: []string{"flowcontrol.apiserver.k8s.io"}, Resources: []string{"flowschemas/status"},
				Verbs: []string{"patch"}},
		},
	}
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	for _, b := range []*rbacv1.ClusterRoleBinding{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "mpijob-apiserver-test:auth-delegator"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:auth-delegator"},
			Subjects:   subject,
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: serverIdentityRole},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: serverIdentityRole},
			Subjects:   subject,
		},
	} {
		if _, err := rbac.ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "mpijob-apiserver-test:authentication-reader", Namespace: "kube-system"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "extension-apiserver-authentication-reader"},
		Subjects:   subject,
	}
	if _, err := rbac.RoleBindings("kube-system").Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// ErrNoDeployArtifacts means the repository has no artifacts/deploy.
var ErrNoDeployArtifacts = errors.New("cluster: no artifacts/deploy in the repository")

// DeployDir is the repository's artifacts/deploy (the kustomize base), or
// ErrNoDeployArtifacts.
func DeployDir() (string, error) {
	dir, err := harness.RepoPath("artifacts", "deploy")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err != nil {
		return "", ErrNoDeployArtifacts
	}
	return dir, nil
}

// RenderDeploy is `kubectl kustomize artifacts/deploy` (kubectl v1.37.2's
// kustomize), decoded into objects.
func (c *Cluster) RenderDeploy(ctx context.Context) ([]*unstructured.Unstructured, error) {
	return c.RenderKustomization(ctx, "")
}

// RenderKustomization is `kubectl kustomize artifacts/deploy/<sub>`, e.g.
// sub "cert-manager" for the overlay, decoded into objects.
func (c *Cluster) RenderKustomization(ctx context.Context, sub string) ([]*unstructured.Unstructured, error) {
	dir, err := DeployDir()
	if err != nil {
		return nil, err
	}
	out, err := c.kubectlOK(ctx, Admin, "", "kustomize", filepath.Join(dir, sub))
	if err != nil {
		return nil, err
	}
	return DecodeObjects([]byte(out))
}

// DecodeObjects decodes a multi-document YAML (or JSON) stream.
func DecodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// rbacKinds are the objects ApplyDeployRBAC and ApplyOperatorRBAC take from
// rendered manifests: identities and their grants, not the workloads the
// tests run themselves, nor a CRD (our server serves the resource).
var rbacKinds = map[string]bool{
	"Namespace": true, "ServiceAccount": true,
	"ClusterRole": true, "ClusterRoleBinding": true, "Role": true, "RoleBinding": true,
}

// ApplyDeployRBAC applies the Namespace, ServiceAccount and RBAC objects of
// the rendered artifacts/deploy (server-side apply, as Admin) — the shipped
// grants for the server's identity, which is ServerUser, and the user-facing
// mpijob-view/edit/admin ClusterRoles — and returns what it applied as
// "Kind/[namespace/]name". Nothing else of the deployment (Deployment, etcd,
// Service, APIService) is applied: StartServer runs the server locally.
// Mind that without kube-controller-manager the aggregate-to-* labels do
// not add the mpijob roles to view/edit/admin.
func (c *Cluster) ApplyDeployRBAC(ctx context.Context) ([]string, error) {
	objs, err := c.RenderDeploy(ctx)
	if err != nil {
		return nil, err
	}
	return c.applyRBAC(ctx, objs, "artifacts/deploy")
}

// applyRBAC applies the rbacKinds objects of objs (server-side apply, as
// Admin) and returns them as "Kind/[namespace/]name"; source names objs in
// the error when there are none.
func (c *Cluster) applyRBAC(ctx context.Context, objs []*unstructured.Unstructured, source string) ([]string, error) {
	var docs [][]byte
	var applied []string
	for _, o := range objs {
		if !rbacKinds[o.GetKind()] {
			continue
		}
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, err
		}
		docs = append(docs, data)
		applied = append(applied, objectName(o))
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("cluster: %s renders no RBAC objects", source)
	}
	stream := bytes.Join(docs, []byte("---\n"))
	if _, err := c.kubectlOK(ctx, Admin, string(stream),
		"apply", "--server-side", "--field-manager=mpijob-aggregated-test", "-f", "-"); err != nil {
		return nil, err
	}
	return applied, nil
}

func objectName(o *unstructured.Unstructured) string {
	parts := []string{o.GetKind()}
	if ns := o.GetNamespace(); ns != "" {
		parts = append(parts, ns)
	}
	return strings.Join(append(parts, o.GetName()), "/")
}

// DeployAuditPolicy is the path of the shipped audit policy
// (artifacts/deploy/base/audit-policy.yaml), for ServerOptions.AuditPolicyFile.
func DeployAuditPolicy() (string, error) {
	dir, err := DeployDir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "base", "audit-policy.yaml")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// Bind binds user to clusterRole: in namespace with a RoleBinding, or
// cluster-wide with a ClusterRoleBinding when namespace is "". The binding is
// named <user>:<clusterRole>; an existing one is fine.
func (c *Cluster) Bind(ctx context.Context, user, clusterRole, namespace string) error {
	name := user + ":" + clusterRole
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole}
	var err error
	if namespace == "" {
		_, err = c.Client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: ref, Subjects: subjects}, metav1.CreateOptions{})
	} else {
		_, err = c.Client.RbacV1().RoleBindings(namespace).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, RoleRef: ref, Subjects: subjects}, metav1.CreateOptions{})
	}
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
