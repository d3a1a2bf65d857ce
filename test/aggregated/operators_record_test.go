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
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	v2beta1 "github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
)

// What TestOperatorV070Faults records to judge a run: the UIDs of what the
// operator made, the replicas' audit logs and the operator's own log.

// uidLog records every UID seen for each "Kind name" in a namespace.
type uidLog struct {
	mu   sync.Mutex
	uids map[string][]types.UID
}

func (l *uidLog) record(kind string, obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	key := kind + " " + m.GetName()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.uids[key], m.GetUID()) {
		l.uids[key] = append(l.uids[key], m.GetUID())
	}
}

func (l *uidLog) of(key string) []types.UID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.uids[key])
}

// recordUIDs runs informers on the Jobs and Pods of ns, from kube-apiserver,
// which no fault touches, until t ends.
func recordUIDs(t *testing.T, ctx context.Context, c *cluster.Cluster, ns string) *uidLog {
	t.Helper()
	l := &uidLog{uids: map[string][]types.UID{}}
	f := informers.NewSharedInformerFactoryWithOptions(c.Client, 0, informers.WithNamespace(ns))
	handler := func(kind string) cache.ResourceEventHandler {
		return cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { l.record(kind, obj) },
			UpdateFunc: func(_, obj any) { l.record(kind, obj) },
			DeleteFunc: func(obj any) { l.record(kind, obj) },
		}
	}
	if _, err := f.Batch().V1().Jobs().Informer().AddEventHandler(handler("Job")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Core().V1().Pods().Informer().AddEventHandler(handler("Pod")); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	f.Start(stop)
	t.Cleanup(func() {
		close(stop)
		f.Shutdown()
	})
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("informer of %v did not sync", typ)
		}
	}
	return l
}

// statusWrite is an acknowledged status write of an MPIJob, from an audit log.
type statusWrite struct {
	replica         string
	resourceVersion uint64
	status          v2beta1.JobStatus
}

// replicaTraffic is what one replica's audit log shows it served.
type replicaTraffic struct {
	replica   string
	requests  int
	acked     []window    // from receipt to completion, each acknowledged status write
	refusedAt []window    // and each refused one
	refused   map[int]int // status writes refused, by code
}

// auditedStatusWrites reads the replicas' audit logs: for each MPIJob of
// ns, its acknowledged (2xx) status write with the highest resourceVersion,
// and what each replica served. Only the operator writes status, in v2beta1.
func auditedStatusWrites(t *testing.T, ns string, replicas []*cluster.Server) (map[string]statusWrite, []replicaTraffic) {
	t.Helper()
	last := map[string]statusWrite{}
	var served []replicaTraffic
	for _, r := range replicas {
		traffic := replicaTraffic{replica: r.Name, refused: map[int]int{}}
		for _, e := range readAuditLog(t, r.AuditLogFile) {
			if e.Stage != "ResponseComplete" && e.Stage != "Panic" {
				continue
			}
			traffic.requests++
			ref := e.ObjectRef
			if ref == nil || ref.Resource != "mpijobs" || ref.Subresource != "status" || ref.Namespace != ns ||
				(e.Verb != "update" && e.Verb != "patch") {
				continue
			}
			code := 0
			if e.ResponseStatus != nil {
				code = e.ResponseStatus.Code
			}
			if code < 200 || code > 299 {
				traffic.refused[code]++
				traffic.refusedAt = append(traffic.refusedAt, window{e.RequestReceivedTimestamp.Time, e.StageTimestamp.Time})
				continue
			}
			traffic.acked = append(traffic.acked, window{e.RequestReceivedTimestamp.Time, e.StageTimestamp.Time})
			if ref.APIVersion != "v2beta1" {
				t.Errorf("%s: status of MPIJob %s written in %s by %s, want only the operator's v2beta1 writes", r.Name, ref.Name, ref.APIVersion, e.User.Username)
				continue
			}
			var obj struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
				Status   v2beta1.JobStatus `json:"status"`
			}
			if err := json.Unmarshal(e.ResponseObject, &obj); err != nil {
				t.Fatalf("%s: audit event %s: response object: %v", r.Name, e, err)
			}
			rv, err := strconv.ParseUint(obj.Metadata.ResourceVersion, 10, 64)
			if err != nil {
				t.Fatalf("%s: audit event %s: resourceVersion %q", r.Name, e, obj.Metadata.ResourceVersion)
			}
			if w, ok := last[ref.Name]; !ok || rv > w.resourceVersion {
				last[ref.Name] = statusWrite{replica: r.Name, resourceVersion: rv, status: obj.Status}
			}
		}
		served = append(served, traffic)
	}
	return last, served
}

func formatCounts(byCode map[int]int) string {
	if len(byCode) == 0 {
		return "none"
	}
	codes := make([]int, 0, len(byCode))
	for code := range byCode {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, code := range codes {
		parts[i] = fmt.Sprintf("%d × %d", byCode[code], code)
	}
	return strings.Join(parts, ", ")
}

// syncError is what mpi-operator v0.7.0 logs (klog, structured) for a sync
// that failed and was requeued with rate limiting: err="error syncing
// 'ns/name': <error>".
var syncError = regexp.MustCompile(`err="error syncing '[^']*': ((?:[^"\\]|\\.)*)"`)

// operatorRetries are the errors of the operator's failed syncs, in order.
func operatorRetries(log string) []string {
	var errs []string
	for _, m := range syncError.FindAllStringSubmatch(log, -1) {
		errs = append(errs, m[1])
	}
	return errs
}

// watchRestarts counts the MPIJob watches of the operator's informer that
// ended with an error and were started again.
func watchRestarts(log string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "watch ended with error") && strings.Contains(l, "MPIJob") {
			n++
		}
	}
	return n
}

// summarize counts errors by their text with object names and numbers
// blanked, most frequent first, as ": N × text; ...".
func summarize(errs []string) string {
	if len(errs) == 0 {
		return ""
	}
	blank := regexp.MustCompile(`"[^"]*"|[0-9]+`)
	counts := map[string]int{}
	for _, e := range errs {
		counts[blank.ReplaceAllString(e, "…")]++
	}
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return counts[kinds[i]] > counts[kinds[j]] })
	var b strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&b, "\n  %d × %s", counts[k], k)
	}
	return ":" + b.String()
}
