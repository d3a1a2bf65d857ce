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

package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
  resources:
  - group: kubeflow.org
    resources: ["mpijobs", "mpijobs/status"]
- level: None
`

type auditEvent struct {
	Verb      string                    `json:"verb"`
	Stage     string                    `json:"stage"`
	User      struct{ Username string } `json:"user"`
	ObjectRef struct {
		Resource, Namespace, Name, Subresource string
	} `json:"objectRef"`
	ResponseStatus struct{ Code int } `json:"responseStatus"`
}

// TestAuditLogRecordsEveryWrite runs standalone with --audit-log-path and
// --audit-policy-file: each create, update, status update and delete is one
// event with the user, verb, namespace, name and code; reads are not logged.
func TestAuditLogRecordsEveryWrite(t *testing.T) {
	s, logPath := startAudited(t, auditPolicy)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	jobs := s.Client.KubeflowV1alpha2().MPIJobs("audited")
	job := &v1alpha2.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: "a"},
		Spec: v1alpha2.MPIJobSpec{MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
			v1alpha2.MPIReplicaTypeLauncher: harness.ReplicaSpec(nil),
			v1alpha2.MPIReplicaTypeWorker:   harness.ReplicaSpec(ptr.To[int32](1)),
		}},
	}
	created, err := jobs.Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Spec.SlotsPerWorker = ptr.To[int32](2)
	updated, err := jobs.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Get(ctx, "a", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Stop() // flushes the log

	want := []struct {
		verb, subresource string
		code              int
	}{{"create", "", 201}, {"update", "", 200}, {"update", "status", 200}, {"delete", "", 200}}
	events := readAudit(t, logPath)
	if len(events) != len(want) {
		t.Fatalf("got %d audit events %+v, want %d (one per write, none for the read)", len(events), events, len(want))
	}
	for i, w := range want {
		e := events[i]
		if e.Verb != w.verb || e.ObjectRef.Subresource != w.subresource || e.ResponseStatus.Code != w.code ||
			e.User.Username != "admin" || e.ObjectRef.Namespace != "audited" || e.ObjectRef.Name != "a" ||
			e.ObjectRef.Resource != "mpijobs" || e.Stage != "ResponseComplete" {
			t.Errorf("event %d = %+v, want %s %s by admin on audited/a with %d", i, e, w.verb, w.subresource, w.code)
		}
	}
}

// startAudited starts an in-process server that logs audit events by
// policy to the returned path.
func startAudited(t *testing.T, policy string) (*inprocess.Server, string) {
	t.Helper()
	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	logPath := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policyPath, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	s := inprocess.Start(t, func(o *server.Options) {
		o.Audit.PolicyFile = policyPath
		o.Audit.LogOptions.Path = logPath
	})
	return s, logPath
}

func readAudit(t *testing.T, path string) []auditEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []auditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	return events
}
