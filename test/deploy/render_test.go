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
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

var baseObjects = []string{
	"APIService v1alpha2.kubeflow.org",
	"ClusterRole mpijob-admin",
	"ClusterRole mpijob-apiserver",
	"ClusterRole mpijob-edit",
	"ClusterRole mpijob-view",
	"ClusterRoleBinding mpijob-apiserver",
	"ClusterRoleBinding mpijob-apiserver:system:auth-delegator",
	"ConfigMap mpijob-system/mpijob-apiserver-audit-policy-*",
	"Deployment mpijob-system/mpijob-apiserver",
	"Namespace mpijob-system",
	"PodDisruptionBudget mpijob-system/mpijob-apiserver",
	"PodDisruptionBudget mpijob-system/mpijob-etcd",
	"RoleBinding kube-system/mpijob-apiserver:extension-apiserver-authentication-reader",
	"Service mpijob-system/mpijob-apiserver",
	"Service mpijob-system/mpijob-etcd",
	"ServiceAccount mpijob-system/mpijob-apiserver",
	"StatefulSet mpijob-system/mpijob-etcd",
}

var apiVersions = map[string]string{
	"APIService": "apiregistration.k8s.io/v1", "Certificate": "cert-manager.io/v1", "ClusterRole": "rbac.authorization.k8s.io/v1",
	"ClusterRoleBinding": "rbac.authorization.k8s.io/v1", "ConfigMap": "v1", "Deployment": "apps/v1", "Issuer": "cert-manager.io/v1",
	"Namespace": "v1", "PodDisruptionBudget": "policy/v1", "RoleBinding": "rbac.authorization.k8s.io/v1", "Service": "v1",
	"ServiceAccount": "v1", "StatefulSet": "apps/v1",
}

// apiService is the part of apiregistration.k8s.io/v1 APIService the
// manifests use (k8s.io/kube-aggregator is not a dependency of this module).
type apiService struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Service *struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			Port      *int32 `json:"port"`
		} `json:"service"`
		CABundle              []byte `json:"caBundle,omitempty"`
		InsecureSkipTLSVerify bool   `json:"insecureSkipTLSVerify,omitempty"`
		GroupPriorityMinimum  int32  `json:"groupPriorityMinimum"`
		VersionPriority       int32  `json:"versionPriority"`
	} `json:"spec"`
}

// topObjects are the base's and the v2beta1 component's.
var topObjects = slices.Sorted(slices.Values(append(slices.Clone(baseObjects), "APIService "+v2beta1APIServiceName)))

func TestBaseObjects(t *testing.T) {
	for dir, want := range map[string][]string{"artifacts/deploy": topObjects, "artifacts/deploy/base": baseObjects} {
		m := render(t, dir)
		if diff := cmp.Diff(want, m.keys()); diff != "" {
			t.Errorf("%s renders other objects than expected (-want +got):\n%s", dir, diff)
		}
		for _, o := range m.objects {
			if want := apiVersions[o.Kind]; o.APIVersion != want {
				t.Errorf("%s: %s has apiVersion %q, want %q", dir, o.key(), o.APIVersion, want)
			}
		}
	}
	m := render(t, "artifacts/deploy")
	var ns corev1.Namespace
	m.get(t, "Namespace", "", namespace, &ns)
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace %s does not enforce the restricted Pod Security Standard: %v", namespace, ns.Labels)
	}
}

func TestAPIService(t *testing.T) {
	m := render(t, "artifacts/deploy")
	var svc corev1.Service
	m.get(t, "Service", namespace, serverName, &svc)
	var as apiService
	m.get(t, "APIService", "", apiServiceName, &as)
	s := as.Spec
	if s.Group != "kubeflow.org" || s.Version != "v1alpha2" {
		t.Errorf("APIService serves %s/%s, want kubeflow.org/v1alpha2", s.Group, s.Version)
	}
	if s.Service == nil || s.Service.Namespace != namespace || s.Service.Name != serverName || s.Service.Port == nil || *s.Service.Port != 443 {
		t.Fatalf("APIService service = %+v, want %s/%s port 443", s.Service, namespace, serverName)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 443 {
		t.Errorf("Service %s does not expose port 443: %+v", serverName, svc.Spec.Ports)
	}
	if s.GroupPriorityMinimum != 1000 || s.VersionPriority != 15 {
		t.Errorf("priorities = %d/%d, want 1000/15", s.GroupPriorityMinimum, s.VersionPriority)
	}
	if s.InsecureSkipTLSVerify {
		t.Error("APIService skips TLS verification")
	}
	if len(s.CABundle) != 0 {
		t.Error("the base APIService carries a caBundle; it comes from gen-certs.sh or cert-manager")
	}
}

func TestServerRBAC(t *testing.T) {
	m := render(t, "artifacts/deploy")
	sa := rbacv1.Subject{Kind: "ServiceAccount", Name: serverName, Namespace: namespace}
	m.get(t, "ServiceAccount", namespace, serverName, &corev1.ServiceAccount{})

	var delegator rbacv1.ClusterRoleBinding
	m.get(t, "ClusterRoleBinding", "", "mpijob-apiserver:system:auth-delegator", &delegator)
	if delegator.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:auth-delegator"}) {
		t.Errorf("auth-delegator binding refers to %+v", delegator.RoleRef)
	}
	if diff := cmp.Diff([]rbacv1.Subject{sa}, delegator.Subjects); diff != "" {
		t.Errorf("auth-delegator subjects (-want +got):\n%s", diff)
	}

	var reader rbacv1.RoleBinding
	m.get(t, "RoleBinding", "kube-system", "mpijob-apiserver:extension-apiserver-authentication-reader", &reader)
	if reader.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "extension-apiserver-authentication-reader"}) {
		t.Errorf("authentication reader binding refers to %+v", reader.RoleRef)
	}
	if diff := cmp.Diff([]rbacv1.Subject{sa}, reader.Subjects); diff != "" {
		t.Errorf("authentication reader subjects (-want +got):\n%s", diff)
	}

	var role rbacv1.ClusterRole
	m.get(t, "ClusterRole", "", serverName, &role)
	var binding rbacv1.ClusterRoleBinding
	m.get(t, "ClusterRoleBinding", "", serverName, &binding)
	if binding.RoleRef.Kind != "ClusterRole" || binding.RoleRef.Name != serverName || !cmp.Equal([]rbacv1.Subject{sa}, binding.Subjects) {
		t.Errorf("ClusterRoleBinding %s = %+v -> %+v", serverName, binding.Subjects, binding.RoleRef)
	}
	type grant struct{ group, resource string }
	reads := []grant{
		{"", "namespaces"},
		{"admissionregistration.k8s.io", "mutatingwebhookconfigurations"},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations"},
		{"admissionregistration.k8s.io", "validatingadmissionpolicies"},
		{"admissionregistration.k8s.io", "validatingadmissionpolicybindings"},
		{"admissionregistration.k8s.io", "mutatingadmissionpolicies"},
		{"admissionregistration.k8s.io", "mutatingadmissionpolicybindings"},
		{"flowcontrol.apiserver.k8s.io", "flowschemas"},
		{"flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"},
	}
	for _, g := range reads {
		for _, verb := range []string{"get", "list", "watch"} {
			if !allows(role.Rules, g.group, g.resource, verb) {
				t.Errorf("ClusterRole %s does not allow %s %s.%s", serverName, verb, g.resource, g.group)
			}
		}
		if allows(role.Rules, g.group, g.resource, "update") {
			t.Errorf("ClusterRole %s may update %s.%s", serverName, g.resource, g.group)
		}
	}
	// API Priority and Fairness marks dangling FlowSchemas by server-side apply.
	if !allows(role.Rules, "flowcontrol.apiserver.k8s.io", "flowschemas/status", "patch") {
		t.Errorf("ClusterRole %s does not allow patch flowschemas/status", serverName)
	}
	for _, r := range role.Rules {
		for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs} {
			if slices.Contains(list, "*") {
				t.Errorf("ClusterRole %s has a wildcard rule %+v", serverName, r)
			}
		}
	}
	for _, g := range []grant{{"", "secrets"}, {"", "configmaps"}, {"kubeflow.org", "mpijobs"}} {
		if allows(role.Rules, g.group, g.resource, "get") {
			t.Errorf("ClusterRole %s may read %s.%s, which it does not need", serverName, g.resource, g.group)
		}
	}
}

func TestUserRoles(t *testing.T) {
	m := render(t, "artifacts/deploy")
	reads := []string{"get", "list", "watch"}
	writes := []string{"create", "update", "patch", "delete", "deletecollection"}
	statusWrites := []string{"update", "patch"}
	scaleWrites := []string{"get", "update", "patch"}
	cases := map[string]struct {
		label                    string
		main, status             []string // verbs allowed on mpijobs and mpijobs/status
		forbidMain, forbidStatus []string
		scale, forbidScale       []string // on mpijobs/scale
	}{
		"mpijob-view": {"aggregate-to-view", reads, reads, writes, statusWrites,
			[]string{"get"}, []string{"update", "patch", "create", "delete"}},
		"mpijob-edit": {"aggregate-to-edit", append(slices.Clone(reads), writes...), reads, nil, statusWrites,
			scaleWrites, []string{"create", "delete"}},
		"mpijob-admin": {"aggregate-to-admin", append(slices.Clone(reads), writes...), append(slices.Clone(reads), statusWrites...), nil, nil,
			scaleWrites, []string{"create", "delete"}},
	}
	for name, tc := range cases {
		var role rbacv1.ClusterRole
		m.get(t, "ClusterRole", "", name, &role)
		if got := role.Labels["rbac.authorization.k8s.io/"+tc.label]; got != "true" {
			t.Errorf("%s: label rbac.authorization.k8s.io/%s = %q, want \"true\"", name, tc.label, got)
		}
		check := func(resource string, allowed, forbidden []string) {
			for _, verb := range allowed {
				if !allows(role.Rules, "kubeflow.org", resource, verb) {
					t.Errorf("%s does not allow %s %s", name, verb, resource)
				}
			}
			for _, verb := range forbidden {
				if allows(role.Rules, "kubeflow.org", resource, verb) {
					t.Errorf("%s allows %s %s", name, verb, resource)
				}
			}
		}
		check("mpijobs", tc.main, tc.forbidMain)
		check("mpijobs/status", tc.status, tc.forbidStatus)
		check("mpijobs/scale", tc.scale, tc.forbidScale)
		for _, r := range role.Rules {
			if !cmp.Equal(r.APIGroups, []string{"kubeflow.org"}) {
				t.Errorf("%s has a rule outside kubeflow.org: %+v", name, r)
			}
		}
	}
}

// serverPod returns the Deployment, its apiserver container and its flags.
func serverPod(t *testing.T, m *manifest) (appsv1.Deployment, corev1.Container, map[string]string) {
	t.Helper()
	var d appsv1.Deployment
	m.get(t, "Deployment", namespace, serverName, &d)
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	c := d.Spec.Template.Spec.Containers[0]
	if len(c.Command) != 0 {
		t.Errorf("the container overrides the image's entrypoint: %v", c.Command)
	}
	return d, c, flags(t, "Deployment "+serverName, c.Args)
}

// etcdPod returns the StatefulSet, its etcd container and its flags.
func etcdPod(t *testing.T, m *manifest) (appsv1.StatefulSet, corev1.Container, map[string]string) {
	t.Helper()
	var s appsv1.StatefulSet
	m.get(t, "StatefulSet", namespace, etcdName, &s)
	if len(s.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("StatefulSet has %d containers, want 1", len(s.Spec.Template.Spec.Containers))
	}
	c := s.Spec.Template.Spec.Containers[0]
	return s, c, flags(t, "StatefulSet "+etcdName, c.Args)
}

// etcdMemberHost is the stable DNS name of etcd member i.
func etcdMemberHost(i int) string {
	return fmt.Sprintf("%s-%d.%s.%s.svc", etcdName, i, etcdName, namespace)
}

func TestServerDeployment(t *testing.T) {
	m := render(t, "artifacts/deploy")
	d, c, f := serverPod(t, m)
	pod := d.Spec.Template.Spec

	if r := d.Spec.Replicas; r == nil || *r != 2 {
		t.Errorf("replicas = %s, want 2", ptrString(r))
	}
	if !selects(d.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", d.Spec.Selector, d.Spec.Template.Labels)
	}
	if pod.ServiceAccountName != serverName {
		t.Errorf("serviceAccountName = %q, want %q", pod.ServiceAccountName, serverName)
	}
	if pod.AutomountServiceAccountToken != nil && !*pod.AutomountServiceAccountToken {
		t.Error("the server needs its ServiceAccount token for in-cluster configuration")
	}
	if c.Image != "mpijob-apiserver:latest" {
		t.Errorf("image = %q, want mpijob-apiserver:latest (set through kustomize images:)", c.Image)
	}
	checkRestricted(t, "Deployment "+serverName, pod)

	want := map[string]string{
		"--mode":                             "aggregated",
		"--secure-port":                      "8443",
		"--bind-address":                     "0.0.0.0",
		"--authorization-always-allow-paths": "/healthz,/readyz,/livez,/version",
		"--audit-log-path":                   "-",
	}
	for name, value := range want {
		if f[name] != value {
			t.Errorf("%s = %q, want %q", name, f[name], value)
		}
	}
	if containerPort(c, "https") != 8443 {
		t.Errorf("container port https = %d, want 8443", containerPort(c, "https"))
	}

	// --etcd-servers names every member of the StatefulSet by its stable name.
	sts, _, _ := etcdPod(t, m)
	var wantServers []string
	for i := 0; i < int(*sts.Spec.Replicas); i++ {
		wantServers = append(wantServers, "https://"+etcdMemberHost(i)+":2379")
	}
	if diff := cmp.Diff(wantServers, strings.Split(f["--etcd-servers"], ",")); diff != "" {
		t.Errorf("--etcd-servers (-want +got):\n%s", diff)
	}

	// Every file flag reads a key of a mounted Secret or ConfigMap.
	files := map[string]struct{ secret, key string }{
		"--tls-cert-file":        {servingSecret, "tls.crt"},
		"--tls-private-key-file": {servingSecret, "tls.key"},
		"--etcd-cafile":          {etcdClientTLS, "ca.crt"},
		"--etcd-certfile":        {etcdClientTLS, "tls.crt"},
		"--etcd-keyfile":         {etcdClientTLS, "tls.key"},
		"--audit-policy-file":    {"", auditPolicyKey},
	}
	for flag, w := range files {
		v, key, err := mountedFile(pod, c, f[flag])
		if err != nil {
			t.Errorf("%s=%s: %v", flag, f[flag], err)
			continue
		}
		switch {
		case key != w.key:
			t.Errorf("%s=%s reads key %q, want %q", flag, f[flag], key, w.key)
		case w.secret != "" && (v.Secret == nil || v.Secret.SecretName != w.secret):
			t.Errorf("%s=%s is not from Secret %s: %+v", flag, f[flag], w.secret, v.VolumeSource)
		case w.secret == "" && (v.ConfigMap == nil || v.ConfigMap.Name != m.auditConfigMapName(t)):
			t.Errorf("%s=%s is not from the audit policy ConfigMap %s: %+v", flag, f[flag], m.auditConfigMapName(t), v.VolumeSource)
		}
	}

	// Writable scratch space on a read-only root: /tmp and the cert dir.
	for _, dir := range []string{"/tmp", f["--cert-dir"]} {
		v, _, err := mountedFile(pod, c, dir+"/x")
		if err != nil || v.EmptyDir == nil {
			t.Errorf("%q is not an emptyDir (%v)", dir, err)
		}
	}

	// Probes: readiness leaves etcd out (see the manifest for why), liveness
	// too (restarting cannot fix etcd); both over HTTPS on the serving port.
	probes := map[string]struct {
		probe   *corev1.Probe
		path    string
		exclude []string
	}{
		"readiness": {c.ReadinessProbe, "/readyz", []string{"etcd", "etcd-readiness"}},
		"liveness":  {c.LivenessProbe, "/livez", []string{"etcd"}},
	}
	for name, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s HTTP probe", name)
			continue
		}
		g := p.probe.HTTPGet
		u, err := url.Parse(g.Path)
		if err != nil {
			t.Fatal(err)
		}
		if u.Path != p.path || g.Scheme != corev1.URISchemeHTTPS || containerPort(c, g.Port.String()) != 8443 {
			t.Errorf("%s probe = %s %s on port %s, want HTTPS %s on 8443", name, g.Scheme, g.Path, g.Port.String(), p.path)
		}
		for _, check := range p.exclude {
			if !slices.Contains(u.Query()["exclude"], check) {
				t.Errorf("%s probe %s does not exclude %q", name, g.Path, check)
			}
		}
	}

	// Replicas spread over nodes.
	aa := pod.Affinity
	if aa == nil || aa.PodAntiAffinity == nil || len(aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		t.Fatal("no preferred pod anti-affinity")
	}
	term := aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
	if term.TopologyKey != "kubernetes.io/hostname" || !selects(term.LabelSelector, d.Spec.Template.Labels) {
		t.Errorf("anti-affinity %+v does not spread the server's pods over hostnames", term)
	}

	// The Service and the PodDisruptionBudget select these pods.
	var svc corev1.Service
	m.get(t, "Service", namespace, serverName, &svc)
	if !selects(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, d.Spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the server's pods", svc.Spec.Selector)
	}
	if len(svc.Spec.Ports) != 1 || containerPort(c, svc.Spec.Ports[0].TargetPort.String()) != 8443 {
		t.Errorf("Service ports %+v do not lead to 8443", svc.Spec.Ports)
	}
	var pdb policyv1.PodDisruptionBudget
	m.get(t, "PodDisruptionBudget", namespace, serverName, &pdb)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 || !selects(pdb.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("PodDisruptionBudget %s = %+v, want minAvailable 1 over the server's pods", serverName, pdb.Spec)
	}
}

func TestEtcd(t *testing.T) {
	m := render(t, "artifacts/deploy")
	s, c, f := etcdPod(t, m)
	pod := s.Spec.Template.Spec

	if r := s.Spec.Replicas; r == nil || *r != 3 {
		t.Fatalf("etcd replicas = %s, want 3", ptrString(r))
	}
	if s.Spec.ServiceName != etcdName || s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("serviceName %q, podManagementPolicy %q; want %q, Parallel", s.Spec.ServiceName, s.Spec.PodManagementPolicy, etcdName)
	}
	if !strings.HasPrefix(c.Image, "registry.k8s.io/etcd:3.7.") {
		t.Errorf("etcd image = %q, want registry.k8s.io/etcd:3.7.x", c.Image)
	}
	checkRestricted(t, "StatefulSet "+etcdName, pod)
	if len(s.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("volumeClaimTemplates = %d, want 1", len(s.Spec.VolumeClaimTemplates))
	}
	claim := s.Spec.VolumeClaimTemplates[0]
	if _, _, err := mountedFile(corev1.PodSpec{Volumes: []corev1.Volume{{Name: claim.Name}}}, c, f["--data-dir"]); err != nil {
		t.Errorf("--data-dir=%s is not on the persistent volume %s: %v", f["--data-dir"], claim.Name, err)
	}

	var headless corev1.Service
	m.get(t, "Service", namespace, etcdName, &headless)
	if headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("Service %s: clusterIP %q, publishNotReadyAddresses %v; want headless and publishing unready members", etcdName, headless.Spec.ClusterIP, headless.Spec.PublishNotReadyAddresses)
	}
	if !selects(&metav1.LabelSelector{MatchLabels: headless.Spec.Selector}, s.Spec.Template.Labels) || !selects(s.Spec.Selector, s.Spec.Template.Labels) {
		t.Error("the headless Service or the StatefulSet does not select the etcd pods")
	}

	// TLS with client-certificate authentication, on both the client and the peer side.
	for name, value := range map[string]string{"--client-cert-auth": "true", "--peer-client-cert-auth": "true", "--initial-cluster-state": "new"} {
		if f[name] != value {
			t.Errorf("%s = %q, want %q", name, f[name], value)
		}
	}
	for _, name := range []string{"--listen-client-urls", "--advertise-client-urls", "--listen-peer-urls", "--initial-advertise-peer-urls"} {
		if !strings.HasPrefix(f[name], "https://") {
			t.Errorf("%s = %q is not TLS", name, f[name])
		}
	}
	files := map[string]struct{ secret, key string }{
		"--trusted-ca-file":      {etcdServerTLS, "ca.crt"},
		"--cert-file":            {etcdServerTLS, "tls.crt"},
		"--key-file":             {etcdServerTLS, "tls.key"},
		"--peer-trusted-ca-file": {etcdPeerTLS, "ca.crt"},
		"--peer-cert-file":       {etcdPeerTLS, "tls.crt"},
		"--peer-key-file":        {etcdPeerTLS, "tls.key"},
	}
	for flag, w := range files {
		v, key, err := mountedFile(pod, c, f[flag])
		if err != nil {
			t.Errorf("%s=%s: %v", flag, f[flag], err)
		} else if key != w.key || v.Secret == nil || v.Secret.SecretName != w.secret {
			t.Errorf("%s=%s reads %q of %+v, want %q of Secret %s", flag, f[flag], key, v.VolumeSource, w.key, w.secret)
		}
	}

	// The initial cluster is the three stable member names.
	var want []string
	for i := 0; i < 3; i++ {
		want = append(want, fmt.Sprintf("%s-%d=https://%s:2380", etcdName, i, etcdMemberHost(i)))
	}
	if diff := cmp.Diff(want, strings.Split(f["--initial-cluster"], ",")); diff != "" {
		t.Errorf("--initial-cluster (-want +got):\n%s", diff)
	}
	if f["--name"] != "$(POD_NAME)" || !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
	}) {
		t.Errorf("--name=%s is not the pod's name", f["--name"])
	}
	if c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Error("etcd needs liveness and readiness probes")
	}

	var pdb policyv1.PodDisruptionBudget
	m.get(t, "PodDisruptionBudget", namespace, etcdName, &pdb)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 2 || !selects(pdb.Spec.Selector, s.Spec.Template.Labels) {
		t.Errorf("PodDisruptionBudget %s = %+v, want minAvailable 2 (the quorum) over the etcd pods", etcdName, pdb.Spec)
	}
}

func TestAuditPolicy(t *testing.T) {
	m := render(t, "artifacts/deploy")
	var cm corev1.ConfigMap
	m.get(t, "ConfigMap", namespace, m.auditConfigMapName(t), &cm)
	var policy auditv1.Policy
	if err := decodeStrict([]byte(cm.Data[auditPolicyKey]), &policy); err != nil {
		t.Fatalf("ConfigMap %s key %s is not an audit policy: %v", cm.Name, auditPolicyKey, err)
	}
	if policy.APIVersion != "audit.k8s.io/v1" || policy.Kind != "Policy" {
		t.Errorf("policy is %s %s", policy.APIVersion, policy.Kind)
	}
	if !cmp.Equal(policy.OmitStages, []auditv1.Stage{auditv1.StageRequestReceived}) {
		t.Errorf("omitStages = %v, want [RequestReceived]", policy.OmitStages)
	}
	cases := []struct {
		verb, group, resource, subresource string
		want                               auditv1.Level
	}{
		{"create", "kubeflow.org", "mpijobs", "", auditv1.LevelMetadata},
		{"update", "kubeflow.org", "mpijobs", "", auditv1.LevelMetadata},
		{"patch", "kubeflow.org", "mpijobs", "", auditv1.LevelMetadata},
		{"delete", "kubeflow.org", "mpijobs", "", auditv1.LevelMetadata},
		{"deletecollection", "kubeflow.org", "mpijobs", "", auditv1.LevelMetadata},
		{"update", "kubeflow.org", "mpijobs", "status", auditv1.LevelMetadata},
		{"patch", "kubeflow.org", "mpijobs", "status", auditv1.LevelMetadata},
		{"get", "kubeflow.org", "mpijobs", "", auditv1.LevelNone},
		{"list", "kubeflow.org", "mpijobs", "", auditv1.LevelNone},
		{"watch", "kubeflow.org", "mpijobs", "", auditv1.LevelNone},
		{"get", "kubeflow.org", "mpijobs", "status", auditv1.LevelNone},
	}
	for _, tc := range cases {
		if got := auditLevel(policy, tc.verb, tc.group, tc.resource, tc.subresource); got != tc.want {
			t.Errorf("%s %s/%s: level %q, want %q", tc.verb, tc.resource, tc.subresource, got, tc.want)
		}
	}
	if got := auditLevelNonResource(policy, "get", "/readyz"); got != auditv1.LevelNone {
		t.Errorf("GET /readyz: level %q, want None", got)
	}
}

// auditLevel evaluates a policy for a resource request of any user, as the
// audit policy checker does: the first matching rule wins.
func auditLevel(p auditv1.Policy, verb, group, resource, subresource string) auditv1.Level {
	full := resource
	if subresource != "" {
		full += "/" + subresource
	}
	for _, r := range p.Rules {
		if len(r.Users) != 0 || len(r.UserGroups) != 0 || len(r.Namespaces) != 0 || len(r.NonResourceURLs) != 0 {
			continue // not for every user/namespace, or not for resources
		}
		if len(r.Verbs) != 0 && !slices.Contains(r.Verbs, verb) {
			continue
		}
		if len(r.Resources) == 0 {
			return r.Level
		}
		for _, gr := range r.Resources {
			if gr.Group == group && (len(gr.Resources) == 0 || slices.Contains(gr.Resources, full) ||
				(subresource != "" && slices.Contains(gr.Resources, resource+"/*"))) {
				return r.Level
			}
		}
	}
	return auditv1.LevelNone
}

func auditLevelNonResource(p auditv1.Policy, verb, path string) auditv1.Level {
	for _, r := range p.Rules {
		if len(r.Users) != 0 || len(r.UserGroups) != 0 || len(r.Resources) != 0 || len(r.Namespaces) != 0 {
			continue
		}
		if len(r.Verbs) != 0 && !slices.Contains(r.Verbs, verb) {
			continue
		}
		if len(r.NonResourceURLs) == 0 || slices.Contains(r.NonResourceURLs, path) {
			return r.Level
		}
	}
	return auditv1.LevelNone
}

func ptrString(p *int32) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}
