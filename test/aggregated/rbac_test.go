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
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	mpijobclient "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// Users of TestRBAC besides alice and nobody: one for each shipped mpijob-*
// role and one for each built-in role that aggregates them.
var rbacRoleUsers = map[string]string{
	"mpijob-view": "vera", "mpijob-edit": "eddie", "mpijob-admin": "ada",
	"view": "victor", "edit": "edith", "admin": "adam",
}

// TestRBAC: kube-apiserver's RBAC decides who may touch MPIJobs where, as it
// does for built-in types. alice, bound to a Role with the mpijob verbs in
// namespace a, works there and gets 403 in b and cluster-wide; nobody gets
// 403 everywhere; the shipped mpijob-view/edit/admin roles grant what their
// names say; and with kube-controller-manager's ClusterRole aggregation
// controller the built-in view/edit/admin grant the same.
func TestRBAC(t *testing.T) {
	var extra []string
	for _, u := range rbacRoleUsers {
		extra = append(extra, u)
	}
	slices.Sort(extra)
	e := cluster.StartEnvForTest(t, cluster.EnvOptions{
		Cluster:     cluster.Options{Users: cluster.UsersWith(extra...)},
		Controllers: []string{cluster.ClusterRoleAggregationController},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin, err := e.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"a", "b", "roles", "builtin"} {
		if err := e.CreateNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.KubeflowV1alpha2().MPIJobs(ns).Create(ctx, harness.NewMPIJob(ns, "job-"+ns, 2), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// alice's Role: the mpijob verbs in a, not the status subresource.
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "mpijob-user", Namespace: "a"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"kubeflow.org"}, Resources: []string{"mpijobs"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}},
	}
	if _, err := e.Client.RbacV1().Roles("a").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.RbacV1().RoleBindings("a").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-mpijobs", Namespace: "a"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "mpijob-user"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clientFor := func(user string) mpijobclient.Interface {
		t.Helper()
		c, err := e.MPIJobClient(user)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	forbidden := func(user, verb, ns string) string {
		where := fmt.Sprintf("in the namespace %q", ns)
		if ns == "" {
			where = "at the cluster scope"
		}
		return fmt.Sprintf(`User %q cannot %s resource "mpijobs" in API group "kubeflow.org" %s`, user, verb, where)
	}

	t.Run("alice in a", func(t *testing.T) {
		jobs := clientFor("alice").KubeflowV1alpha2().MPIJobs("a")
		r := e.Kubectl("alice").Run(ctx, "", "get", "mpijobs", "-n", "a", "-o", "name")
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/job-a" {
			t.Errorf("alice: kubectl get mpijobs -n a: %s", r)
		}
		r = e.Kubectl("alice").Run(ctx, harness.MPIJobJSON("a", "by-alice", 1), "create", "-f", "-")
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/by-alice created" {
			t.Errorf("alice: kubectl create -n a: %s", r)
		}
		// A watch from now on: the patch below shows as MODIFIED.
		list, err := jobs.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("alice lists in a: %v", err)
		}
		w, err := jobs.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatalf("alice watches in a: %v", err)
		}
		defer w.Stop()
		r = e.Kubectl("alice").Run(ctx, "", "patch", "mpijob", "job-a", "-n", "a", "--type=merge", "-p", `{"metadata":{"labels":{"by":"alice"}}}`)
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijob.kubeflow.org/job-a patched" {
			t.Errorf("alice: kubectl patch -n a: %s", r)
		}
		select {
		case ev := <-w.ResultChan():
			j, ok := ev.Object.(*v1alpha2.MPIJob)
			if ev.Type != watch.Modified || !ok || j.Name != "job-a" || j.Labels["by"] != "alice" {
				t.Errorf("alice's watch in a: %s %+v, want MODIFIED job-a with the label", ev.Type, ev.Object)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("alice's watch in a saw nothing of her patch within 30 s")
		}
		// Her Role leaves out mpijobs/status.
		j, err := jobs.Get(ctx, "job-a", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = jobs.UpdateStatus(ctx, j, metav1.UpdateOptions{})
		wantForbidden(t, "alice updates status in a", err,
			`mpijobs.kubeflow.org "job-a" is forbidden: User "alice" cannot update resource "mpijobs/status" in API group "kubeflow.org" in the namespace "a"`)
	})

	t.Run("alice elsewhere", func(t *testing.T) {
		alice := clientFor("alice").KubeflowV1alpha2()
		_, err := alice.MPIJobs("b").List(ctx, metav1.ListOptions{})
		wantForbidden(t, "alice lists in b", err, "mpijobs.kubeflow.org is forbidden: "+forbidden("alice", "list", "b"))
		_, err = alice.MPIJobs("b").Get(ctx, "job-b", metav1.GetOptions{})
		wantForbidden(t, "alice gets in b", err, `mpijobs.kubeflow.org "job-b" is forbidden: `+forbidden("alice", "get", "b"))
		_, err = alice.MPIJobs("b").Create(ctx, harness.NewMPIJob("b", "by-alice", 1), metav1.CreateOptions{})
		wantForbidden(t, "alice creates in b", err, "mpijobs.kubeflow.org is forbidden: "+forbidden("alice", "create", "b"))
		_, err = alice.MPIJobs("b").Patch(ctx, "job-b", types.MergePatchType, []byte(`{"metadata":{"labels":{"by":"alice"}}}`), metav1.PatchOptions{})
		wantForbidden(t, "alice patches in b", err, `mpijobs.kubeflow.org "job-b" is forbidden: `+forbidden("alice", "patch", "b"))
		_, err = alice.MPIJobs("b").Watch(ctx, metav1.ListOptions{})
		wantForbidden(t, "alice watches in b", err, "mpijobs.kubeflow.org is forbidden: "+forbidden("alice", "watch", "b"))
		err = alice.MPIJobs("b").Delete(ctx, "job-b", metav1.DeleteOptions{})
		wantForbidden(t, "alice deletes in b", err, `mpijobs.kubeflow.org "job-b" is forbidden: `+forbidden("alice", "delete", "b"))
		_, err = alice.MPIJobs("").List(ctx, metav1.ListOptions{})
		wantForbidden(t, "alice lists cluster-wide", err, "mpijobs.kubeflow.org is forbidden: "+forbidden("alice", "list", ""))
		_, err = alice.MPIJobs("").Watch(ctx, metav1.ListOptions{})
		wantForbidden(t, "alice watches cluster-wide", err, "mpijobs.kubeflow.org is forbidden: "+forbidden("alice", "watch", ""))

		for _, args := range [][]string{{"get", "mpijobs", "-n", "b"}, {"get", "mpijobs", "-A"}} {
			r := e.Kubectl("alice").Run(ctx, "", args...)
			verbScope := forbidden("alice", "list", "b")
			if slices.Contains(args, "-A") {
				verbScope = forbidden("alice", "list", "")
			}
			want := "Error from server (Forbidden): mpijobs.kubeflow.org is forbidden: " + verbScope
			if r.ExitCode != 1 || strings.TrimSpace(r.Stderr) != want {
				t.Errorf("alice: kubectl %s: %s\nwant exit 1 and %q", strings.Join(args, " "), r, want)
			}
		}
		// job-b is untouched.
		j, err := admin.KubeflowV1alpha2().MPIJobs("b").Get(ctx, "job-b", metav1.GetOptions{})
		if err != nil || j.Labels["by"] != "" {
			t.Errorf("job-b after alice's attempts: %v %v", err, j.Labels)
		}
	})

	t.Run("nobody", func(t *testing.T) {
		jobs := clientFor("nobody").KubeflowV1alpha2()
		for _, ns := range []string{"a", "b", ""} {
			_, err := jobs.MPIJobs(ns).List(ctx, metav1.ListOptions{})
			wantForbidden(t, "nobody lists in "+ns, err, "mpijobs.kubeflow.org is forbidden: "+forbidden("nobody", "list", ns))
			_, err = jobs.MPIJobs(ns).Watch(ctx, metav1.ListOptions{})
			wantForbidden(t, "nobody watches in "+ns, err, "mpijobs.kubeflow.org is forbidden: "+forbidden("nobody", "watch", ns))
		}
		_, err := jobs.MPIJobs("a").Get(ctx, "job-a", metav1.GetOptions{})
		wantForbidden(t, "nobody gets job-a", err, `mpijobs.kubeflow.org "job-a" is forbidden: `+forbidden("nobody", "get", "a"))
		_, err = jobs.MPIJobs("a").Create(ctx, harness.NewMPIJob("a", "by-nobody", 1), metav1.CreateOptions{})
		wantForbidden(t, "nobody creates in a", err, "mpijobs.kubeflow.org is forbidden: "+forbidden("nobody", "create", "a"))
		// Discovery is for everyone authenticated: nobody sees that the API
		// exists, and nothing in it.
		r := e.Kubectl("nobody").Run(ctx, "", "api-resources", "--api-group=kubeflow.org", "-o", "name")
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "mpijobs.kubeflow.org" {
			t.Errorf("nobody: kubectl api-resources --api-group=kubeflow.org: %s", r)
		}
		r = e.Kubectl("nobody").Run(ctx, "", "get", "mpijobs", "-n", "a")
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, "Error from server (Forbidden)") {
			t.Errorf("nobody: kubectl get mpijobs -n a: %s", r)
		}
	})

	// What each role grants, tried for real: view reads, edit also writes
	// the object but not its status, admin also writes status.
	matrix := func(t *testing.T, ns, clusterRole string, writes, statusWrites bool) {
		user := rbacRoleUsers[clusterRole]
		if err := e.Bind(ctx, user, clusterRole, ns); err != nil {
			t.Fatal(err)
		}
		// Objects the user's writes act on, labelled for deletecollection.
		for _, name := range []string{user + "-obj", user + "-del", user + "-coll"} {
			j := harness.NewMPIJob(ns, name, 1)
			j.Labels = map[string]string{"coll": name}
			if _, err := admin.KubeflowV1alpha2().MPIJobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		jobs := clientFor(user).KubeflowV1alpha2().MPIJobs(ns)
		obj := user + "-obj"
		getObj := func() *v1alpha2.MPIJob {
			j, err := admin.KubeflowV1alpha2().MPIJobs(ns).Get(ctx, obj, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		ops := []struct {
			verb, resource string
			allowed        bool
			do             func() error
		}{
			{"get", "mpijobs", true, func() error { _, err := jobs.Get(ctx, obj, metav1.GetOptions{}); return err }},
			{"list", "mpijobs", true, func() error { _, err := jobs.List(ctx, metav1.ListOptions{}); return err }},
			{"watch", "mpijobs", true, func() error {
				w, err := jobs.Watch(ctx, metav1.ListOptions{})
				if err == nil {
					w.Stop()
				}
				return err
			}},
			{"get", "mpijobs/status", true, func() error {
				return clientFor(user).KubeflowV1alpha2().RESTClient().Get().Namespace(ns).Resource("mpijobs").
					Name(obj).SubResource("status").Do(ctx).Error()
			}},
			{"create", "mpijobs", writes, func() error {
				_, err := jobs.Create(ctx, harness.NewMPIJob(ns, user+"-new", 1), metav1.CreateOptions{})
				return err
			}},
			{"update", "mpijobs", writes, func() error {
				j := getObj()
				j.Labels["updated"] = "yes"
				_, err := jobs.Update(ctx, j, metav1.UpdateOptions{})
				return err
			}},
			{"patch", "mpijobs", writes, func() error {
				_, err := jobs.Patch(ctx, obj, types.MergePatchType, []byte(`{"spec":{"slotsPerWorker":3}}`), metav1.PatchOptions{})
				return err
			}},
			{"update", "mpijobs/status", statusWrites, func() error {
				j := getObj()
				j.Status.Conditions = []v1alpha2.JobCondition{{Type: v1alpha2.JobCreated, Status: "True"}}
				_, err := jobs.UpdateStatus(ctx, j, metav1.UpdateOptions{})
				return err
			}},
			{"patch", "mpijobs/status", statusWrites, func() error {
				_, err := jobs.Patch(ctx, obj, types.MergePatchType,
					[]byte(`{"status":{"conditions":[{"type":"Running","status":"True"}]}}`), metav1.PatchOptions{}, "status")
				return err
			}},
			{"delete", "mpijobs", writes, func() error { return jobs.Delete(ctx, user+"-del", metav1.DeleteOptions{}) }},
			{"deletecollection", "mpijobs", writes, func() error {
				return jobs.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "coll=" + user + "-coll"})
			}},
		}
		for _, op := range ops {
			what := fmt.Sprintf("%s (%s in %s): %s %s", user, clusterRole, ns, op.verb, op.resource)
			err := op.do()
			switch {
			case op.allowed && err != nil:
				t.Errorf("%s: %v, want it allowed", what, err)
			case !op.allowed && !apierrors.IsForbidden(err):
				t.Errorf("%s: %v, want 403 Forbidden", what, err)
			case !op.allowed && !strings.Contains(err.Error(), fmt.Sprintf(`User %q cannot %s resource %q in API group "kubeflow.org" in the namespace %q`, user, op.verb, op.resource, ns)):
				t.Errorf("%s: %v, want RBAC's message for %s %s", what, err, op.verb, op.resource)
			}
		}
		// The allowed writes took effect, the refused ones did not.
		j := getObj()
		if got := j.Labels["updated"] == "yes" && j.Spec.SlotsPerWorker != nil && *j.Spec.SlotsPerWorker == 3; got != writes {
			t.Errorf("%s's update and patch took effect: %v, want %v (labels %v)", user, got, writes, j.Labels)
		}
		if got := len(j.Status.Conditions) > 0; got != statusWrites {
			t.Errorf("%s's status writes took effect: %v, want %v (%+v)", user, got, statusWrites, j.Status)
		}
		for _, name := range []string{user + "-del", user + "-coll"} {
			_, err := admin.KubeflowV1alpha2().MPIJobs(ns).Get(ctx, name, metav1.GetOptions{})
			if gone := apierrors.IsNotFound(err); gone != writes {
				t.Errorf("%s deleted by %s: %v (%v), want %v", name, user, gone, err, writes)
			}
		}
		// kubectl auth can-i agrees (kube-apiserver's view of the same RBAC).
		for verb, want := range map[string]bool{"list": true, "create": writes} {
			r := e.Kubectl(user).Run(ctx, "", "auth", "can-i", verb, "mpijobs.kubeflow.org", "-n", ns)
			if got := strings.TrimSpace(r.Stdout); got != map[bool]string{true: "yes", false: "no"}[want] {
				t.Errorf("%s: kubectl auth can-i %s mpijobs.kubeflow.org -n %s: %s", user, verb, ns, r)
			}
		}
		r := e.Kubectl(user).Run(ctx, "", "auth", "can-i", "update", "mpijobs.kubeflow.org", "--subresource=status", "-n", ns)
		if got := strings.TrimSpace(r.Stdout); got != map[bool]string{true: "yes", false: "no"}[statusWrites] {
			t.Errorf("%s: kubectl auth can-i update mpijobs --subresource=status: %s", user, r)
		}
	}

	t.Run("mpijob-view", func(t *testing.T) { matrix(t, "roles", "mpijob-view", false, false) })
	t.Run("mpijob-edit", func(t *testing.T) { matrix(t, "roles", "mpijob-edit", true, false) })
	t.Run("mpijob-admin", func(t *testing.T) { matrix(t, "roles", "mpijob-admin", true, true) })

	// The aggregation controller folds the aggregate-to-* labelled mpijob
	// roles into view, edit and admin.
	t.Run("aggregated into view edit admin", func(t *testing.T) {
		want := map[string]string{"view": "list", "edit": "create", "admin": "update"}
		for name, verb := range want {
			resource := "mpijobs"
			if name == "admin" {
				resource = "mpijobs/status"
			}
			if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
				cr, err := e.Client.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				for _, r := range cr.Rules {
					if slices.Contains(r.APIGroups, "kubeflow.org") && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
						return true, nil
					}
				}
				return false, nil
			}); err != nil {
				t.Fatalf("the ClusterRole %s never got %s on %s: %v", name, verb, resource, err)
			}
		}
		t.Run("view", func(t *testing.T) { matrix(t, "builtin", "view", false, false) })
		t.Run("edit", func(t *testing.T) { matrix(t, "builtin", "edit", true, false) })
		t.Run("admin", func(t *testing.T) { matrix(t, "builtin", "admin", true, true) })
	})
}

// wantForbidden checks that err is a 403 Forbidden with exactly message.
func wantForbidden(t *testing.T, what string, err error, message string) {
	t.Helper()
	st := cluster.StatusOf(err)
	if st == nil || st.Code != 403 || st.Reason != metav1.StatusReasonForbidden || st.Message != message {
		t.Errorf("%s: %v, want 403 Forbidden %q", what, err, message)
	}
}
