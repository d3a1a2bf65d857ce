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
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestNamespace: in aggregated mode the server's own admission
// (NamespaceLifecycle) refuses MPIJobs in a namespace that does not exist or
// is being deleted exactly as kube-apiserver refuses a ConfigMap there; and
// with kube-controller-manager's namespace controller and garbage collector,
// MPIJobs take part in namespace deletion and in Foreground, Orphan and
// Background deletion as built-in objects do.
func TestNamespace(t *testing.T) {
	e := cluster.StartEnvForTest(t, cluster.EnvOptions{
		Controllers: []string{cluster.NamespaceController, cluster.GarbageCollectorController},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hc, err := e.HTTPClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	admin, err := e.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	post := func(ns, resource, name, query string) harness.Response {
		t.Helper()
		url := e.URL + "/api/v1/namespaces/" + ns + "/" + resource
		body := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q}}`, name)
		if resource == "mpijobs" {
			url = e.URL + "/apis/kubeflow.org/v1alpha2/namespaces/" + ns + "/mpijobs"
			body = harness.MPIJobJSON(ns, name, 1)
		}
		if query != "" {
			url += "?" + query
		}
		return harness.SendForTest(t, hc, harness.Request{Method: http.MethodPost, URL: url, Body: body})
	}
	// sameRefusal compares an MPIJob's refusal with a ConfigMap's: code,
	// reason, the message after the resource's own name, and details
	// (other than kind and group).
	sameRefusal := func(what string, mpijob, configmap harness.Response, code int, reason metav1.StatusReason, message string) {
		t.Helper()
		m, c := mpijob.Status, configmap.Status
		if c == nil || configmap.Code != code || c.Reason != reason || !strings.HasSuffix(c.Message, message) {
			t.Fatalf("%s: kube-apiserver refused the ConfigMap with %s, want %d %s ...%q (the test's premise)", what, configmap, code, reason, message)
		}
		if m == nil || mpijob.Code != code || m.Code != c.Code || m.Reason != c.Reason || !strings.HasSuffix(m.Message, message) {
			t.Errorf("%s: the MPIJob got %s\nthe ConfigMap got %s", what, mpijob, configmap)
			return
		}
		md, cd := *m.Details, *c.Details
		md.Kind, md.Group, cd.Kind, cd.Group = "", "", "", ""
		if mj, cj := mustJSON(md), mustJSON(cd); mj != cj {
			t.Errorf("%s: details %s for the MPIJob, %s for the ConfigMap", what, mj, cj)
		}
	}

	t.Run("missing namespace", func(t *testing.T) {
		const ns = "nowhere"
		msg := `namespaces "nowhere" not found`
		sameRefusal("create", post(ns, "mpijobs", "x", ""), post(ns, "configmaps", "x", ""), http.StatusNotFound, metav1.StatusReasonNotFound, msg)
		sameRefusal("create, dry run", post(ns, "mpijobs", "x", "dryRun=All"), post(ns, "configmaps", "x", "dryRun=All"),
			http.StatusNotFound, metav1.StatusReasonNotFound, msg)
		r := e.Kubectl(cluster.Admin).Run(ctx, harness.MPIJobJSON(ns, "x", 1), "create", "-f", "-")
		want := `Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found`
		if r.ExitCode != 1 || strings.TrimSpace(r.Stderr) != want {
			t.Errorf("kubectl create -n nowhere: %s\nwant exit 1 and %q", r, want)
		}
		// Server-side apply creates through a PATCH: refused the same way.
		r = e.Kubectl(cluster.Admin).Run(ctx, harness.MPIJobJSON(ns, "x", 1), "apply", "--server-side", "-f", "-")
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, msg) {
			t.Errorf("kubectl apply --server-side -n nowhere: %s\nwant exit 1 and %q", r, msg)
		}
		list, err := admin.KubeflowV1alpha2().MPIJobs("").List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 0 {
			t.Errorf("MPIJobs after the refused creates: %v %d", err, len(list.Items))
		}
	})

	t.Run("terminating namespace", func(t *testing.T) {
		const ns = "ending"
		if err := e.CreateNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
		// An MPIJob with a finalizer nobody removes holds the namespace in
		// Terminating for as long as the test needs.
		held := harness.NewMPIJob(ns, "held", 1)
		held.Finalizers = []string{"example.com/hold"}
		if _, err := admin.KubeflowV1alpha2().MPIJobs(ns).Create(ctx, held, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := e.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		nsObj, err := e.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil || nsObj.Status.Phase != corev1.NamespaceTerminating {
			t.Fatalf("namespace %s after its deletion: %v %+v", ns, err, nsObj.Status)
		}
		// Both servers see the phase through an informer: wait (dry runs,
		// so that nothing lands in the namespace) until each refuses.
		msg := "unable to create new content in namespace ending because it is being terminated"
		for _, res := range []string{"configmaps", "mpijobs"} {
			start := time.Now()
			var last harness.Response
			if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
				last = post(ns, res, "probe", "dryRun=All")
				return last.Code != http.StatusCreated, nil
			}); err != nil {
				t.Fatalf("%s in the Terminating namespace: still accepted after 10 s: %s", res, last)
			}
			t.Logf("%s: refused %s after the namespace turned Terminating", res, time.Since(start).Round(time.Millisecond))
		}
		mj, cm := post(ns, "mpijobs", "late", ""), post(ns, "configmaps", "late", "")
		sameRefusal("create in a Terminating namespace", mj, cm, http.StatusForbidden, metav1.StatusReasonForbidden, msg)
		if mj.Status != nil && mj.Status.Message != `mpijobs.kubeflow.org "late" is forbidden: `+msg {
			t.Errorf("the MPIJob's message: %q", mj.Status.Message)
		}
		if mj.Status != nil && (mj.Status.Details == nil || len(mj.Status.Details.Causes) != 1 ||
			mj.Status.Details.Causes[0].Type != corev1.NamespaceTerminatingCause || mj.Status.Details.Causes[0].Field != "metadata.namespace") {
			t.Errorf("the MPIJob's refusal has no NamespaceTerminating cause: %s", mj)
		}
		r := e.Kubectl(cluster.Admin).Run(ctx, harness.MPIJobJSON(ns, "late", 1), "create", "-f", "-")
		want := `Error from server (Forbidden): error when creating "STDIN": mpijobs.kubeflow.org "late" is forbidden: ` + msg
		if r.ExitCode != 1 || strings.TrimSpace(r.Stderr) != want {
			t.Errorf("kubectl create in a Terminating namespace: %s\nwant exit 1 and %q", r, want)
		}

		// The namespace controller deletes the MPIJobs it finds through the
		// aggregated API; the finalizer keeps this one, and the namespace
		// says so.
		jobs := admin.KubeflowV1alpha2().MPIJobs(ns)
		var cond string
		if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			j, err := jobs.Get(ctx, "held", metav1.GetOptions{})
			if err != nil || j.DeletionTimestamp == nil {
				return false, err
			}
			n, err := e.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NamespaceFinalizersRemaining && c.Status == corev1.ConditionTrue {
					cond = c.Message
					return true, nil
				}
			}
			return false, nil
		}); err != nil {
			t.Fatalf("the namespace controller never deleted held, or the namespace never reported its finalizer: %v", err)
		}
		if !strings.Contains(cond, "example.com/hold in 1 resource instances") {
			t.Errorf("NamespaceFinalizersRemaining: %q", cond)
		}
		// Updates of existing objects still work in a Terminating
		// namespace: releasing the finalizer lets the namespace go.
		if _, err := jobs.Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
			t.Fatalf("removing the finalizer in a Terminating namespace: %v", err)
		}
		if err := cluster.WaitGone(ctx, time.Minute, func(ctx context.Context) error {
			_, err := e.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			return err
		}); err != nil {
			t.Fatalf("namespace %s: %v", ns, err)
		}
		if _, err := jobs.Get(ctx, "held", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("held after its namespace went away: %v", err)
		}
		// Gone now: a create is a 404 again. The server's informer may lag
		// a moment behind the deletion (as kube-apiserver's does).
		var last harness.Response
		if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			last = post(ns, "mpijobs", "late", "dryRun=All")
			return last.Code == http.StatusNotFound, nil
		}); err != nil {
			t.Fatalf("create in the deleted namespace: %s", last)
		}
		sameRefusal("create in the deleted namespace", post(ns, "mpijobs", "late", ""), post(ns, "configmaps", "late", ""),
			http.StatusNotFound, metav1.StatusReasonNotFound, `namespaces "ending" not found`)
	})

	// The garbage collector finds MPIJobs through the aggregated API's
	// discovery, as owners and as dependents.
	const ns = "gc"
	if err := e.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	jobs := admin.KubeflowV1alpha2().MPIJobs(ns)
	configMaps := e.Client.CoreV1().ConfigMaps(ns)
	newJob := func(name string) *v1alpha2.MPIJob {
		t.Helper()
		j, err := jobs.Create(ctx, harness.NewMPIJob(ns, name, 1), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	// newDependent is a ConfigMap owned by the MPIJob, as the operator's
	// ConfigMaps and pods are, with finalizers of its own.
	newDependent := func(name string, owner *v1alpha2.MPIJob, finalizers ...string) {
		t.Helper()
		yes := true
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: finalizers,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "kubeflow.org/v1alpha2", Kind: "MPIJob",
				Name: owner.Name, UID: owner.UID, Controller: &yes, BlockOwnerDeletion: &yes}}}}
		if _, err := configMaps.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	jobGone := func(name string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := jobs.Get(ctx, name, metav1.GetOptions{}); return err }
	}

	t.Run("foreground deletion", func(t *testing.T) {
		owner := newJob("fg")
		newDependent("fg-launcher", owner, "example.com/slow")
		r := harness.SendForTest(t, hc, harness.Request{Method: http.MethodDelete, URL: e.URL + "/apis/kubeflow.org/v1alpha2/namespaces/gc/mpijobs/fg",
			Body: `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"}`})
		var deleting v1alpha2.MPIJob
		if r.Code != http.StatusOK || json.Unmarshal(r.Body, &deleting) != nil || deleting.DeletionTimestamp == nil ||
			!slices.Equal(deleting.Finalizers, []string{metav1.FinalizerDeleteDependents}) {
			t.Fatalf("DELETE fg with propagationPolicy Foreground: %s\nwant 200 and the object, being deleted, with the foregroundDeletion finalizer", r)
		}
		// The collector deletes the dependent first; while the dependent's
		// own finalizer holds it, the owner waits.
		if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			cm, err := configMaps.Get(ctx, "fg-launcher", metav1.GetOptions{})
			return err == nil && cm.DeletionTimestamp != nil, err
		}); err != nil {
			t.Fatalf("the garbage collector never deleted fg's dependent: %v", err)
		}
		if j, err := jobs.Get(ctx, "fg", metav1.GetOptions{}); err != nil || !slices.Contains(j.Finalizers, metav1.FinalizerDeleteDependents) {
			t.Errorf("fg while its dependent is still there: %v %v, want it waiting with foregroundDeletion", err, j.GetFinalizers())
		}
		if _, err := configMaps.Patch(ctx, "fg-launcher", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cluster.WaitGone(ctx, time.Minute, jobGone("fg")); err != nil {
			t.Errorf("fg once its dependent is gone: %v (the garbage collector removes foregroundDeletion)", err)
		}
		// kubectl's own way, which waits until the object is gone.
		newDependent("fg2-launcher", newJob("fg2"))
		kr := e.Kubectl(cluster.Admin).Run(ctx, "", "delete", "mpijob", "fg2", "-n", ns, "--cascade=foreground")
		if kr.ExitCode != 0 || !strings.Contains(kr.Stdout, `mpijob.kubeflow.org "fg2" deleted`) {
			t.Errorf("kubectl delete --cascade=foreground: %s", kr)
		}
		for _, get := range []func(context.Context) error{jobGone("fg2"), func(ctx context.Context) error {
			_, err := configMaps.Get(ctx, "fg2-launcher", metav1.GetOptions{})
			return err
		}} {
			if err := get(ctx); !apierrors.IsNotFound(err) {
				t.Errorf("after kubectl delete --cascade=foreground returned: %v, want the MPIJob and its dependent gone", err)
			}
		}
	})

	t.Run("orphan deletion", func(t *testing.T) {
		newDependent("orph-launcher", newJob("orph"))
		kr := e.Kubectl(cluster.Admin).Run(ctx, "", "delete", "mpijob", "orph", "-n", ns, "--cascade=orphan")
		if kr.ExitCode != 0 || !strings.Contains(kr.Stdout, `mpijob.kubeflow.org "orph" deleted`) {
			t.Errorf("kubectl delete --cascade=orphan: %s", kr)
		}
		if err := cluster.WaitGone(ctx, time.Minute, jobGone("orph")); err != nil {
			t.Errorf("orph: %v (the garbage collector removes the orphan finalizer)", err)
		}
		cm, err := configMaps.Get(ctx, "orph-launcher", metav1.GetOptions{})
		if err != nil || cm.DeletionTimestamp != nil || len(cm.OwnerReferences) != 0 {
			t.Errorf("the orphaned dependent: %v %+v, want it kept without owner references", err, cm.ObjectMeta)
		}
	})

	t.Run("background deletion of an owner", func(t *testing.T) {
		// An MPIJob owned by a ConfigMap goes with it.
		owner, err := configMaps.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		j := harness.NewMPIJob(ns, "owned", 1)
		j.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}}
		if _, err := jobs.Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := configMaps.Delete(ctx, "owner", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cluster.WaitGone(ctx, time.Minute, jobGone("owned")); err != nil {
			t.Errorf("the MPIJob owned by a deleted ConfigMap: %v", err)
		}
	})
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}
