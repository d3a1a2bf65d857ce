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
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2beta1 "github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// faultJobsEnv sets how many jobs of each version TestOperatorV070Faults
// runs: 20 by default (CI), 50 in make test-operators-heavy.
const faultJobsEnv = "MPIJOB_OPERATOR_FAULT_JOBS"

// probeDelay is how long a dead replica stays in its EndpointSlice, Ready:
// the time a readiness probe takes to notice, here short.
const probeDelay = 2 * time.Second

// faultAuditPolicy logs the status writes with their bodies, to find each
// job's last acknowledged one, and the metadata of every other request, to
// count what each replica served.
const faultAuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: RequestResponse
  resources:
  - group: kubeflow.org
    resources: [mpijobs/status]
  verbs: [update, patch]
- level: Metadata
`

// TestOperatorV070Faults: mpi-operator v0.7.0 runs 20 jobs written in
// v2beta1 and 20 written in v1alpha2 at once on two server replicas that
// kube-apiserver routes to at random (--enable-aggregator-routing, an
// EndpointSlice per replica) on a 3-member etcd cluster. During the run one
// replica is killed with SIGKILL and restarted, then the etcd leader is.
// Every job must reach Succeeded; each job's final status must be the last
// status write the replicas' audit logs show acknowledged; each launcher
// Job and worker Pod keeps the one UID it was created with. The test logs
// the wall time, each replica's requests and status writes, the writes
// refused, and the operator's retries.
func TestOperatorV070Faults(t *testing.T) {
	perVersion := 20
	if v := os.Getenv(faultJobsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("$%s=%q: want a positive number of jobs per version", faultJobsEnv, v)
		}
		perVersion = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	const ns = "mpi-faults"
	op := cluster.OperatorV070
	if _, err := op.Bin(); err != nil {
		t.Fatal(err)
	}
	modDir, err := op.ModuleDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hostIP, err := cluster.HostIP()
	if err != nil {
		t.Fatal(err)
	}

	c := cluster.StartForTest(t, cluster.Options{Users: cluster.UsersWithOperators(),
		ExtraArgs: []string{cluster.AggregatorRoutingFlag}})
	if _, err := c.ApplyDeployRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	members, err := c.StartEtcdCluster(ctx, "etcd-mpijob", 3)
	if err != nil {
		t.Fatal(err)
	}
	replicas, endpoints := startReplicas(t, ctx, c, members, hostIP, 2)
	if err := c.StartControllerManager(ctx, operatorControllers...); err != nil {
		t.Fatal(err)
	}
	// The launchers run until the replica is back: every job is mid-run
	// through that fault. Then those of the jobs written in v2beta1 end, so
	// that the operator writes their Succeeded during the etcd fault; the
	// others end once it is over.
	var phase atomic.Int32
	_, operator := startOperatorOn(t, ctx, c, op, modDir, ns, cluster.KubeletOptions{
		LauncherMayEnd: func(p *corev1.Pod) bool {
			switch phase.Load() {
			case 0:
				return false
			case 1:
				return strings.HasPrefix(p.Name, "pi-v2-")
			default:
				return true
			}
		},
	})
	uids := recordUIDs(t, ctx, c, ns)

	manifest, v2Names, v1Names := faultJobs(t, modDir, perVersion)
	names := append(slices.Clone(v2Names), v1Names...)
	start := time.Now()
	c.Kubectl(cluster.Admin).Succeeds(t, manifest, "-n", ns, "create", "-f", "-")
	t.Logf("created %d jobs in v2beta1 and %d in v1alpha2 in %s", len(v2Names), len(v1Names), time.Since(start).Round(time.Millisecond))

	// Each fault when a quarter of the jobs it should hit have moved on, so
	// that the operator is writing status through it on any machine.
	mc, err := c.MPIJobClient(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	waitConditionCount(t, ctx, mc, ns, v2beta1.JobRunning, len(names)/4)
	replicaFault := killReplica(t, ctx, c, replicas[0], endpoints[0])
	phase.Store(1)
	waitConditionCount(t, ctx, mc, ns, v2beta1.JobSucceeded, len(v2Names)/4)
	etcdFault := killEtcdLeader(t, ctx, members)
	phase.Store(2)

	final := waitAllSucceeded(t, ctx, mc, ns, names)
	wall := time.Since(start)

	lastAcked, served := auditedStatusWrites(t, ns, replicas)
	for _, name := range names {
		job := final[name]
		w, ok := lastAcked[name]
		if !ok {
			t.Errorf("MPIJob %s: no acknowledged status write in the audit logs", name)
			continue
		}
		if !apiequality.Semantic.DeepEqual(w.status, job.Status) {
			got, _ := json.Marshal(job.Status)
			want, _ := json.Marshal(w.status)
			t.Errorf("MPIJob %s: final status (resourceVersion %s)\n%s\nis not the last acknowledged status write (resourceVersion %d, %s)\n%s",
				name, job.ResourceVersion, got, w.resourceVersion, w.replica, want)
		}
		if rv, _ := strconv.ParseUint(job.ResourceVersion, 10, 64); rv < w.resourceVersion {
			t.Errorf("MPIJob %s: resourceVersion %d is older than its last acknowledged status write's %d", name, rv, w.resourceVersion)
		}
		workers := int32(0)
		if w := job.Spec.MPIReplicaSpecs[v2beta1.MPIReplicaTypeWorker]; w != nil && w.Replicas != nil {
			workers = *w.Replicas
		}
		want := []string{"Job " + name + "-launcher"}
		for i := range workers {
			want = append(want, fmt.Sprintf("Pod %s-worker-%d", name, i))
		}
		for _, key := range want {
			if got := uids.of(key); len(got) != 1 {
				t.Errorf("%s of MPIJob %s: UIDs %v, want exactly one (never recreated)", key, name, got)
			}
		}
	}

	t.Logf("%d jobs (%d written in v2beta1, %d in v1alpha2) Succeeded %s after the create, through one replica kill and one etcd leader kill",
		len(names), len(v2Names), len(v1Names), wall.Round(time.Millisecond))
	for _, s := range served {
		t.Logf("%s: %d requests; %d status writes acknowledged; refused: %s", s.replica, s.requests, len(s.acked), formatCounts(s.refused))
		if len(s.acked) == 0 {
			t.Errorf("%s acknowledged no status write: kube-apiserver did not route to it", s.replica)
		}
	}
	for _, f := range []struct {
		name string
		w    window
	}{{"replica kill", replicaFault}, {"etcd leader kill", etcdFault}} {
		acked, refused := 0, 0
		for _, s := range served {
			acked += f.w.count(s.acked)
			refused += f.w.count(s.refusedAt)
		}
		t.Logf("status writes in progress during the %s (%s from the create, %s long): %d acknowledged, %d refused",
			f.name, f.w.from.Sub(start).Round(time.Millisecond), f.w.to.Sub(f.w.from).Round(time.Millisecond), acked, refused)
	}
	retries := operatorRetries(operator.Log())
	t.Logf("mpi-operator %s: its MPIJob watch ended with an error %d times and was restarted; %d syncs failed and were requeued (rate-limited)%s",
		op.Version, watchRestarts(operator.Log()), len(retries), summarize(retries))
}

// startReplicas starts n replicas of our server in aggregated mode on the
// etcd members, each listening on 0.0.0.0 with a certificate of one shared
// CA and auditing with faultAuditPolicy, and registers the APIServices on
// their endpoints at hostIP.
func startReplicas(t *testing.T, ctx context.Context, c *cluster.Cluster, members []*harness.Etcd, hostIP net.IP, n int) ([]*cluster.Server, []cluster.Endpoint) {
	t.Helper()
	dir := filepath.Join(c.Dir, "replicas")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ca, err := harness.NewCA(dir, "serving-ca")
	if err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(faultAuditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	replicas := make([]*cluster.Server, n)
	endpoints := make([]cluster.Endpoint, n)
	for i := range replicas {
		replicas[i] = c.StartServerForTest(t, cluster.ServerOptions{
			Name: "mpijob-apiserver-" + strconv.Itoa(i), EtcdMembers: members, ServingCA: ca,
			BindAddress: "0.0.0.0", NoRegister: true, AuditPolicyFile: policy,
		})
		endpoints[i] = cluster.Endpoint{Name: strconv.Itoa(i), IP: hostIP, Port: replicas[i].Port}
	}
	if err := c.RegisterAPIServiceEndpoints(ctx, ca.CertPEM, endpoints...); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitAPIService(ctx, true, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitOpenAPIV3(ctx); err != nil {
		t.Fatal(err)
	}
	return replicas, endpoints
}

// killReplica SIGKILLs the replica; after probeDelay marks its endpoint not
// Ready, as the EndpointSlice controller would; restarts it on the same port
// and marks it Ready again once its /readyz answers.
func killReplica(t *testing.T, ctx context.Context, c *cluster.Cluster, r *cluster.Server, ep cluster.Endpoint) window {
	t.Helper()
	killed := time.Now()
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(probeDelay)
	if err := c.SetEndpointReady(ctx, ep, false); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SetEndpointReady(ctx, ep, true); err != nil {
		t.Fatal(err)
	}
	t.Logf("replica %s killed (SIGKILL), out of its EndpointSlice after %s, ready again and back %s after the kill",
		r.Name, probeDelay, time.Since(killed).Round(time.Millisecond))
	return window{killed, time.Now()}
}

// killEtcdLeader SIGKILLs the etcd leader, restarts it 3 s later and waits
// until every member answers.
func killEtcdLeader(t *testing.T, ctx context.Context, members []*harness.Etcd) window {
	t.Helper()
	leader, err := harness.EtcdLeader(ctx, members)
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := members[leader].Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := members[leader].Restart(ctx); err != nil {
		t.Fatal(err)
	}
	err = harness.Poll(ctx, "every etcd member answers", nil, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		return harness.EtcdHealthy(ctx, members), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd leader %s killed (SIGKILL), restarted and rejoined %s after the kill", members[leader].Name, time.Since(killed).Round(time.Millisecond))
	return window{killed, time.Now()}
}

// window is the time from a fault to the recovery.
type window struct{ from, to time.Time }

// count is how many of requests overlap the window.
func (w window) count(requests []window) int {
	n := 0
	for _, r := range requests {
		if !r.to.Before(w.from) && !r.from.After(w.to) {
			n++
		}
	}
	return n
}

// faultJobs is a List of perVersion copies of v0.7.0's pi example
// (v2beta1, pi-v2-NN) and of the seed's mpi-test (v1alpha2, mpi-v1-NN),
// without namespaces, and their names.
func faultJobs(t *testing.T, modDir string, perVersion int) (manifest string, v2Names, v1Names []string) {
	t.Helper()
	seed, err := harness.RepoPath("artifacts", "mpijobs", "mpi-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var items []map[string]any
	for _, src := range []struct {
		file, prefix string
		names        *[]string
	}{
		{filepath.Join(modDir, "examples", "v2beta1", "pi", "pi.yaml"), "pi-v2-", &v2Names},
		{seed, "mpi-v1-", &v1Names},
	} {
		for i := range perVersion {
			name := fmt.Sprintf("%s%02d", src.prefix, i)
			items = append(items, manifestAs(t, src.file, name))
			*src.names = append(*src.names, name)
		}
	}
	return mustJSON(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}), v2Names, v1Names
}

// waitConditionCount waits (up to 5 min) until at least n MPIJobs of ns
// have the condition True.
func waitConditionCount(t *testing.T, ctx context.Context, mc clientset.Interface, ns string, ct v2beta1.JobConditionType, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	have := 0
	err := harness.Poll(ctx, fmt.Sprintf("%d MPIJobs %s", n, ct), nil, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		list, err := mc.KubeflowV2beta1().MPIJobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		have = 0
		for i := range list.Items {
			if hasCondition(&list.Items[i], ct) {
				have++
			}
		}
		return have >= n, nil
	})
	if err != nil {
		t.Fatalf("%v (%d have it)", err, have)
	}
}

// waitAllSucceeded waits (up to 10 min) until every named MPIJob of ns has
// Succeeded=True, and returns them as v2beta1 read them last.
func waitAllSucceeded(t *testing.T, ctx context.Context, mc clientset.Interface, ns string, names []string) map[string]*v2beta1.MPIJob {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	jobs := map[string]*v2beta1.MPIJob{}
	var pending []string
	err := harness.Poll(ctx, fmt.Sprintf("%d MPIJobs Succeeded", len(names)), nil, time.Second, func(ctx context.Context) (bool, error) {
		list, err := mc.KubeflowV2beta1().MPIJobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for i := range list.Items {
			jobs[list.Items[i].Name] = &list.Items[i]
		}
		pending = pending[:0]
		for _, name := range names {
			if j := jobs[name]; j == nil || !hasCondition(j, v2beta1.JobSucceeded) {
				pending = append(pending, name)
			}
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		for _, name := range pending {
			if j := jobs[name]; j != nil {
				t.Logf("MPIJob %s: conditions %+v", name, j.Status.Conditions)
			}
		}
		t.Fatalf("%v; not Succeeded: %v", err, pending)
	}
	return jobs
}

func hasCondition(j *v2beta1.MPIJob, ct v2beta1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == ct && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
