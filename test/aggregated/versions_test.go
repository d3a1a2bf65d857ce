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

package aggregated

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// reservedAnnotation is the server's internal annotation; no answer may
// carry it.
const reservedAnnotation = "internal.mpijob-apiserver.kubeflow.org/preserved"

// TestVersions: through kube-apiserver, kubeflow.org serves v1alpha2
// (preferred) and v2beta1 from one store, registered by two APIServices with
// the manifests' priorities. Real users with the built-in edit and view
// roles (which aggregate the shipped mpijob-* roles) read a job in either
// version whatever version wrote it, scale in both versions when edit allows
// it and get kube-apiserver's 403 when view does not, and a v2beta1 watch
// sees v1alpha2 writes; the garbage collector follows ownerReferences in
// either version.
func TestVersions(t *testing.T) {
	const ns = "versions"
	e := cluster.StartEnvForTest(t, cluster.EnvOptions{
		Cluster:     cluster.Options{Users: cluster.UsersWith("eddie", "vera")},
		Controllers: cluster.DefaultControllers,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := e.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for user, role := range map[string]string{"eddie": "edit", "vera": "view"} {
		if err := e.Bind(ctx, user, role, ns); err != nil {
			t.Fatal(err)
		}
	}
	// The aggregation controller folds mpijob-edit/view into edit/view.
	for role, verb := range map[string]string{"edit": "patch", "view": "get"} {
		if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			cr, err := e.Client.RbacV1().ClusterRoles().Get(ctx, role, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, r := range cr.Rules {
				if slices.Contains(r.APIGroups, cluster.Group) && slices.Contains(r.Resources, "mpijobs/scale") && slices.Contains(r.Verbs, verb) {
					return true, nil
				}
			}
			return false, nil
		}); err != nil {
			t.Fatalf("ClusterRole %s never got %s on mpijobs/scale: %v", role, verb, err)
		}
	}
	eddie, vera, admin := e.Kubectl("eddie"), e.Kubectl("vera"), e.Kubectl(cluster.Admin)

	t.Run("apiservices", func(t *testing.T) {
		// Both registered, as the manifests (top kustomization and the
		// cert-manager overlay) and the harness's mirror of them say.
		want := map[string]cluster.APIVersion{}
		for _, v := range cluster.DefaultAPIVersions {
			want[v.Name()] = v
		}
		for _, sub := range []string{"", "cert-manager"} {
			objs, err := e.RenderKustomization(ctx, sub)
			if err != nil {
				t.Fatal(err)
			}
			versions, err := cluster.DeployAPIVersions(objs)
			if err != nil {
				t.Fatalf("artifacts/deploy/%s: %v", sub, err)
			}
			got := map[string]cluster.APIVersion{}
			for _, v := range versions {
				got[v.Name()] = v
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("APIServices of artifacts/deploy/%s differ from cluster.DefaultAPIVersions (-mirror +manifests):\n%s", sub, d)
			}
		}
		list, err := e.Aggregator.ApiregistrationV1().APIServices().List(ctx, metav1.ListOptions{LabelSelector: cluster.APIServiceSelector})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]cluster.APIVersion{}
		for _, as := range list.Items {
			got[as.Name] = cluster.APIVersion{Version: as.Spec.Version, GroupPriorityMinimum: as.Spec.GroupPriorityMinimum,
				VersionPriority: as.Spec.VersionPriority}
			available := false
			for _, c := range as.Status.Conditions {
				available = available || c.Type == "Available" && c.Status == "True"
			}
			if !available {
				t.Errorf("APIService %s not Available: %+v", as.Name, as.Status.Conditions)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("registered APIServices (-manifests +cluster):\n%s", d)
		}
	})

	t.Run("discovery", func(t *testing.T) {
		out := vera.Succeeds(t, "", "api-versions")
		for _, gv := range []string{"kubeflow.org/v1alpha2", "kubeflow.org/v2beta1"} {
			if !slices.Contains(strings.Fields(out), gv) {
				t.Errorf("kubectl api-versions does not list %s:\n%s", gv, out)
			}
		}
		var group metav1.APIGroup
		raw := vera.Succeeds(t, "", "get", "--raw", "/apis/kubeflow.org")
		if err := json.Unmarshal([]byte(raw), &group); err != nil {
			t.Fatal(err)
		}
		var versions []string
		for _, v := range group.Versions {
			versions = append(versions, v.Version)
		}
		if group.PreferredVersion.Version != "v1alpha2" || !slices.Equal(versions, []string{"v1alpha2", "v2beta1"}) {
			t.Errorf("GET /apis/kubeflow.org through kube-apiserver: preferred %q, versions %v; want v1alpha2 preferred, then v2beta1",
				group.PreferredVersion.Version, versions)
		}
	})

	t.Run("created in v1alpha2", func(t *testing.T) {
		const name = "alpha"
		eddie.Succeeds(t, fmt.Sprintf(`{"apiVersion":"kubeflow.org/v1alpha2","kind":"MPIJob",
			"metadata":{"name":%q,"namespace":%q},
			"spec":{"slotsPerWorker":2,"cleanPodPolicy":"Running","backoffLimit":3,"mpiDistribution":"IntelMPI",
				"runPolicy":{"cleanPodPolicy":"All","backoffLimit":5},
				"mpiReplicaSpecs":{"Launcher":{"replicas":1,"template":{"spec":{"containers":[{"name":"mpi","image":"mpi-launcher:1"}]}}},
					"Worker":{"replicas":2,"template":{"spec":{"containers":[{"name":"mpi","image":"mpi-worker:1"}]}}}}}}`, name, ns),
			"create", "-f", "-")
		alpha := kubectlObject(t, vera, "get", "mj", name, "-n", ns, "-o", "json")
		if alpha["apiVersion"] != "kubeflow.org/v1alpha2" || field(alpha, "spec", "cleanPodPolicy") != "Running" {
			t.Errorf("kubectl get mj: apiVersion %v, spec.cleanPodPolicy %v; want the preferred v1alpha2 with Running",
				alpha["apiVersion"], field(alpha, "spec", "cleanPodPolicy"))
		}
		beta := kubectlObject(t, vera, "get", "mpijobs.v2beta1.kubeflow.org", name, "-n", ns, "-o", "json")
		if beta["apiVersion"] != "kubeflow.org/v2beta1" {
			t.Errorf("kubectl get mpijobs.v2beta1.kubeflow.org: apiVersion %v", beta["apiVersion"])
		}
		for path, want := range map[string]any{
			"runPolicy.cleanPodPolicy":        "Running", // the top-level copy
			"runPolicy.backoffLimit":          float64(5),
			"mpiImplementation":               "Intel",
			"slotsPerWorker":                  float64(2),
			"sshAuthMountPath":                nil, // v2beta1 defaults are not applied on read
			"launcherCreationPolicy":          nil,
			"runLauncherAsWorker":             nil,
			"runPolicy.suspend":               nil,
			"mpiReplicaSpecs.Worker.replicas": float64(2),
		} {
			if got := field(beta, append([]string{"spec"}, strings.Split(path, ".")...)...); got != want {
				t.Errorf("created in v1alpha2, read in v2beta1: spec.%s = %v, want %v", path, got, want)
			}
		}
		if alpha["metadata"].(map[string]any)["uid"] != beta["metadata"].(map[string]any)["uid"] {
			t.Error("the two versions show different objects (uid)")
		}
	})

	t.Run("created in v2beta1", func(t *testing.T) {
		const name = "beta"
		eddie.Succeeds(t, fmt.Sprintf(`{"apiVersion":"kubeflow.org/v2beta1","kind":"MPIJob",
			"metadata":{"name":%q,"namespace":%q},
			"spec":{"sshAuthMountPath":"/home/mpiuser/.ssh","runPolicy":{"cleanPodPolicy":"All"},
				"mpiReplicaSpecs":{"Launcher":{"replicas":1,"template":{"spec":{"containers":[{"name":"mpi","image":"mpi-launcher:1"}]}}},
					"Worker":{"replicas":1,"template":{"spec":{"containers":[{"name":"mpi","image":"mpi-worker:1"}]}}}}}}`, name, ns),
			"create", "-f", "-")
		// Raw answers through kube-apiserver, managedFields included.
		for _, path := range []string{
			"/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs/" + name,
			"/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs",
			"/apis/kubeflow.org/v2beta1/namespaces/" + ns + "/mpijobs/" + name,
		} {
			raw := vera.Succeeds(t, "", "get", "--raw", path)
			if strings.Contains(raw, reservedAnnotation) {
				t.Errorf("GET %s names %s:\n%s", path, reservedAnnotation, raw)
			}
			if !strings.Contains(path, "v1alpha2") {
				continue
			}
			// managedFields name it: the create's entry is a v2beta1 one.
			var answer struct {
				Spec  map[string]any
				Items []struct{ Spec map[string]any }
			}
			if err := json.Unmarshal([]byte(raw), &answer); err != nil {
				t.Fatal(err)
			}
			specs := []map[string]any{answer.Spec}
			for _, item := range answer.Items {
				specs = append(specs, item.Spec)
			}
			for _, spec := range specs {
				if _, ok := spec["sshAuthMountPath"]; ok {
					t.Errorf("GET %s shows spec.sshAuthMountPath, which v1alpha2 does not have:\n%s", path, raw)
				}
			}
		}
		alpha := kubectlObject(t, vera, "get", "mj", name, "-n", ns, "-o", "json")
		if alpha["apiVersion"] != "kubeflow.org/v1alpha2" || field(alpha, "spec", "cleanPodPolicy") != "All" ||
			field(alpha, "metadata", "annotations") != nil {
			t.Errorf("created in v2beta1, kubectl get mj: apiVersion %v, spec.cleanPodPolicy %v, annotations %v; want v1alpha2, All, none",
				alpha["apiVersion"], field(alpha, "spec", "cleanPodPolicy"), field(alpha, "metadata", "annotations"))
		}
		// Nothing was lost on the way.
		beta := kubectlObject(t, vera, "get", "mpijobs.v2beta1.kubeflow.org", name, "-n", ns, "-o", "json")
		if got := field(beta, "spec", "sshAuthMountPath"); got != "/home/mpiuser/.ssh" {
			t.Errorf("read back in v2beta1: sshAuthMountPath %v, want /home/mpiuser/.ssh", got)
		}
	})

	t.Run("scale", func(t *testing.T) {
		const name = "alpha" // created above with 2 workers
		workers := func(resource string) any {
			return field(kubectlObject(t, vera, "get", resource, name, "-n", ns, "-o", "json"),
				"spec", "mpiReplicaSpecs", "Worker", "replicas")
		}
		for _, c := range []struct {
			resource string
			replicas int
		}{{"mpijob", 3}, {"mpijobs.v2beta1.kubeflow.org", 2}} {
			out := eddie.Succeeds(t, "", "scale", c.resource, name, "-n", ns, fmt.Sprintf("--replicas=%d", c.replicas))
			if strings.TrimSpace(out) != "mpijob.kubeflow.org/"+name+" scaled" {
				t.Errorf("kubectl scale %s as eddie (edit): %q", c.resource, out)
			}
			for _, resource := range []string{"mj", "mpijobs.v2beta1.kubeflow.org"} {
				if got := workers(resource); got != float64(c.replicas) {
					t.Errorf("after kubectl scale %s --replicas=%d, %s shows %v Worker replicas", c.resource, c.replicas, resource, got)
				}
			}

			r := vera.Run(ctx, "", "scale", c.resource, name, "-n", ns, "--replicas=5")
			if r.ExitCode == 0 || !strings.Contains(r.Stderr, "Forbidden") ||
				!strings.Contains(r.Stderr, `User "vera" cannot patch resource "mpijobs/scale" in API group "kubeflow.org"`) {
				t.Errorf("kubectl scale %s as vera (view): %s\nwant Forbidden naming mpijobs/scale", c.resource, r)
			}
		}
		if got := workers("mj"); got != float64(2) {
			t.Errorf("after vera's refused scales: %v Worker replicas, want 2", got)
		}

		// The same refusal as an HTTP answer, in both versions; view may
		// read the Scale.
		hc, err := e.HTTPClient("vera")
		if err != nil {
			t.Fatal(err)
		}
		defer hc.CloseIdleConnections()
		for _, version := range []string{"v1alpha2", "v2beta1"} {
			url := e.URL + "/apis/kubeflow.org/" + version + "/namespaces/" + ns + "/mpijobs/" + name + "/scale"
			r := harness.SendForTest(t, hc, harness.Request{Method: http.MethodPatch, URL: url,
				ContentType: "application/merge-patch+json", Body: `{"spec":{"replicas":5}}`})
			want := fmt.Sprintf(`mpijobs.kubeflow.org %q is forbidden: User "vera" cannot patch resource "mpijobs/scale" in API group "kubeflow.org" in the namespace %q`, name, ns)
			if r.Code != http.StatusForbidden || r.Status == nil || r.Status.Reason != metav1.StatusReasonForbidden ||
				!strings.HasPrefix(r.Status.Message, want) {
				t.Errorf("PATCH %s as vera: %s\nwant 403 Forbidden: %s", url, r, want)
			}
			r = harness.SendForTest(t, hc, harness.Request{URL: url})
			var scale struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Spec       struct{ Replicas int32 }
			}
			if r.Code != http.StatusOK || json.Unmarshal(r.Body, &scale) != nil || scale.Kind != "Scale" ||
				scale.APIVersion != "autoscaling/v1" || scale.Spec.Replicas != 2 {
				t.Errorf("GET %s as vera: %s\nwant 200 and an autoscaling/v1 Scale with 2 replicas", url, r)
			}
		}
	})

	t.Run("v2beta1 watch sees v1alpha2 writes", func(t *testing.T) {
		mc, err := e.MPIJobClient("vera")
		if err != nil {
			t.Fatal(err)
		}
		jobs := mc.KubeflowV2beta1().MPIJobs(ns)
		list, err := jobs.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := jobs.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		eddie.Succeeds(t, harness.MPIJobJSON(ns, "watched", 1), "create", "-f", "-")
		eddie.Succeeds(t, "", "label", "mj", "watched", "-n", ns, "seen=yes")
		eddie.Succeeds(t, "", "delete", "mj", "watched", "-n", ns, "--wait=false")
		var got []string
		timeout := time.After(30 * time.Second)
		for len(got) < 3 {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					t.Fatalf("the watch closed after %v", got)
				}
				j, isJob := ev.Object.(*v2beta1.MPIJob)
				if !isJob {
					t.Fatalf("watch event %s: %T %+v", ev.Type, ev.Object, ev.Object)
				}
				if j.Name != "watched" {
					continue
				}
				got = append(got, fmt.Sprintf("%s seen=%s", ev.Type, j.Labels["seen"]))
				if ev.Type == watch.Added && j.Spec.SSHAuthMountPath != "" {
					t.Errorf("ADDED in v2beta1 shows sshAuthMountPath %q for a v1alpha2 job", j.Spec.SSHAuthMountPath)
				}
				if _, ok := j.Annotations[reservedAnnotation]; ok {
					t.Errorf("%s event carries %s", ev.Type, reservedAnnotation)
				}
			case <-timeout:
				t.Fatalf("after 30 s the v2beta1 watch saw %v", got)
			}
		}
		if want := []string{"ADDED seen=", "MODIFIED seen=yes", "DELETED seen=yes"}; !slices.Equal(got, want) {
			t.Errorf("v2beta1 watch events: %v, want %v", got, want)
		}
	})

	t.Run("garbage collection across versions", func(t *testing.T) {
		configMaps := e.Client.CoreV1().ConfigMaps(ns)
		newJob := func(name string) metav1.Object {
			admin.Succeeds(t, harness.MPIJobJSON(ns, name, 1), "create", "-f", "-")
			j := kubectlObject(t, admin, "get", "mj", name, "-n", ns, "-o", "json")
			uid, _ := field(j, "metadata", "uid").(string)
			return &metav1.ObjectMeta{Name: name, UID: types.UID(uid)}
		}
		newDependent := func(name, apiVersion string, owner metav1.Object) {
			t.Helper()
			yes := true
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: apiVersion, Kind: "MPIJob", Name: owner.GetName(), UID: owner.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}}}}
			if _, err := configMaps.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		gone := func(name string) func(context.Context) error {
			return func(ctx context.Context) error { _, err := configMaps.Get(ctx, name, metav1.GetOptions{}); return err }
		}

		// A v1alpha2 job owns dependents in both versions; a background
		// deletion of it in v1alpha2 collects both.
		owner := newJob("gc-owner")
		newDependent("gc-beta-ref", "kubeflow.org/v2beta1", owner)
		newDependent("gc-alpha-ref", "kubeflow.org/v1alpha2", owner)
		// A live job's v2beta1 dependent stays.
		newDependent("gc-kept", "kubeflow.org/v2beta1", newJob("gc-live"))
		admin.Succeeds(t, "", "delete", "mj", "gc-owner", "-n", ns)
		for _, cm := range []string{"gc-beta-ref", "gc-alpha-ref"} {
			if err := cluster.WaitGone(ctx, time.Minute, gone(cm)); err != nil {
				t.Errorf("dependent %s of the deleted job: %v", cm, err)
			}
		}

		// A foreground deletion in v2beta1 of a v1alpha2 job waits for its
		// v1alpha2-referenced dependent and removes it.
		fg := newJob("gc-fg")
		newDependent("gc-fg-dep", "kubeflow.org/v1alpha2", fg)
		r := admin.Run(ctx, "", "delete", "mpijobs.v2beta1.kubeflow.org", "gc-fg", "-n", ns, "--cascade=foreground")
		if r.ExitCode != 0 {
			t.Errorf("kubectl delete mpijobs.v2beta1.kubeflow.org --cascade=foreground: %s", r)
		}
		if err := gone("gc-fg-dep")(ctx); !apierrors.IsNotFound(err) {
			t.Errorf("gc-fg-dep after the foreground deletion returned: %v, want it gone", err)
		}

		if _, err := configMaps.Get(ctx, "gc-kept", metav1.GetOptions{}); err != nil {
			t.Errorf("the v2beta1 dependent of the live job gc-live: %v, want it kept", err)
		}
	})

	// Last, as it replaces the caBundle with a CA the server does not use:
	// hack/gen-certs.sh --apply sets the caBundle of both APIServices.
	t.Run("gen-certs patches every APIService", func(t *testing.T) {
		script, err := harness.RepoPath("hack", "gen-certs.sh")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Fatalf("hack/gen-certs.sh needs openssl: %v", err)
		}
		dir := filepath.Join(t.TempDir(), "certs")
		cmd := exec.CommandContext(ctx, script, "--apply", dir)
		home := t.TempDir()
		cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG="+e.Kubeconfig(cluster.Admin),
			"PATH="+filepath.Dir(e.Bins.Kubectl)+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hack/gen-certs.sh --apply: %v\n%s", err, out)
		}
		ca, err := os.ReadFile(filepath.Join(dir, "apiserver-ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range cluster.DefaultAPIVersions {
			as, err := e.Aggregator.ApiregistrationV1().APIServices().Get(ctx, v.Name(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if string(as.Spec.CABundle) != string(ca) {
				t.Errorf("after hack/gen-certs.sh --apply, APIService %s has caBundle\n%s\nwant apiserver-ca.crt\n%s\noutput:\n%s",
					v.Name(), as.Spec.CABundle, ca, out)
			}
		}
	})
}

// kubectlObject runs kubectl (which must succeed) and decodes its JSON.
func kubectlObject(t *testing.T, k harness.Kubectl, args ...string) map[string]any {
	t.Helper()
	out := k.Succeeds(t, "", args...)
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return obj
}

// field is obj's value at path (nil when absent).
func field(obj map[string]any, path ...string) any {
	var v any = obj
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
