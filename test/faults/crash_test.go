//go:build faults

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

package faults

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/apiserver"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

const (
	crashKills       = 3    // kill -9, restart, continue writing: this many times
	crashClients     = 32   // concurrent writers
	crashAcksPerKill = 300  // acknowledged creates in a round before its kill -9
	crashRoundMax    = 1000 // creates a kill round may offer (the kill comes first)
	crashFinalRound  = 300  // creates after the last restart, all of which must succeed
	payloadAnno      = "faults.mpijob.test/payload"
)

// outcome is what a create's client saw.
type outcome int32

const (
	notSent   outcome = iota
	acked             // 201 with the object
	refused           // an API error that says the object was not created (4xx)
	unreached         // the connection was refused: the create never reached a server
	noAnswer          // a transport error, or a 5xx: the create may or may not have happened
)

type createRec struct {
	name    string
	outcome outcome
	err     string
	// from the 201
	uid  types.UID
	rv   string
	spec v1alpha2.MPIJobSpec
	// resolved after a restart for noAnswer: whether the object exists (0
	// unknown, 1 present, 2 absent); it must never change once known.
	resolved int
}

func jobName(i int) string { return fmt.Sprintf("crash-%05d", i) }

// payload is a per-object, deterministic 1 KiB string: a half-written or
// mixed-up object shows as a payload that does not match its name.
func payload(name string) string {
	var b strings.Builder
	sum := sha256.Sum256([]byte(name))
	for b.Len() < 1024 {
		b.WriteString(hex.EncodeToString(sum[:]))
		sum = sha256.Sum256(sum[:])
	}
	return b.String()[:1024]
}

func ptr[T any](v T) *T { return &v }

// crashJob is the object sent for index i.
func crashJob(i int) *v1alpha2.MPIJob {
	name := jobName(i)
	p := payload(name)
	container := func(image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "mpi", Image: image, Env: []corev1.EnvVar{{Name: "PAYLOAD", Value: p[:256]}},
		}}}}
	}
	return &v1alpha2.MPIJob{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace,
			Labels:      map[string]string{"faults": "crash", "index": strconv.Itoa(i)},
			Annotations: map[string]string{payloadAnno: p},
		},
		Spec: v1alpha2.MPIJobSpec{
			SlotsPerWorker: ptr(int32(i%8 + 1)),
			BackoffLimit:   ptr(int32(i % 5)),
			MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
				v1alpha2.MPIReplicaTypeLauncher: {Replicas: ptr(int32(1)), Template: container("launcher.example/" + name)},
				v1alpha2.MPIReplicaTypeWorker:   {Replicas: ptr(int32(i%4 + 1)), Template: container("worker.example/" + name)},
			},
		},
	}
}

// checkSent reports how a stored object differs from what was sent for it.
func checkSent(got *v1alpha2.MPIJob) error {
	idx, err := strconv.Atoi(strings.TrimPrefix(got.Name, "crash-"))
	if err != nil {
		return fmt.Errorf("unexpected name %q", got.Name)
	}
	want := crashJob(idx)
	switch {
	case got.Namespace != want.Namespace:
		return fmt.Errorf("namespace %q", got.Namespace)
	case got.Labels["index"] != want.Labels["index"] || got.Labels["faults"] != "crash":
		return fmt.Errorf("labels %v", got.Labels)
	case got.Annotations[payloadAnno] != want.Annotations[payloadAnno]:
		return fmt.Errorf("annotation payload differs (%d bytes, want %d)", len(got.Annotations[payloadAnno]), len(want.Annotations[payloadAnno]))
	case got.Spec.SlotsPerWorker == nil || *got.Spec.SlotsPerWorker != *want.Spec.SlotsPerWorker:
		return fmt.Errorf("slotsPerWorker %v", got.Spec.SlotsPerWorker)
	case got.Spec.BackoffLimit == nil || *got.Spec.BackoffLimit != *want.Spec.BackoffLimit:
		return fmt.Errorf("backoffLimit %v", got.Spec.BackoffLimit)
	}
	for rt, w := range want.Spec.MPIReplicaSpecs {
		g := got.Spec.MPIReplicaSpecs[rt]
		if g == nil || g.Replicas == nil || *g.Replicas != *w.Replicas {
			return fmt.Errorf("%s replicas differ", rt)
		}
		if !apiequality.Semantic.DeepEqual(g.Template.Spec.Containers, w.Template.Spec.Containers) {
			return fmt.Errorf("%s containers differ: %+v", rt, g.Template.Spec.Containers)
		}
	}
	if len(got.Spec.MPIReplicaSpecs) != len(want.Spec.MPIReplicaSpecs) {
		return fmt.Errorf("%d replica specs", len(got.Spec.MPIReplicaSpecs))
	}
	return nil
}

// TestCrashSafetyEmbeddedEtcd: with 32 clients creating MPIJobs, kill -9 the
// server after 300 acknowledged creates of a round, restart it on the same
// data dir, check the store, continue writing; three kills, then a last
// round without one. Every 201 is stored exactly once and intact; a create
// without an answer may or may not be stored; nothing else is.
func TestCrashSafetyEmbeddedEtcd(t *testing.T) {
	srv := start(t)
	t.Logf("cold start to /readyz: %s", srv.ReadyAfter.Round(time.Millisecond))

	var (
		mu   sync.Mutex
		recs []*createRec // index = object index
		next int
	)
	var restartTimes []time.Duration
	for round := 0; round <= crashKills; round++ {
		kill := round < crashKills
		budget := crashRoundMax
		if !kill {
			budget = crashFinalRound
		}
		first := next
		mu.Lock()
		for i := 0; i < budget; i++ {
			recs = append(recs, &createRec{name: jobName(first + i)})
		}
		mu.Unlock()
		next += budget

		var (
			claimed  atomic.Int64 // creates started in this round
			acks     atomic.Int64
			stopping atomic.Bool
			killOnce sync.Once
			killed   = make(chan struct{})
			killErr  error // written before killed is closed
			wg       sync.WaitGroup
		)
		client := srv.client
		for w := 0; w < crashClients; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stopping.Load() {
					k := int(claimed.Add(1)) - 1
					if k >= budget {
						return
					}
					i := first + k
					r := recs[i]
					ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
					got, err := client.KubeflowV1alpha2().MPIJobs(namespace).Create(ctx, crashJob(i), metav1.CreateOptions{})
					cancel()
					mu.Lock()
					switch {
					case err == nil:
						r.outcome, r.uid, r.rv, r.spec = acked, got.UID, got.ResourceVersion, got.Spec
					case isRefusal(err):
						r.outcome, r.err = refused, err.Error()
					case errors.Is(err, syscall.ECONNREFUSED):
						r.outcome, r.err = unreached, err.Error()
					default:
						r.outcome, r.err = noAnswer, err.Error()
					}
					mu.Unlock()
					if err == nil && kill && acks.Add(1) == crashAcksPerKill {
						killOnce.Do(func() {
							// No new creates; the other clients' creates
							// are in flight when the SIGKILL lands.
							stopping.Store(true)
							killErr = srv.Kill()
							close(killed)
						})
					}
				}
			}()
		}
		wg.Wait()
		if kill {
			select {
			case <-killed:
				if killErr != nil {
					t.Fatalf("round %d: kill -9: %v", round, killErr)
				}
			default:
				t.Fatalf("round %d: only %d acknowledged creates of %d, the kill never came", round, acks.Load(), budget)
			}
		}
		sent, roundAcks, roundAmb, roundRef, roundUnreached := 0, 0, 0, 0, 0
		mu.Lock()
		for _, r := range recs[first:] {
			switch r.outcome {
			case acked:
				sent++
				roundAcks++
			case noAnswer:
				sent++
				roundAmb++
			case refused:
				sent++
				roundRef++
			case unreached:
				roundUnreached++
			}
		}
		mu.Unlock()
		if !kill {
			if roundAcks != budget {
				for _, r := range recs[first:] {
					if r.outcome != acked {
						t.Errorf("%s after the last restart: %s", r.name, r.err)
						break
					}
				}
				t.Fatalf("round %d (no kill): %d of %d creates acknowledged", round, roundAcks, budget)
			}
			t.Logf("round %d (no kill): %d creates, all acknowledged", round, budget)
			break
		}
		t.Logf("round %d: kill -9 after %d acks; %d creates sent: %d acknowledged, %d without an answer, %d refused; %d more found the port closed",
			round, crashAcksPerKill, sent, roundAcks, roundAmb, roundRef, roundUnreached)

		// The same command on the same data dir and port.
		if err := srv.Restart(context.Background()); err != nil {
			t.Fatalf("restart %d: %v", round+1, err)
		}
		srv = withAdmin(t, srv.Server)
		restartTimes = append(restartTimes, srv.ReadyAfter)
		t.Logf("restart %d: exec to /readyz %s", round+1, srv.ReadyAfter.Round(time.Millisecond))
		verifyStore(t, srv, recs)
	}
	// The final round's state, read once more, then a summary.
	verifyStore(t, srv, recs)

	var total, ack, amb, ambPresent, ref, unr int
	for _, r := range recs {
		switch r.outcome {
		case acked:
			ack++
		case noAnswer:
			amb++
			if r.resolved == 1 {
				ambPresent++
			}
		case refused:
			ref++
		case unreached:
			unr++
		}
		if r.outcome != notSent && r.outcome != unreached {
			total++
		}
	}
	if total < 1000 {
		t.Errorf("only %d creates sent, want at least 1000", total)
	}
	sort.Slice(restartTimes, func(i, j int) bool { return restartTimes[i] < restartTimes[j] })
	t.Logf("SUMMARY crash: %d kills; %d creates sent: %d acknowledged (lost: 0), %d without an answer (%d stored, %d not), %d refused (+%d found the port closed); restart to /readyz: %v",
		crashKills, total, ack, amb, ambPresent, amb-ambPresent, ref, unr, roundDurations(restartTimes))
}

func roundDurations(ds []time.Duration) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond).String()
	}
	return out
}

// isRefusal: the server answered that it did not create the object. A 409
// AlreadyExists is not one (client-go may have resent a create that got a
// Retry-After); nor is a 5xx or a timeout.
func isRefusal(err error) bool {
	status, ok := err.(apierrors.APIStatus)
	if !ok {
		return false
	}
	code := status.Status().Code
	return code >= 400 && code < 500 && code != 409 && code != 408 && code != 429
}

// verifyStore lists every MPIJob through the API and reads every key from
// the embedded etcd, and checks them against the writers' records.
func verifyStore(t *testing.T, srv *server, recs []*createRec) {
	t.Helper()
	listed := listAll(t, srv.client)
	byName := map[string]*v1alpha2.MPIJob{}
	byUID := map[types.UID]string{}
	for i := range listed {
		o := &listed[i]
		if prev, dup := byName[o.Name]; dup {
			t.Errorf("%s listed twice (uids %s and %s)", o.Name, prev.UID, o.UID)
		}
		byName[o.Name] = o
		if prev, dup := byUID[o.UID]; dup {
			t.Errorf("uid %s stored for both %s and %s", o.UID, prev, o.Name)
		}
		byUID[o.UID] = o.Name
	}

	recByName := make(map[string]*createRec, len(recs))
	for _, r := range recs {
		recByName[r.name] = r
	}
	lost := 0
	for _, r := range recs {
		o, present := byName[r.name]
		switch r.outcome {
		case acked:
			switch {
			case !present:
				lost++
				t.Errorf("LOST: %s got a 201 (uid %s, rv %s) but is not stored", r.name, r.uid, r.rv)
			case o.UID != r.uid || o.ResourceVersion != r.rv:
				t.Errorf("%s: stored uid %s rv %s, the 201 said uid %s rv %s", r.name, o.UID, o.ResourceVersion, r.uid, r.rv)
			case !apiequality.Semantic.DeepEqual(o.Spec, r.spec):
				t.Errorf("%s: stored spec differs from the 201's", r.name)
			}
		case noAnswer:
			state := 2
			if present {
				state = 1
			}
			if r.resolved != 0 && r.resolved != state {
				t.Errorf("%s (create without an answer): present=%v now, the opposite after an earlier restart", r.name, present)
			}
			r.resolved = state
		default: // notSent, refused, unreached
			if present {
				t.Errorf("%s is stored but its create was %s (%s)", r.name,
					map[outcome]string{notSent: "never sent", refused: "refused", unreached: "never received"}[r.outcome], r.err)
			}
		}
	}
	for name, o := range byName {
		if _, ok := recByName[name]; !ok {
			t.Errorf("%s is stored but no client ever created it", name)
			continue
		}
		if err := checkSent(o); err != nil {
			t.Errorf("%s: stored object is not what was sent: %v", name, err)
		}
	}
	if lost > 0 {
		t.Fatalf("%d acknowledged creates lost", lost)
	}

	// The same from etcd itself: one key per listed object, each value
	// decodes as a whole MPIJob of that name and uid.
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Layout().EtcdClientURL()}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("connecting to the embedded etcd: %v", err)
	}
	defer etcd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	resp, err := etcd.Get(ctx, "/registry/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("reading etcd: %v", err)
	}
	decoder := apiserver.Codecs.UniversalDecoder(v1alpha2.SchemeGroupVersion)
	keys := 0
	for _, kv := range resp.Kvs {
		key := string(kv.Key)
		if !strings.Contains(key, "/mpijobs/") {
			continue
		}
		keys++
		obj, err := runtime.Decode(decoder, kv.Value)
		if err != nil {
			t.Errorf("etcd key %s does not decode: %v", key, err)
			continue
		}
		job, ok := obj.(*v1alpha2.MPIJob)
		if !ok {
			t.Errorf("etcd key %s holds a %T", key, obj)
			continue
		}
		listedJob := byName[job.Name]
		if !strings.HasSuffix(key, "/"+job.Namespace+"/"+job.Name) || listedJob == nil || listedJob.UID != job.UID {
			t.Errorf("etcd key %s holds %s/%s uid %s, which the API did not list", key, job.Namespace, job.Name, job.UID)
			continue
		}
		if err := checkSent(job); err != nil {
			t.Errorf("etcd key %s: %v", key, err)
		}
	}
	if keys != len(listed) {
		t.Errorf("etcd holds %d MPIJob keys, the API listed %d", keys, len(listed))
	}
}

// listAll lists every MPIJob from etcd (a consistent read), in pages.
func listAll(t *testing.T, c clientset.Interface) []v1alpha2.MPIJob {
	t.Helper()
	var out []v1alpha2.MPIJob
	opts := metav1.ListOptions{Limit: 500}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
		list, err := c.KubeflowV1alpha2().MPIJobs(metav1.NamespaceAll).List(ctx, opts)
		cancel()
		if err != nil {
			t.Fatalf("listing MPIJobs: %v", err)
		}
		out = append(out, list.Items...)
		if list.Continue == "" {
			return out
		}
		opts.Continue = list.Continue
	}
}
