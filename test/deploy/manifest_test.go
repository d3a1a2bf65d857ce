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
	"fmt"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// Names the manifests, the certificates and the script agree on.
const (
	namespace      = "mpijob-system"
	serverName     = "mpijob-apiserver"
	etcdName       = "mpijob-etcd"
	apiServiceName = "v1alpha2.kubeflow.org"
	// v2beta1APIServiceName comes from the component artifacts/deploy/components/v2beta1.
	v2beta1APIServiceName = "v2beta1.kubeflow.org"
	serviceDNSName        = "mpijob-apiserver.mpijob-system.svc"
	servingSecret         = "mpijob-apiserver-serving-cert"
	etcdServerTLS         = "mpijob-etcd-server-tls"
	etcdPeerTLS           = "mpijob-etcd-peer-tls"
	etcdClientTLS         = "mpijob-etcd-client-tls"
	auditConfigMap        = "mpijob-apiserver-audit-policy-" // + kustomize's content hash
	auditPolicyKey        = "policy.yaml"
	auditPolicyFile       = "artifacts/deploy/base/audit-policy.yaml"
)

// tlsSecrets are the Secrets the workloads mount; both hack/gen-certs.sh and
// the cert-manager overlay must make exactly these.
var tlsSecrets = []string{servingSecret, etcdServerTLS, etcdPeerTLS, etcdClientTLS}

// object is one document of rendered YAML.
type object struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	raw        []byte
}

func (o object) key() string {
	if o.Metadata.Namespace == "" {
		return o.Kind + " " + o.Metadata.Name
	}
	return o.Kind + " " + o.Metadata.Namespace + "/" + o.Metadata.Name
}

// manifest is the rendered output of one kustomization.
type manifest struct {
	dir     string
	objects []object
}

var documentSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// render runs the real `kubectl kustomize` on a directory of the repository.
func render(t *testing.T, dir string) *manifest {
	t.Helper()
	kubectl, err := harness.KubectlPath()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kubectl, "kustomize", dir)
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, stderr.String())
	}
	return parseManifest(t, dir, out)
}

func parseManifest(t *testing.T, dir string, out []byte) *manifest {
	t.Helper()
	m := &manifest{dir: dir}
	seen := map[string]bool{}
	for _, doc := range documentSeparator.Split(string(out), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("%s: a rendered document does not parse: %v\n%s", dir, err, doc)
		}
		if o.Kind == "" || o.Metadata.Name == "" {
			t.Fatalf("%s: a rendered document has no kind or name:\n%s", dir, doc)
		}
		if seen[o.key()] {
			t.Fatalf("%s: %s rendered twice", dir, o.key())
		}
		seen[o.key()] = true
		o.raw = []byte(doc)
		m.objects = append(m.objects, o)
	}
	return m
}

// keys lists "Kind namespace/name" of every object, sorted, with the
// generated audit ConfigMap's hash suffix replaced by "*".
func (m *manifest) keys() []string {
	var keys []string
	for _, o := range m.objects {
		k := o.key()
		if o.Kind == "ConfigMap" && strings.HasPrefix(o.Metadata.Name, auditConfigMap) {
			k = "ConfigMap " + o.Metadata.Namespace + "/" + auditConfigMap + "*"
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (m *manifest) find(kind, ns, name string) (object, bool) {
	for _, o := range m.objects {
		if o.Kind == kind && o.Metadata.Namespace == ns && o.Metadata.Name == name {
			return o, true
		}
	}
	return object{}, false
}

// get decodes an object strictly into a typed value: a misspelt or misplaced
// field in the manifests is an error here, as the API server would drop it.
func (m *manifest) get(t *testing.T, kind, ns, name string, into any) object {
	t.Helper()
	o, ok := m.find(kind, ns, name)
	if !ok {
		t.Fatalf("%s: no %s %s/%s rendered; have %v", m.dir, kind, ns, name, m.keys())
	}
	if err := decodeStrict(o.raw, into); err != nil {
		t.Fatalf("%s: %s: %v", m.dir, o.key(), err)
	}
	return o
}

// decodeStrict decodes YAML as the API server decodes a strict request:
// field names are case-sensitive, unknown and duplicate fields are errors.
func decodeStrict(doc []byte, into any) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, into, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return utilerrors.NewAggregate(strict)
}

func (m *manifest) ofKind(kind string) []object {
	var out []object
	for _, o := range m.objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// auditConfigMapName is the generated name of the audit policy ConfigMap.
func (m *manifest) auditConfigMapName(t *testing.T) string {
	t.Helper()
	for _, o := range m.ofKind("ConfigMap") {
		if o.Metadata.Namespace == namespace && strings.HasPrefix(o.Metadata.Name, auditConfigMap) {
			return o.Metadata.Name
		}
	}
	t.Fatalf("%s: no ConfigMap %s/%s*", m.dir, namespace, auditConfigMap)
	return ""
}

// allows tells whether RBAC rules grant verb on group/resource, as the RBAC
// authorizer reads them (with "*" as a wildcard).
func allows(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	match := func(list []string, v string) bool {
		return slices.Contains(list, v) || slices.Contains(list, "*")
	}
	for _, r := range rules {
		if match(r.APIGroups, group) && match(r.Resources, resource) && match(r.Verbs, verb) {
			return true
		}
	}
	return false
}

// flags turns `--name=value` arguments into a map; a repeated or malformed
// flag is an error (a typo would otherwise pass unnoticed).
func flags(t *testing.T, what string, args []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(name, "--") {
			t.Fatalf("%s: argument %q is not --name=value", what, a)
		}
		if _, dup := out[name]; dup {
			t.Fatalf("%s: %s given twice", what, name)
		}
		out[name] = value
	}
	return out
}

// mountedFile finds the volume a container reads a file path from and the
// key of that volume the file is.
func mountedFile(pod corev1.PodSpec, c corev1.Container, file string) (corev1.Volume, string, error) {
	dir, key := path.Split(file)
	dir = strings.TrimSuffix(dir, "/")
	for _, vm := range c.VolumeMounts {
		if vm.MountPath != dir {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == vm.Name {
				return v, key, nil
			}
		}
		return corev1.Volume{}, "", fmt.Errorf("%s is mounted from volume %q, which the pod does not have", dir, vm.Name)
	}
	return corev1.Volume{}, "", fmt.Errorf("no volume is mounted at %s (for %s)", dir, file)
}

// checkRestricted checks a pod template against what the Pod Security
// Standard "restricted" asks of it, and the read-only root filesystem.
func checkRestricted(t *testing.T, what string, pod corev1.PodSpec) {
	t.Helper()
	psc := pod.SecurityContext
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Errorf("%s: uses host namespaces", what)
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("%s: hostPath volume %s", what, v.Name)
		}
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("%s/%s: no securityContext", what, c.Name)
			continue
		}
		nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
		if !nonRoot {
			t.Errorf("%s/%s: runAsNonRoot is not true", what, c.Name)
		}
		if (sc.RunAsUser != nil && *sc.RunAsUser == 0) || (psc != nil && psc.RunAsUser != nil && *psc.RunAsUser == 0) {
			t.Errorf("%s/%s: runs as user 0", what, c.Name)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil && psc != nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s/%s: seccomp profile is not RuntimeDefault", what, c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s/%s: allowPrivilegeEscalation is not false", what, c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s/%s: privileged", what, c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s/%s: readOnlyRootFilesystem is not true", what, c.Name)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) != 0 {
			t.Errorf("%s/%s: capabilities must drop ALL and add none, got %+v", what, c.Name, sc.Capabilities)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: needs cpu and memory requests and a memory limit, got %+v", what, c.Name, c.Resources)
		}
	}
}

// containerPort resolves a named or numbered port of a container.
func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name || fmt.Sprint(p.ContainerPort) == name {
			return p.ContainerPort
		}
	}
	return 0
}

func selects(selector *metav1.LabelSelector, labels map[string]string) bool {
	if selector == nil || len(selector.MatchLabels) == 0 || len(selector.MatchExpressions) != 0 {
		return false
	}
	for k, v := range selector.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}
