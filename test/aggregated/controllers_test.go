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
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
)

// TestControllerManager: with kube-controller-manager's namespace, garbage
// collector and ClusterRole aggregation controllers, the cluster treats
// MPIJobs as it treats built-in types: the mpijob-* roles fold into view,
// edit and admin; deleting a namespace deletes its MPIJobs; a Foreground
// deletion finishes.
func TestControllerManager(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := c.ApplyDeployRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	c.StartServerForTest(t, cluster.ServerOptions{})
	// After the APIService is Available, so that the garbage collector finds
	// mpijobs in its first discovery rather than 30 s later.
	if err := c.StartControllerManager(ctx, cluster.DefaultControllers...); err != nil {
		t.Fatal(err)
	}
	mc, err := c.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}

	// ClusterRole aggregation: view gets mpijob-view's rule; alice, bound to
	// view in kube-test, may then list MPIJobs there.
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		view, err := c.Client.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, r := range view.Rules {
			if slices.Contains(r.APIGroups, "kubeflow.org") && slices.Contains(r.Resources, "mpijobs") {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("view never aggregated mpijob-view: %v", err)
	}
	for _, ns := range []string{"kube-test", "doomed"} {
		if err := c.CreateNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
		if err := c.Bind(ctx, "alice", "view", ns); err != nil {
			t.Fatal(err)
		}
	}
	if r := c.Kubectl("alice").Run(ctx, "", "get", "mpijobs", "-n", "kube-test"); r.ExitCode != 0 {
		t.Errorf("alice with view in kube-test: %s", r)
	}

	seed, err := os.ReadFile("../../artifacts/mpijobs/mpi-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"kube-test", "doomed"} {
		obj := strings.Replace(string(seed), "namespace: kube-test", "namespace: "+ns, 1)
		c.Kubectl(cluster.Admin).Succeeds(t, obj, "create", "-f", "-")
	}

	start := time.Now()
	// A Foreground deletion: the object gets the foregroundDeletion
	// finalizer, which only the garbage collector removes.
	fg := metav1.DeletePropagationForeground
	if err := mc.KubeflowV1alpha2().MPIJobs("kube-test").Delete(ctx, "mpi-test", metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil {
		t.Fatalf("Foreground delete: %v", err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := mc.KubeflowV1alpha2().MPIJobs("kube-test").Get(ctx, "mpi-test", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		got, _ := mc.KubeflowV1alpha2().MPIJobs("kube-test").Get(ctx, "mpi-test", metav1.GetOptions{})
		t.Errorf("the Foreground deletion never finished; finalizers %v", got.GetFinalizers())
	}
	t.Logf("the Foreground deletion finished in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()

	// Deleting a namespace deletes its MPIJobs, then the namespace.
	if err := c.Client.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		ns, _ := c.Client.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		t.Fatalf("namespace doomed never went away: %+v", ns.Status)
	}
	t.Logf("namespace doomed deleted in %s", time.Since(start).Round(time.Millisecond))
	list, err := mc.KubeflowV1alpha2().MPIJobs("doomed").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("MPIJobs left in the deleted namespace: %v %v", err, list)
	}
}
