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
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/test/harness"
)

const requestResponsePolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: RequestResponse
  resources:
  - group: kubeflow.org
    resources: ["mpijobs", "mpijobs/status"]
- level: None
`

// TestAuditLogRecordsEachVersion: at RequestResponse level each event names
// the version the client wrote in, and the objects logged, which the
// conversions give the reserved annotation, are written without it, as
// answers are.
func TestAuditLogRecordsEachVersion(t *testing.T) {
	s, logPath := startAudited(t, requestResponsePolicy)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	job := &v2beta1.MPIJob{
		ObjectMeta: metav1.ObjectMeta{Name: "b"},
		Spec: v2beta1.MPIJobSpec{
			SSHAuthMountPath: "/home/mpi/.ssh",
			MPIReplicaSpecs: map[v2beta1.MPIReplicaType]*v2beta1.ReplicaSpec{
				v2beta1.MPIReplicaTypeLauncher: {Replicas: ptr.To[int32](1), Template: harness.ReplicaSpec(nil).Template},
				v2beta1.MPIReplicaTypeWorker:   {Replicas: ptr.To[int32](1), Template: harness.ReplicaSpec(nil).Template},
			},
		},
	}
	if _, err := s.Client.KubeflowV2beta1().MPIJobs("audited").Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Read and written back in v1alpha2: the stored job holds what v1alpha2
	// cannot express, so its v1alpha2 conversion carries the annotation.
	old, err := s.Client.KubeflowV1alpha2().MPIJobs("audited").Get(ctx, "b", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old.Labels = map[string]string{"audited": "yes"}
	if _, err := s.Client.KubeflowV1alpha2().MPIJobs("audited").Update(ctx, old, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Stop() // flushes the log

	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), carryover.Annotation) {
		t.Errorf("the audit log holds the reserved annotation:\n%s", raw)
	}
	if !strings.Contains(string(raw), `"sshAuthMountPath":"/home/mpi/.ssh"`) {
		t.Errorf("the audit log does not hold the v2beta1 objects it should:\n%s", raw)
	}
	var versions []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e struct {
			Verb      string `json:"verb"`
			ObjectRef struct {
				Name       string `json:"name"`
				APIVersion string `json:"apiVersion"`
			} `json:"objectRef"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		versions = append(versions, e.Verb+" "+e.ObjectRef.Name+" "+e.ObjectRef.APIVersion)
	}
	if want := "create b v2beta1,get b v1alpha2,update b v1alpha2"; strings.Join(versions, ",") != want {
		t.Errorf("events (verb, name, objectRef.apiVersion) = %v, want %s", versions, want)
	}
}
