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

package e2e

import (
	"slices"
	"strings"
	"testing"
)

// TestVersionsTable: kubectl get -o wide shows the same columns and rows in
// both versions, and a suspended job's STATE is Suspended.
func TestVersionsTable(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	const ns = "versions-table"
	s.kubectlIn(t, `{"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob",
		"metadata": {"name": "susp", "namespace": "`+ns+`"},
		"spec": {"slotsPerWorker": 2, "runPolicy": {"suspend": true}, "mpiReplicaSpecs": `+writeBackReplicas+`}}`, "create", "-f", "-")
	s.kubectlIn(t, `{"apiVersion": "kubeflow.org/v1alpha2", "kind": "MPIJob",
		"metadata": {"name": "alpha", "namespace": "`+ns+`"},
		"spec": {"slotsPerWorker": 3, "mpiReplicaSpecs": `+writeBackReplicas+`}}`, "create", "-f", "-")
	job := readVersion(t, s, "v2beta1", ns, "susp")
	job["status"] = decodeJSON(t, []byte(`{"conditions": [
		{"type": "Created", "status": "True", "reason": "MPIJobCreated"},
		{"type": "Suspended", "status": "True", "reason": "MPIJobSuspended"}]}`))
	s.kubectlIn(t, mustMarshal(t, job), "replace", "--subresource=status", "-f", "-")

	for _, res := range []string{"mj", "mpijobs.v1alpha2.kubeflow.org", "mpijobs.v2beta1.kubeflow.org"} {
		t.Run(res, func(t *testing.T) {
			rows := table(s.kubectl(t, "get", res, "-n", ns, "-o", "wide"))
			if len(rows) != 3 {
				t.Fatalf("want a header and two rows, got %q", rows)
			}
			if want := []string{"NAME", "STATE", "WORKERS", "AGE", "SLOTS", "LAUNCHER", "IMAGE"}; !slices.Equal(rows[0], want) {
				t.Errorf("header = %q, want %q", rows[0], want)
			}
			// No status: STATE is empty, so the row has one cell less.
			if r := rows[1]; len(r) != 5 || r[0] != "alpha" || r[1] != "2" || !ageRE.MatchString(r[2]) || r[3] != "3" || r[4] != "e2e.example/launcher:1" {
				t.Errorf("row = %q, want [alpha 2 <age> 3 e2e.example/launcher:1]", r)
			}
			if r := rows[2]; len(r) != 6 || r[0] != "susp" || r[1] != "Suspended" || r[2] != "2" || !ageRE.MatchString(r[3]) || r[4] != "2" || r[5] != "e2e.example/launcher:1" {
				t.Errorf("row = %q, want [susp Suspended 2 <age> 2 e2e.example/launcher:1]", r)
			}
		})
	}
	// The short name reads the preferred version.
	if o := decodeJSON(t, []byte(s.kubectl(t, "get", "mj", "susp", "-n", ns, "-o", "json"))); o["apiVersion"] != "kubeflow.org/v1alpha2" {
		t.Errorf("kubectl get mj reads %v, want kubeflow.org/v1alpha2 (the preferred version)", o["apiVersion"])
	}
}

// TestVersionsExplain: kubectl explain shows each version's own schema.
func TestVersionsExplain(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	beta := func(args ...string) []string {
		return append([]string{"explain", "--api-version", "kubeflow.org/v2beta1"}, args...)
	}
	out := s.kubectl(t, beta("mpijob.spec.runPolicy")...)
	for _, w := range []string{"VERSION:", "v2beta1", "FIELD: runPolicy", "cleanPodPolicy", "backoffLimit", "suspend", "managedBy", "schedulingPolicy"} {
		if !strings.Contains(out, w) {
			t.Errorf("kubectl explain --api-version kubeflow.org/v2beta1 mpijob.spec.runPolicy does not mention %q:\n%s", w, out)
		}
	}
	out = s.kubectl(t, beta("mpijob.spec")...)
	for _, w := range []string{"sshAuthMountPath", "launcherCreationPolicy", "mpiImplementation", "runLauncherAsWorker"} {
		if !strings.Contains(out, w) {
			t.Errorf("kubectl explain v2beta1 mpijob.spec does not mention %q:\n%s", w, out)
		}
	}
	for _, w := range []string{"mainContainer", "mpiDistribution"} {
		if strings.Contains(out, w) {
			t.Errorf("kubectl explain v2beta1 mpijob.spec mentions v1alpha2's %q:\n%s", w, out)
		}
	}
	if stderr := s.kubectlFails(t, "", beta("mpijob.spec.mainContainer")...); !strings.Contains(stderr, "mainContainer") {
		t.Errorf("kubectl explain v2beta1 mpijob.spec.mainContainer: %q, want an error naming the field", stderr)
	}
	out = s.kubectl(t, "explain", "mpijob.spec.mainContainer")
	if !strings.Contains(out, "v1alpha2") || !strings.Contains(out, "FIELD: mainContainer") {
		t.Errorf("kubectl explain mpijob.spec.mainContainer (v1alpha2):\n%s", out)
	}
	out = s.kubectl(t, "explain", "mpijob.spec.runPolicy")
	if strings.Contains(out, "suspend") || strings.Contains(out, "managedBy") {
		t.Errorf("kubectl explain mpijob.spec.runPolicy (v1alpha2) shows v2beta1's fields:\n%s", out)
	}
}
