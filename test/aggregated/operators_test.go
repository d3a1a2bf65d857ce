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
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	v2beta1 "github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// operatorControllers are what the operators' jobs need of
// kube-controller-manager: Jobs and StatefulSets make the pods, the
// ServiceAccount controller the default ServiceAccount that pods need, and
// the garbage collector, namespace and aggregation controllers as usual.
var operatorControllers = []string{"job-controller", "statefulset-controller", "serviceaccount-controller",
	cluster.GarbageCollectorController, cluster.NamespaceController, cluster.ClusterRoleAggregationController}

// startOperator starts an Env with kube-controller-manager, applies op's
// upstream RBAC, starts the kubelet stand-in on namespace and then op
// watching it; everything stops when t ends. It returns the Env, op's module
// directory and the kubelet stand-in.
func startOperator(t *testing.T, ctx context.Context, op cluster.Operator, namespace string, ko cluster.KubeletOptions) (*cluster.Env, string, *cluster.Kubelet) {
	t.Helper()
	if _, err := op.Bin(); err != nil {
		t.Fatal(err)
	}
	modDir, err := op.ModuleDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env := cluster.StartEnvForTest(t, cluster.EnvOptions{
		Cluster:     cluster.Options{Users: cluster.UsersWithOperators()},
		Controllers: operatorControllers,
	})
	kubelet, _ := startOperatorOn(t, ctx, env.Cluster, op, modDir, namespace, ko)
	return env, modDir, kubelet
}

// startOperatorOn applies op's upstream RBAC (from modDir, its module
// directory) to c, whose users must include op's, starts the kubelet
// stand-in on namespace and then op watching it; both stop when t ends. It
// returns the stand-in and op's process.
func startOperatorOn(t *testing.T, ctx context.Context, c *cluster.Cluster, op cluster.Operator, modDir, namespace string, ko cluster.KubeletOptions) (*cluster.Kubelet, *harness.Process) {
	t.Helper()
	applied, err := c.ApplyOperatorRBAC(ctx, op, modDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mpi-operator %s RBAC: %s", op.Version, strings.Join(applied, ", "))
	if err := c.CreateNamespace(ctx, namespace); err != nil {
		t.Fatal(err)
	}
	ko.Namespaces = []string{namespace}
	kubelet := c.StartKubelet(ko)
	t.Cleanup(func() {
		for _, err := range kubelet.Stop() {
			t.Errorf("kubelet stand-in: %v", err)
		}
	})
	p, err := c.StartOperator(op, namespace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exited, err := p.Exited(); exited {
			t.Errorf("mpi-operator %s exited during the test: %v", op.Version, err)
		}
		_ = p.Teardown()
		if t.Failed() {
			t.Logf("mpi-operator %s log tail:\n%s", op.Version, p.LogTail(80))
		}
	})
	return kubelet, p
}

// TestOperatorV070RunsV2beta1Job: mpi-operator v0.7.0, today's operator, runs
// its own pi example, created in v2beta1, to Succeeded on our server, and the
// job reads as Succeeded in v1alpha2 too.
func TestOperatorV070RunsV2beta1Job(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const ns = "mpi-v2"
	env, modDir, kubelet := startOperator(t, ctx, cluster.OperatorV070, ns, cluster.KubeletOptions{})
	mc, err := env.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	// Every status the operator writes, from before the job exists.
	w, err := mc.KubeflowV2beta1().MPIJobs(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=pi"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	pi, err := os.ReadFile(filepath.Join(modDir, "examples", "v2beta1", "pi", "pi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	admin := env.Kubectl(cluster.Admin)
	admin.Succeeds(t, string(pi), "-n", ns, "create", "-f", "-")

	// The condition types in the order they turned True.
	var seen []string
	var job *v2beta1.MPIJob
	for !slices.Contains(seen, string(v2beta1.JobSucceeded)) {
		select {
		case <-ctx.Done():
			t.Fatalf("the MPIJob did not succeed; conditions turned True in this order: %v", seen)
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("the watch ended; conditions so far: %v", seen)
			}
			j, isJob := ev.Object.(*v2beta1.MPIJob)
			if !isJob {
				t.Fatalf("watch event %s: %#v", ev.Type, ev.Object)
			}
			job = j
			for _, c := range j.Status.Conditions {
				if c.Status == corev1.ConditionTrue && !slices.Contains(seen, string(c.Type)) {
					seen = append(seen, string(c.Type))
				}
			}
		}
	}
	if want := []string{"Created", "Running", "Succeeded"}; !slices.Equal(seen, want) {
		t.Errorf("conditions turned True in the order %v, want %v", seen, want)
	}

	// What the operator made for it, owned by the MPIJob.
	owned := func(kind, name string, meta metav1.Object) {
		t.Helper()
		ref := metav1.GetControllerOf(meta)
		if ref == nil || ref.Kind != "MPIJob" || ref.Name != "pi" || ref.UID != job.UID {
			t.Errorf("%s %s: controller %+v, want MPIJob pi (uid %s)", kind, name, ref, job.UID)
		}
	}
	svc, err := env.Client.CoreV1().Services(ns).Get(ctx, "pi", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned("Service", svc.Name, svc)
	cm, err := env.Client.CoreV1().ConfigMaps(ns).Get(ctx, "pi-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned("ConfigMap", cm.Name, cm)
	if !strings.Contains(cm.Data["hostfile"], "pi-worker-1") {
		t.Errorf("ConfigMap pi-config: hostfile %q names no pi-worker-1", cm.Data["hostfile"])
	}
	sec, err := env.Client.CoreV1().Secrets(ns).Get(ctx, "pi-ssh", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned("Secret", sec.Name, sec)
	launcher, err := env.Client.BatchV1().Jobs(ns).Get(ctx, "pi-launcher", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned("Job", launcher.Name, launcher)
	if launcher.Status.Succeeded != 1 {
		t.Errorf("Job pi-launcher: %d pods succeeded, want 1", launcher.Status.Succeeded)
	}
	ran := kubelet.Ran()
	for _, want := range []string{ns + "/pi-worker-0", ns + "/pi-worker-1", ns + "/pi-launcher-"} {
		if !slices.ContainsFunc(ran, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("no pod %s* ran; ran: %v", want, ran)
		}
	}

	admin.Succeeds(t, "", "-n", ns, "wait", "--for=condition=Succeeded", "mpijob/pi", "--timeout=60s")
	out := admin.Succeeds(t, "", "-n", ns, "get", "mpijobs.v1alpha2.kubeflow.org", "pi")
	if _, rows := cluster.ParseTable(out); len(rows) != 1 || rows[0]["STATE"] != "Succeeded" {
		t.Errorf("kubectl get mpijobs.v1alpha2.kubeflow.org pi: STATE is not Succeeded:\n%s", out)
	}
}

// TestOperatorV030RunsV1alpha2Job: mpi-operator v0.3.0, the 2019 operator,
// runs the repository's v1alpha2 example to Succeeded on our server: the
// STATE column of `kubectl get mj -w` goes Created, Running, Succeeded, and
// kubectl wait --for=condition=Succeeded returns. Deleted with background
// propagation, the garbage collector deletes what the operator made for it.
func TestOperatorV030RunsV1alpha2Job(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const ns, name = "kube-test", "mpi-test"
	// The launcher runs until the job has been seen Running: the operator
	// writes Running only while the launcher is active and every worker is
	// ready.
	var sawRunning atomic.Bool
	env, _, kubelet := startOperator(t, ctx, cluster.OperatorV030, ns, cluster.KubeletOptions{
		LauncherMayEnd: func(*corev1.Pod) bool { return sawRunning.Load() },
	})
	admin := env.Kubectl(cluster.Admin)
	states := kubectlWatchStates(t, ctx, admin, ns, name)
	example, err := harness.RepoPath("artifacts", "mpijobs", "mpi-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	admin.Succeeds(t, "", "create", "-f", example)

	var seen []string
	for len(seen) == 0 || seen[len(seen)-1] != "Succeeded" {
		select {
		case <-ctx.Done():
			t.Fatalf("the MPIJob did not succeed; STATE went %v", seen)
		case s, ok := <-states:
			if !ok {
				t.Fatalf("the watch ended; STATE went %v", seen)
			}
			if s != "" && (len(seen) == 0 || seen[len(seen)-1] != s) {
				seen = append(seen, s)
				if s == "Running" {
					sawRunning.Store(true)
				}
			}
		}
	}
	if want := []string{"Created", "Running", "Succeeded"}; !slices.Equal(seen, want) {
		t.Errorf("kubectl get mj -w: STATE went %v, want %v", seen, want)
	}
	admin.Succeeds(t, "", "-n", ns, "wait", "--for=condition=Succeeded", "mpijob/"+name, "--timeout=60s")

	job, err := env.Client.CoreV1().RESTClient().Get().AbsPath("/apis/kubeflow.org/v1alpha2/namespaces", ns, "mpijobs", name).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var meta metav1.PartialObjectMetadata
	if err := json.Unmarshal(job, &meta); err != nil {
		t.Fatal(err)
	}
	owned := func(kind, objName string, get func() (metav1.Object, error)) {
		t.Helper()
		obj, err := get()
		if err != nil {
			t.Errorf("%s %s: %v", kind, objName, err)
			return
		}
		ref := metav1.GetControllerOf(obj)
		if ref == nil || ref.Kind != "MPIJob" || ref.Name != name || ref.UID != meta.UID {
			t.Errorf("%s %s: controller %+v, want MPIJob %s (uid %s)", kind, objName, ref, name, meta.UID)
		}
	}
	kc := env.Client
	owned("ConfigMap", name+"-config", func() (metav1.Object, error) {
		return kc.CoreV1().ConfigMaps(ns).Get(ctx, name+"-config", metav1.GetOptions{})
	})
	owned("ServiceAccount", name+"-launcher", func() (metav1.Object, error) {
		return kc.CoreV1().ServiceAccounts(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
	})
	owned("Role", name+"-launcher", func() (metav1.Object, error) {
		return kc.RbacV1().Roles(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
	})
	owned("RoleBinding", name+"-launcher", func() (metav1.Object, error) {
		return kc.RbacV1().RoleBindings(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
	})
	owned("StatefulSet", name+"-worker", func() (metav1.Object, error) {
		return kc.AppsV1().StatefulSets(ns).Get(ctx, name+"-worker", metav1.GetOptions{})
	})
	owned("Job", name+"-launcher", func() (metav1.Object, error) {
		return kc.BatchV1().Jobs(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
	})
	ran := kubelet.Ran()
	for _, want := range []string{ns + "/" + name + "-worker-0", ns + "/" + name + "-worker-1", ns + "/" + name + "-launcher-"} {
		if !slices.ContainsFunc(ran, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("no pod %s* ran; ran: %v", want, ran)
		}
	}

	// Deleted with kubectl's default, background propagation: the garbage
	// collector follows the v1alpha2 owner references of what v0.3.0 made.
	admin.Succeeds(t, "", "-n", ns, "delete", "mpijob", name, "--cascade=background")
	waitAllGone(t, ctx, map[string]func(context.Context) error{
		"MPIJob " + name: func(ctx context.Context) error {
			return env.Client.CoreV1().RESTClient().Get().AbsPath("/apis/kubeflow.org/v1alpha2/namespaces", ns, "mpijobs", name).Do(ctx).Error()
		},
		"ConfigMap " + name + "-config": func(ctx context.Context) error {
			_, err := kc.CoreV1().ConfigMaps(ns).Get(ctx, name+"-config", metav1.GetOptions{})
			return err
		},
		"ServiceAccount " + name + "-launcher": func(ctx context.Context) error {
			_, err := kc.CoreV1().ServiceAccounts(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
			return err
		},
		"Role " + name + "-launcher": func(ctx context.Context) error {
			_, err := kc.RbacV1().Roles(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
			return err
		},
		"RoleBinding " + name + "-launcher": func(ctx context.Context) error {
			_, err := kc.RbacV1().RoleBindings(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
			return err
		},
		"StatefulSet " + name + "-worker": func(ctx context.Context) error {
			_, err := kc.AppsV1().StatefulSets(ns).Get(ctx, name+"-worker", metav1.GetOptions{})
			return err
		},
		"Job " + name + "-launcher": func(ctx context.Context) error {
			_, err := kc.BatchV1().Jobs(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
			return err
		},
	})
	waitNoPods(t, ctx, kc, ns, name+"-")
}

// manifestAs reads the one object of a YAML manifest, renamed to name and
// without its namespace (kubectl -n says where it goes).
func manifestAs(t *testing.T, file, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		t.Fatalf("%s: no metadata", file)
	}
	md["name"] = name
	delete(md, "namespace")
	return obj
}

// waitAllGone waits (up to a minute each) until every get returns NotFound.
func waitAllGone(t *testing.T, ctx context.Context, gets map[string]func(context.Context) error) {
	t.Helper()
	for what, get := range gets {
		if err := cluster.WaitGone(ctx, time.Minute, get); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
}

// waitNoPods waits (up to a minute) until ns has no pod named prefix*.
func waitNoPods(t *testing.T, ctx context.Context, kc kubernetes.Interface, ns, prefix string) {
	t.Helper()
	var left []string
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := harness.Poll(ctx, "no pods "+prefix+"* left in "+ns, nil, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		pods, err := kc.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		left = left[:0]
		for _, p := range pods.Items {
			if strings.HasPrefix(p.Name, prefix) {
				left = append(left, p.Name)
			}
		}
		return len(left) == 0, nil
	})
	if err != nil {
		t.Errorf("pods left in %s: %v (%v)", ns, left, err)
	}
}

// kubectlWatchStates runs `kubectl get mj -n ns -w` (the v1alpha2 table of
// the namespace, so it may start before the job exists) until ctx ends, and
// sends the STATE cell of each row it prints for the job name. The columns
// are NAME, STATE, WORKERS and AGE; a row with three cells has an empty
// STATE.
func kubectlWatchStates(t *testing.T, ctx context.Context, k harness.Kubectl, ns, name string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := k.Command(ctx, "get", "mj", "-n", ns, "-w")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("kubectl get mj -w: stderr:\n%s", stderr.String())
		}
	})
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			cells := strings.Fields(sc.Text())
			if len(cells) < 3 || cells[0] != name {
				continue // the header, or another job
			}
			state := ""
			if len(cells) == 4 {
				state = cells[1]
			}
			select {
			case ch <- state:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// TestOperatorV070FailedJob: with backoffLimit 0, a launcher that fails once
// fails the job: mpi-operator v0.7.0 writes Created, Running, Failed, and the
// job reads as Failed in v1alpha2 too.
func TestOperatorV070FailedJob(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const ns, name = "mpi-v2", "pi-fail"
	var sawRunning atomic.Bool
	env, modDir, kubelet := startOperator(t, ctx, cluster.OperatorV070, ns, cluster.KubeletOptions{
		LauncherPhase:  func(*corev1.Pod) corev1.PodPhase { return corev1.PodFailed },
		LauncherMayEnd: func(*corev1.Pod) bool { return sawRunning.Load() },
	})
	mc, err := env.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mc.KubeflowV2beta1().MPIJobs(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// The pi example, renamed, with runPolicy.backoffLimit 0.
	pi := manifestAs(t, filepath.Join(modDir, "examples", "v2beta1", "pi", "pi.yaml"), name)
	pi["spec"].(map[string]any)["runPolicy"].(map[string]any)["backoffLimit"] = 0
	admin := env.Kubectl(cluster.Admin)
	admin.Succeeds(t, mustJSON(pi), "-n", ns, "create", "-f", "-")

	// The condition types in the order they turned True.
	var seen []string
	for !slices.Contains(seen, string(v2beta1.JobFailed)) && !slices.Contains(seen, string(v2beta1.JobSucceeded)) {
		select {
		case <-ctx.Done():
			t.Fatalf("the MPIJob did not finish; conditions turned True in this order: %v", seen)
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("the watch ended; conditions so far: %v", seen)
			}
			j, isJob := ev.Object.(*v2beta1.MPIJob)
			if !isJob {
				t.Fatalf("watch event %s: %#v", ev.Type, ev.Object)
			}
			for _, c := range j.Status.Conditions {
				if c.Status == corev1.ConditionTrue && !slices.Contains(seen, string(c.Type)) {
					seen = append(seen, string(c.Type))
				}
			}
			if slices.Contains(seen, string(v2beta1.JobRunning)) {
				sawRunning.Store(true)
			}
		}
	}
	if want := []string{"Created", "Running", "Failed"}; !slices.Equal(seen, want) {
		t.Errorf("conditions turned True in the order %v, want %v", seen, want)
	}

	launcher, err := env.Client.BatchV1().Jobs(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if launcher.Status.Failed != 1 || launcher.Status.Succeeded != 0 {
		t.Errorf("Job %s: %d pods failed and %d succeeded, want 1 and 0", launcher.Name, launcher.Status.Failed, launcher.Status.Succeeded)
	}
	var launchers []string
	for _, p := range kubelet.Ran() {
		if strings.HasPrefix(p, ns+"/"+name+"-launcher-") {
			launchers = append(launchers, p)
		}
	}
	if len(launchers) != 1 {
		t.Errorf("launcher pods that ran: %v, want one (backoffLimit 0)", launchers)
	}

	admin.Succeeds(t, "", "-n", ns, "wait", "--for=condition=Failed", "mpijob/"+name, "--timeout=60s")
	out := admin.Succeeds(t, "", "-n", ns, "get", "mpijobs.v1alpha2.kubeflow.org", name)
	if _, rows := cluster.ParseTable(out); len(rows) != 1 || rows[0]["STATE"] != "Failed" {
		t.Errorf("kubectl get mpijobs.v1alpha2.kubeflow.org %s: STATE is not Failed:\n%s", name, out)
	}
	// The operator passes on the launcher Job's reason and message, with the
	// failed pod's reason (none: a container that exits 1 leaves it empty).
	job, err := mc.KubeflowV2beta1().MPIJobs(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var failed *v2beta1.JobCondition
	for i := range job.Status.Conditions {
		if job.Status.Conditions[i].Type == v2beta1.JobFailed {
			failed = &job.Status.Conditions[i]
		}
	}
	if failed == nil || failed.Reason != "BackoffLimitExceeded/" || !strings.Contains(failed.Message, "backoff limit") {
		t.Errorf("MPIJob %s: Failed condition %+v, want reason BackoffLimitExceeded/ and the Job's backoff limit message", name, failed)
	}
}

// TestOperatorV070JobDeletion: deleting running MPIJobs, one with
// foreground and one with background propagation, lets the garbage
// collector delete what mpi-operator v0.7.0 made for each (through our
// server's finalizers and v2beta1 owner references), and the MPIJobs.
func TestOperatorV070JobDeletion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const ns = "mpi-v2"
	// The launchers never end: the jobs are deleted while they run.
	env, modDir, _ := startOperator(t, ctx, cluster.OperatorV070, ns, cluster.KubeletOptions{
		LauncherMayEnd: func(*corev1.Pod) bool { return false },
	})
	mc, err := env.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	admin := env.Kubectl(cluster.Admin)
	propagation := map[string]string{"pi-fg": "foreground", "pi-bg": "background"}
	for name := range propagation {
		pi := manifestAs(t, filepath.Join(modDir, "examples", "v2beta1", "pi", "pi.yaml"), name)
		admin.Succeeds(t, mustJSON(pi), "-n", ns, "create", "-f", "-")
	}
	for name := range propagation {
		err := harness.Poll(ctx, "MPIJob "+name+" Running", nil, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			j, err := mc.KubeflowV2beta1().MPIJobs(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return hasCondition(j, v2beta1.JobRunning), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	kc := env.Client
	for name, cascade := range propagation {
		admin.Succeeds(t, "", "-n", ns, "delete", "mpijobs.v2beta1.kubeflow.org", name, "--cascade="+cascade, "--timeout=90s")
		waitAllGone(t, ctx, map[string]func(context.Context) error{
			"MPIJob " + name: func(ctx context.Context) error {
				_, err := mc.KubeflowV2beta1().MPIJobs(ns).Get(ctx, name, metav1.GetOptions{})
				return err
			},
			"Service " + name: func(ctx context.Context) error {
				_, err := kc.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
				return err
			},
			"ConfigMap " + name + "-config": func(ctx context.Context) error {
				_, err := kc.CoreV1().ConfigMaps(ns).Get(ctx, name+"-config", metav1.GetOptions{})
				return err
			},
			"Secret " + name + "-ssh": func(ctx context.Context) error {
				_, err := kc.CoreV1().Secrets(ns).Get(ctx, name+"-ssh", metav1.GetOptions{})
				return err
			},
			"Job " + name + "-launcher": func(ctx context.Context) error {
				_, err := kc.BatchV1().Jobs(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
				return err
			},
		})
		// The workers, and the launcher's pods with the launcher Job.
		waitNoPods(t, ctx, kc, ns, name+"-")
	}
}

// TestOperatorV070ScaleSuspendResume: kubectl scale through our /scale adds
// a worker that mpi-operator v0.7.0 creates; suspending the job stops its
// pods and suspends the launcher Job; resuming runs it again, to Succeeded.
func TestOperatorV070ScaleSuspendResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const ns = "mpi-v2"
	var mayEnd atomic.Bool
	env, modDir, _ := startOperator(t, ctx, cluster.OperatorV070, ns, cluster.KubeletOptions{
		LauncherMayEnd: func(*corev1.Pod) bool { return mayEnd.Load() },
	})
	mc, err := env.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	kc := env.Client
	pi, err := os.ReadFile(filepath.Join(modDir, "examples", "v2beta1", "pi", "pi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	admin := env.Kubectl(cluster.Admin)
	admin.Succeeds(t, string(pi), "-n", ns, "create", "-f", "-")
	waitCondition := func(ct v2beta1.JobConditionType, status corev1.ConditionStatus) {
		t.Helper()
		var last []v2beta1.JobCondition
		err := harness.Poll(ctx, fmt.Sprintf("MPIJob pi %s=%s", ct, status), nil, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			j, err := mc.KubeflowV2beta1().MPIJobs(ns).Get(ctx, "pi", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			last = j.Status.Conditions
			for _, c := range j.Status.Conditions {
				if c.Type == ct {
					return c.Status == status, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("%v; conditions: %+v", err, last)
		}
	}
	// waitWorkers waits until the running pods named pi-worker-* are exactly want.
	waitWorkers := func(want ...string) {
		t.Helper()
		var got []string
		err := harness.Poll(ctx, fmt.Sprintf("workers %v", want), nil, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			pods, err := kc.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			got = got[:0]
			for _, p := range pods.Items {
				if strings.HasPrefix(p.Name, "pi-worker-") && p.Status.Phase == corev1.PodRunning {
					got = append(got, p.Name)
				}
			}
			slices.Sort(got)
			return slices.Equal(got, want), nil
		})
		if err != nil {
			t.Fatalf("%v; running workers: %v", err, got)
		}
	}
	waitCondition(v2beta1.JobRunning, corev1.ConditionTrue)
	waitWorkers("pi-worker-0", "pi-worker-1")

	admin.Succeeds(t, "", "-n", ns, "scale", "mpijobs.v2beta1.kubeflow.org/pi", "--replicas=3")
	waitWorkers("pi-worker-0", "pi-worker-1", "pi-worker-2")
	err = harness.Poll(ctx, "hostfile names pi-worker-2", nil, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		cm, err := kc.CoreV1().ConfigMaps(ns).Get(ctx, "pi-config", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return strings.Contains(cm.Data["hostfile"], "pi-worker-2"), nil
	})
	if err != nil {
		t.Fatal(err)
	}

	admin.Succeeds(t, "", "-n", ns, "patch", "mpijobs.v2beta1.kubeflow.org", "pi", "--type=merge", "-p", `{"spec":{"runPolicy":{"suspend":true}}}`)
	waitCondition(v2beta1.JobSuspended, corev1.ConditionTrue)
	waitCondition(v2beta1.JobRunning, corev1.ConditionFalse)
	waitWorkers()
	launcher, err := kc.BatchV1().Jobs(ns).Get(ctx, "pi-launcher", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if launcher.Spec.Suspend == nil || !*launcher.Spec.Suspend {
		t.Errorf("Job pi-launcher of the suspended MPIJob: spec.suspend %v, want true", launcher.Spec.Suspend)
	}

	admin.Succeeds(t, "", "-n", ns, "patch", "mpijobs.v2beta1.kubeflow.org", "pi", "--type=merge", "-p", `{"spec":{"runPolicy":{"suspend":false}}}`)
	waitCondition(v2beta1.JobSuspended, corev1.ConditionFalse)
	waitWorkers("pi-worker-0", "pi-worker-1", "pi-worker-2")
	waitCondition(v2beta1.JobRunning, corev1.ConditionTrue)
	mayEnd.Store(true)
	waitCondition(v2beta1.JobSucceeded, corev1.ConditionTrue)
}
