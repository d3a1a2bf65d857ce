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
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// TestOperatorV070RunsV1alpha2Job: the seed job,
// artifacts/mpijobs/mpi-test.yaml, written in v1alpha2, is run by
// mpi-operator v0.7.0 through conversion to v2beta1 as its own pi example is
// (Service, ConfigMap, SSH Secret, worker Pods, launcher Job; Created,
// Running, Succeeded), and its cleanPodPolicy All, which v2beta1 shows in
// runPolicy, removes the workers at the end. mpi-operator v0.3.0's generated
// v1alpha2 informer sees every change a v1alpha2 watch sees, in the same
// order; and after the run the job reads back in v1alpha2 with the spec the
// user sent, no v2beta1 default added (in either version) and no reserved
// annotation anywhere.
func TestOperatorV070RunsV1alpha2Job(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const ns, name = "mpi-v2", "mpi-test"
	// The launcher runs until the job has been seen Running (v0.7.0 writes
	// Running while the launcher runs and every worker is ready).
	var sawRunning atomic.Bool
	env, _, kubelet := startOperator(t, ctx, cluster.OperatorV070, ns, cluster.KubeletOptions{
		LauncherMayEnd: func(*corev1.Pod) bool { return sawRunning.Load() },
	})

	// mpi-operator v0.3.0's v1alpha2 informer, synced before the job exists.
	inf, err := env.StartInformer(cluster.Admin, ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := inf.Stop(); err != nil {
			t.Errorf("mpijob-informer: %v", err)
		}
		if t.Failed() {
			t.Logf("mpijob-informer log tail:\n%s", inf.LogTail(40))
		}
	})
	select {
	case ev, ok := <-inf.Events:
		if !ok || ev.Event != "synced" {
			t.Fatalf("mpijob-informer: first line %+v (open %v), want synced:\n%s", ev, ok, inf.LogTail(40))
		}
	case <-ctx.Done():
		t.Fatalf("mpijob-informer did not sync:\n%s", inf.LogTail(40))
	}

	// Direct watches of the job as JSON in both versions, from before it exists.
	cfg, err := env.RESTConfig(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	jobs := func(version string) dynamic.ResourceInterface {
		return dyn.Resource(schema.GroupVersionResource{Group: "kubeflow.org", Version: version, Resource: "mpijobs"}).Namespace(ns)
	}
	watches := map[string]watch.Interface{}
	for _, version := range []string{"v1alpha2", "v2beta1"} {
		w, err := jobs(version).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		watches[version] = w
	}

	// The seed job, in the operator's namespace, created in v1alpha2.
	seedFile, err := harness.RepoPath("artifacts", "mpijobs", "mpi-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seedYAML, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	var seed map[string]any
	if err := yaml.Unmarshal(seedYAML, &seed); err != nil {
		t.Fatal(err)
	}
	if seed["apiVersion"] != "kubeflow.org/v1alpha2" || field(seed, "metadata", "name") != name {
		t.Fatalf("%s: apiVersion %v, name %v; want kubeflow.org/v1alpha2, %s", seedFile, seed["apiVersion"], field(seed, "metadata", "name"), name)
	}
	delete(seed["metadata"].(map[string]any), "namespace")
	admin := env.Kubectl(cluster.Admin)
	out := admin.Succeeds(t, mustJSON(seed), "-n", ns, "create", "-f", "-", "-o", "json")
	var created unstructured.Unstructured
	if err := created.UnmarshalJSON([]byte(out)); err != nil {
		t.Fatalf("kubectl create -o json: %v\n%s", err, out)
	}
	if created.GetAPIVersion() != "kubeflow.org/v1alpha2" {
		t.Fatalf("kubectl create answered in %s, want kubeflow.org/v1alpha2", created.GetAPIVersion())
	}
	// What the server kept of the user's spec is what the user sent (the
	// quantities are written canonically, docs/mpijob-v2beta1.md §6.2).
	if diff := specDiff(t, seed["spec"], created.Object["spec"]); diff != "" {
		t.Errorf("the spec kubectl create answered differs from the manifest's (-sent +answered):\n%s", diff)
	}

	// Until v2beta1 shows Succeeded: the condition types in the order they
	// turned True there, and every v1alpha2 event.
	var trueV2 []string
	var v1Events []*unstructured.Unstructured
	for !slices.Contains(trueV2, "Succeeded") {
		select {
		case <-ctx.Done():
			t.Fatalf("the MPIJob did not succeed; conditions turned True in this order (v2beta1): %v", trueV2)
		case ev, ok := <-watches["v1alpha2"].ResultChan():
			v1Events = append(v1Events, watchedJob(t, "v1alpha2", ev, ok))
		case ev, ok := <-watches["v2beta1"].ResultChan():
			j := watchedJob(t, "v2beta1", ev, ok)
			checkUnchanged(t, "v2beta1 watch", j, &created)
			trueV2 = appendNew(trueV2, trueConditions(t, field(j.Object, "status"))...)
			if slices.Contains(trueV2, "Running") && !sawRunning.Load() {
				// The workers exist while the launcher is held: check now
				// who controls them, then let the launcher end.
				for _, w := range []string{name + "-worker-0", name + "-worker-1"} {
					checkControlled(t, ctx, "Pod", w, created.GetUID(), func(ctx context.Context) (metav1.Object, error) {
						return env.Client.CoreV1().Pods(ns).Get(ctx, w, metav1.GetOptions{})
					})
				}
				sawRunning.Store(true)
			}
		}
	}
	if want := []string{"Created", "Running", "Succeeded"}; !slices.Equal(trueV2, want) {
		t.Errorf("conditions turned True in the order %v (v2beta1), want %v", trueV2, want)
	}

	// What v0.7.0 made for the job, in v2beta1's names, controlled by it.
	kc := env.Client
	for _, o := range []struct {
		kind, name string
		get        func(context.Context) (metav1.Object, error)
	}{
		{"Service", name, func(ctx context.Context) (metav1.Object, error) {
			return kc.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		}},
		{"ConfigMap", name + "-config", func(ctx context.Context) (metav1.Object, error) {
			cm, err := kc.CoreV1().ConfigMaps(ns).Get(ctx, name+"-config", metav1.GetOptions{})
			if err == nil && !strings.Contains(cm.Data["hostfile"], name+"-worker-1") {
				t.Errorf("ConfigMap %s: hostfile %q names no %s-worker-1", cm.Name, cm.Data["hostfile"], name)
			}
			return cm, err
		}},
		{"Secret", name + "-ssh", func(ctx context.Context) (metav1.Object, error) {
			return kc.CoreV1().Secrets(ns).Get(ctx, name+"-ssh", metav1.GetOptions{})
		}},
		{"Job", name + "-launcher", func(ctx context.Context) (metav1.Object, error) {
			j, err := kc.BatchV1().Jobs(ns).Get(ctx, name+"-launcher", metav1.GetOptions{})
			if err == nil && j.Status.Succeeded != 1 {
				t.Errorf("Job %s: %d pods succeeded, want 1", j.Name, j.Status.Succeeded)
			}
			return j, err
		}},
	} {
		checkControlled(t, ctx, o.kind, o.name, created.GetUID(), o.get)
	}
	ran := kubelet.Ran()
	if !slices.ContainsFunc(ran, func(p string) bool { return strings.HasPrefix(p, ns+"/"+name+"-launcher-") }) {
		t.Errorf("no launcher pod ran; ran: %v", ran)
	}
	// cleanPodPolicy All (v1alpha2's spec.cleanPodPolicy, v2beta1's
	// spec.runPolicy.cleanPodPolicy): the finished job's workers are deleted.
	for _, w := range []string{name + "-worker-0", name + "-worker-1"} {
		if !slices.Contains(ran, ns+"/"+w) {
			t.Errorf("pod %s did not run; ran: %v", w, ran)
		}
		err := cluster.WaitGone(ctx, time.Minute, func(ctx context.Context) error {
			_, err := kc.CoreV1().Pods(ns).Get(ctx, w, metav1.GetOptions{})
			return err
		})
		if err != nil {
			t.Errorf("worker %s of the Succeeded job with cleanPodPolicy All: %v", w, err)
		}
	}

	// The job read back in v1alpha2: the spec of the create's answer, the
	// generation of the create, no reserved annotation.
	final, err := jobs("v1alpha2").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkUnchanged(t, "v1alpha2 GET after the run", final, &created)
	if diff := cmp.Diff(created.Object["spec"], final.Object["spec"]); diff != "" {
		t.Errorf("v1alpha2 spec after the run differs from the create's answer (-created +after):\n%s", diff)
	}
	if got := trueConditions(t, field(final.Object, "status")); !slices.Equal(got, []string{"Created", "Succeeded"}) {
		t.Errorf("v1alpha2 status after the run: True conditions %v, want [Created Succeeded] (Running False at the end)", got)
	}
	// ... and in v2beta1: none of the defaults a v2beta1 write adds (§5),
	// which the operator applies only in its memory.
	finalV2, err := jobs("v2beta1").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkUnchanged(t, "v2beta1 GET after the run", finalV2, &created)
	for _, path := range [][]string{{"sshAuthMountPath"}, {"mpiImplementation"}, {"launcherCreationPolicy"},
		{"runLauncherAsWorker"}, {"runPolicy", "suspend"}} {
		if v := field(finalV2.Object, append([]string{"spec"}, path...)...); v != nil {
			t.Errorf("v2beta1 spec.%s after the run: %v, want absent (the job was written in v1alpha2)", strings.Join(path, "."), v)
		}
	}
	if v := field(finalV2.Object, "spec", "runPolicy", "cleanPodPolicy"); v != "All" {
		t.Errorf("v2beta1 spec.runPolicy.cleanPodPolicy: %v, want All", v)
	}
	if v := field(finalV2.Object, "spec", "slotsPerWorker"); v != int64(1) {
		t.Errorf("v2beta1 spec.slotsPerWorker: %v, want 1", v)
	}

	// The v1alpha2 watch and the informer up to the GET's resourceVersion.
	finalRV := final.GetResourceVersion()
	for !slices.ContainsFunc(v1Events, func(j *unstructured.Unstructured) bool { return j.GetResourceVersion() == finalRV }) {
		select {
		case <-ctx.Done():
			t.Fatalf("the v1alpha2 watch did not reach resourceVersion %s", finalRV)
		case ev, ok := <-watches["v1alpha2"].ResultChan():
			v1Events = append(v1Events, watchedJob(t, "v1alpha2", ev, ok))
		}
	}
	var watched []string
	for _, j := range v1Events {
		checkUnchanged(t, "v1alpha2 watch", j, &created)
		if diff := cmp.Diff(created.Object["spec"], j.Object["spec"]); diff != "" {
			t.Errorf("v1alpha2 watch at resourceVersion %s: spec differs from the create's answer (-created +watched):\n%s", j.GetResourceVersion(), diff)
		}
		watched = append(watched, j.GetResourceVersion())
	}
	var seen []cluster.InformerEvent
	for len(seen) == 0 || seen[len(seen)-1].ResourceVersion != finalRV {
		select {
		case <-ctx.Done():
			t.Fatalf("the informer did not reach resourceVersion %s; it saw %s", finalRV, informerSequence(seen))
		case ev, ok := <-inf.Events:
			if !ok {
				t.Fatalf("the informer ended; it saw %s", informerSequence(seen))
			}
			seen = append(seen, ev)
		}
	}
	t.Logf("mpi-operator v0.3.0's informer saw: %s", informerSequence(seen))
	var informed, trueV1 []string
	for i, ev := range seen {
		if want := map[bool]string{true: "add", false: "update"}[i == 0]; ev.Event != want || ev.Name != name {
			t.Errorf("informer event %d: %s of %q, want %s of %q", i, ev.Event, ev.Name, want, name)
		}
		if _, ok := ev.Annotations[carryover.Annotation]; ok {
			t.Errorf("informer event %d (resourceVersion %s) carries the reserved annotation: %v", i, ev.ResourceVersion, ev.Annotations)
		}
		if ev.Generation != created.GetGeneration() {
			t.Errorf("informer event %d (resourceVersion %s): generation %d, want %d", i, ev.ResourceVersion, ev.Generation, created.GetGeneration())
		}
		if diff := specDiff(t, created.Object["spec"], ev.Spec); diff != "" {
			t.Errorf("informer event %d (resourceVersion %s): spec differs from the create's answer (-created +informed):\n%s", i, ev.ResourceVersion, diff)
		}
		informed = append(informed, ev.ResourceVersion)
		trueV1 = appendNew(trueV1, trueConditions(t, ev.Status)...)
	}
	if !slices.Equal(informed, watched) {
		t.Errorf("the informer saw resourceVersions %v, the v1alpha2 watch %v", informed, watched)
	} else {
		// The same statuses, one for one.
		for i, ev := range seen {
			var got, want v1alpha2.JobStatus
			decodeInto(t, ev.Status, &got)
			decodeInto(t, v1Events[i].Object["status"], &want)
			if !apiequality.Semantic.DeepEqual(got, want) {
				t.Errorf("resourceVersion %s: the informer's status differs from the v1alpha2 watch's (-informed +watched):\n%s", ev.ResourceVersion, jsonDiff(got, want))
			}
		}
	}
	if want := []string{"Created", "Running", "Succeeded"}; !slices.Equal(trueV1, want) {
		t.Errorf("conditions turned True in the order %v (informer), want %v", trueV1, want)
	}
	var gotStatus, wantStatus v1alpha2.JobStatus
	decodeInto(t, seen[len(seen)-1].Status, &gotStatus)
	decodeInto(t, final.Object["status"], &wantStatus)
	if !apiequality.Semantic.DeepEqual(gotStatus, wantStatus) {
		t.Errorf("informer status at resourceVersion %s differs from the v1alpha2 GET (-informed +GET):\n%s", finalRV, jsonDiff(gotStatus, wantStatus))
	}
}

// watchedJob is the MPIJob of a watch event (ok false: the watch ended).
func watchedJob(t *testing.T, version string, ev watch.Event, ok bool) *unstructured.Unstructured {
	t.Helper()
	if !ok {
		t.Fatalf("the %s watch ended", version)
	}
	j, isJob := ev.Object.(*unstructured.Unstructured)
	if !isJob || (ev.Type != watch.Added && ev.Type != watch.Modified) {
		t.Fatalf("%s watch event %s: %#v", version, ev.Type, ev.Object)
	}
	return j
}

// checkUnchanged: j, as read in what, has created's uid and generation (the
// operator writes only status) and no reserved annotation.
func checkUnchanged(t *testing.T, what string, j, created *unstructured.Unstructured) {
	t.Helper()
	if j.GetUID() != created.GetUID() || j.GetGeneration() != created.GetGeneration() {
		t.Errorf("%s (resourceVersion %s): uid %s generation %d, want %s and %d", what, j.GetResourceVersion(),
			j.GetUID(), j.GetGeneration(), created.GetUID(), created.GetGeneration())
	}
	if _, ok := j.GetAnnotations()[carryover.Annotation]; ok {
		t.Errorf("%s (resourceVersion %s) carries the reserved annotation: %v", what, j.GetResourceVersion(), j.GetAnnotations())
	}
}

// checkControlled: get finds kind name, controlled by the MPIJob with uid.
func checkControlled(t *testing.T, ctx context.Context, kind, name string, uid types.UID, get func(context.Context) (metav1.Object, error)) {
	t.Helper()
	obj, err := get(ctx)
	if err != nil {
		t.Errorf("%s %s: %v", kind, name, err)
		return
	}
	if ref := metav1.GetControllerOf(obj); ref == nil || ref.Kind != "MPIJob" || ref.APIVersion != "kubeflow.org/v2beta1" || ref.UID != uid {
		t.Errorf("%s %s: controller %+v, want the MPIJob (kubeflow.org/v2beta1, uid %s)", kind, name, ref, uid)
	}
}

// trueConditions are the types of status's conditions that are True, in
// their order; status is JSON or decoded JSON.
func trueConditions(t *testing.T, status any) []string {
	t.Helper()
	var s v1alpha2.JobStatus
	decodeInto(t, status, &s)
	var types []string
	for _, c := range s.Conditions {
		if c.Status == corev1.ConditionTrue {
			types = append(types, string(c.Type))
		}
	}
	return types
}

// appendNew appends the items not in seen yet.
func appendNew(seen []string, items ...string) []string {
	for _, s := range items {
		if !slices.Contains(seen, s) {
			seen = append(seen, s)
		}
	}
	return seen
}

// specDiff is "" when the specs a and b (JSON or decoded JSON) are equal as
// this repository's v1alpha2 type, which every v1alpha2 client's type
// matches field for field (so 1 and "1" are the same quantity, and an absent
// and an empty template metadata the same), else their difference.
func specDiff(t *testing.T, a, b any) string {
	t.Helper()
	var sa, sb v1alpha2.MPIJobSpec
	decodeInto(t, a, &sa)
	decodeInto(t, b, &sb)
	if apiequality.Semantic.DeepEqual(sa, sb) {
		return ""
	}
	return jsonDiff(sa, sb)
}

// jsonDiff is the difference of a's and b's JSON.
func jsonDiff(a, b any) string {
	var ja, jb any
	_ = json.Unmarshal([]byte(mustJSON(a)), &ja)
	_ = json.Unmarshal([]byte(mustJSON(b)), &jb)
	return cmp.Diff(ja, jb)
}

func decodeInto(t *testing.T, v, into any) {
	t.Helper()
	data, ok := v.(json.RawMessage)
	if !ok {
		data = []byte(mustJSON(v))
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("decoding %s as %T: %v", data, into, err)
	}
}

// informerSequence is the informer's events, one a line: event,
// resourceVersion, generation, conditions, replica statuses and whether the
// start and completion times are set.
func informerSequence(evs []cluster.InformerEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		var s struct {
			Conditions      []struct{ Type, Status string }
			ReplicaStatuses json.RawMessage
			StartTime       *metav1.Time
			CompletionTime  *metav1.Time
		}
		_ = json.Unmarshal(ev.Status, &s)
		var conds []string
		for _, c := range s.Conditions {
			conds = append(conds, c.Type+"="+c.Status)
		}
		fmt.Fprintf(&b, "\n  %s rv=%s gen=%d conditions=[%s] replicaStatuses=%s startTime=%t completionTime=%t",
			ev.Event, ev.ResourceVersion, ev.Generation, strings.Join(conds, " "), s.ReplicaStatuses, s.StartTime != nil, s.CompletionTime != nil)
	}
	return b.String()
}
