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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/test/aggregated/cluster"
)

// auditEvent is what the test reads of an audit.k8s.io/v1 Event.
type auditEvent struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Level      string `json:"level"`
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"user"`
	ImpersonatedUser *struct {
		Username string `json:"username"`
	} `json:"impersonatedUser"`
	ObjectRef *struct {
		Resource, Namespace, Name, Subresource, APIGroup, APIVersion string
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestObject            json.RawMessage  `json:"requestObject"`
	ResponseObject           json.RawMessage  `json:"responseObject"`
	RequestReceivedTimestamp metav1.MicroTime `json:"requestReceivedTimestamp"`
	StageTimestamp           metav1.MicroTime `json:"stageTimestamp"`
}

func (e auditEvent) String() string {
	code, ref := 0, ""
	if e.ResponseStatus != nil {
		code = e.ResponseStatus.Code
	}
	if e.ObjectRef != nil {
		ref = e.ObjectRef.Resource
		if e.ObjectRef.Subresource != "" {
			ref += "/" + e.ObjectRef.Subresource
		}
		ref += " " + e.ObjectRef.Namespace + "/" + e.ObjectRef.Name
	}
	return fmt.Sprintf("%s %s %s by %s → %d (%s, %s)", e.Stage, e.Verb, ref, e.User.Username, code, e.Level, e.RequestURI)
}

func readAuditLog(t *testing.T, path string) []auditEvent {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var events []auditEvent
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit log %s: %v in %s", path, err, sc.Text())
		}
		events = append(events, e)
	}
	return events
}

// testMPIJob is a small valid MPIJob: a launcher and one worker.
func testMPIJob(namespace, name string) *v1alpha2.MPIJob {
	spec := func(replicas int32) *v1alpha2.ReplicaSpec {
		return &v1alpha2.ReplicaSpec{
			Replicas: ptr.To(replicas),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "mpi", Image: "mpi:latest"}},
			}},
		}
	}
	return &v1alpha2.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha2.MPIJobSpec{MPIReplicaSpecs: map[v1alpha2.MPIReplicaType]*v1alpha2.ReplicaSpec{
			v1alpha2.MPIReplicaTypeLauncher: spec(1),
			v1alpha2.MPIReplicaTypeWorker:   spec(1),
		}},
	}
}

// TestAudit: our server with the shipped audit policy
// (artifacts/deploy/base/audit-policy.yaml), used as a cluster user uses it,
// through kube-apiserver. Each create, update, patch, status update and
// delete that reaches the server — a refused create included — is exactly
// one event, at Metadata level without bodies, at ResponseComplete
// (RequestReceived omitted), with the user as the front proxy passed it
// (alice, system:authenticated), the verb, namespace, name, subresource and
// response code. Reads (get, list, watch, discovery, kubectl's requests,
// the aggregator's health checks) and writes that kube-apiserver refused
// before proxying leave nothing.
func TestAudit(t *testing.T) {
	policy, err := cluster.DeployAuditPolicy()
	if err != nil {
		t.Fatal(err)
	}
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := c.ApplyDeployRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	s := c.StartServerForTest(t, cluster.ServerOptions{AuditPolicyFile: policy})
	const ns, name = "audited", "job-a"
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(ctx, "alice", "mpijob-edit", ns); err != nil {
		t.Fatal(err)
	}
	if before := readAuditLog(t, s.AuditLogFile); len(before) != 0 {
		t.Errorf("%d audit events before any write (startup, discovery, the aggregator's checks): %v", len(before), before)
	}
	mc, err := c.MPIJobClient("alice")
	if err != nil {
		t.Fatal(err)
	}
	jobs := mc.KubeflowV1alpha2().MPIJobs(ns)

	created, err := jobs.Create(ctx, testMPIJob(ns, name), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Get(ctx, name, metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := jobs.Watch(ctx, metav1.ListOptions{ResourceVersion: created.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Create(ctx, testMPIJob(ns, name), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating %s again: %v, want AlreadyExists", name, err)
	}
	created.Spec.SlotsPerWorker = ptr.To[int32](2)
	updated, err := jobs.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	patched, err := jobs.Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"backoffLimit":3}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if patched.ResourceVersion == updated.ResourceVersion {
		t.Errorf("the patch did not change %s", name)
	}
	w.Stop()

	// mpijob-edit does not write status: kube-apiserver refuses before it
	// proxies, so our server never sees the request and logs nothing.
	patched.Status.Conditions = []v1alpha2.JobCondition{{
		Type: v1alpha2.JobCreated, Status: corev1.ConditionTrue, Reason: "MPIJobCreated", Message: "audited",
		LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(),
	}}
	if _, err := jobs.UpdateStatus(ctx, patched, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("status update as alice with mpijob-edit: %v, want Forbidden", err)
	}
	if err := c.Bind(ctx, "alice", "mpijob-admin", ns); err != nil {
		t.Fatal(err)
	}
	// kube-apiserver's RBAC follows the binding within moments.
	var statusErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, statusErr = jobs.UpdateStatus(ctx, patched, metav1.UpdateOptions{}); !apierrors.IsForbidden(statusErr) {
			break
		}
	}
	if statusErr != nil {
		t.Fatalf("status update as alice with mpijob-admin: %v", statusErr)
	}
	c.Kubectl("alice").Succeeds(t, "", "get", "mpijobs", "-n", ns, "-o", "yaml")
	c.Kubectl("alice").Succeeds(t, "", "describe", "mpijob", "-n", ns, name)
	if err := jobs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	type want struct {
		verb, subresource string
		code              int
	}
	wants := []want{
		{"create", "", 201},
		{"create", "", 409},
		{"update", "", 200},
		{"patch", "", 200},
		{"update", "status", 200},
		{"delete", "", 200},
	}
	// ResponseComplete is written as the handler returns, which can be just
	// after the client has its response.
	var events []auditEvent
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		events = readAuditLog(t, s.AuditLogFile)
		if len(events) >= len(wants) || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(time.Second) // and nothing more arrives
	events = readAuditLog(t, s.AuditLogFile)
	var lines []string
	for _, e := range events {
		lines = append(lines, e.String())
	}
	t.Logf("audit log %s:\n%s", s.AuditLogFile, strings.Join(lines, "\n"))
	if len(events) != len(wants) {
		t.Errorf("%d audit events, want %d: %v", len(events), len(wants), wants)
	}
	ids := map[string]bool{}
	for i, e := range events {
		if i >= len(wants) {
			break
		}
		w := wants[i]
		var problems []string
		if e.Kind != "Event" || e.APIVersion != "audit.k8s.io/v1" {
			problems = append(problems, "kind "+e.Kind+" "+e.APIVersion)
		}
		if e.Stage != "ResponseComplete" {
			problems = append(problems, "stage "+e.Stage)
		}
		if e.Level != "Metadata" || len(e.RequestObject) > 0 || len(e.ResponseObject) > 0 {
			problems = append(problems, "level "+e.Level+" or a body")
		}
		if e.AuditID == "" || ids[e.AuditID] {
			problems = append(problems, "auditID "+e.AuditID)
		}
		ids[e.AuditID] = true
		if e.User.Username != "alice" || !slices.Contains(e.User.Groups, "system:authenticated") || e.ImpersonatedUser != nil {
			problems = append(problems, fmt.Sprintf("user %q groups %q impersonated %v", e.User.Username, e.User.Groups, e.ImpersonatedUser))
		}
		if e.Verb != w.verb {
			problems = append(problems, "verb "+e.Verb)
		}
		if r := e.ObjectRef; r == nil || r.APIGroup != "kubeflow.org" || r.APIVersion != "v1alpha2" || r.Resource != "mpijobs" ||
			r.Namespace != ns || r.Name != name || r.Subresource != w.subresource {
			problems = append(problems, fmt.Sprintf("objectRef %+v", r))
		}
		if e.ResponseStatus == nil || e.ResponseStatus.Code != w.code {
			problems = append(problems, fmt.Sprintf("responseStatus %+v", e.ResponseStatus))
		}
		if len(problems) > 0 {
			t.Errorf("event %d, want %s %s %d as alice on %s/%s: %s\n%s", i, w.verb, w.subresource, w.code, ns, name,
				strings.Join(problems, "; "), e)
		}
	}
}
