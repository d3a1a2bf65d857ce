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
	"strings"
	"testing"
)

// TestKubectlScale scales a job's workers with kubectl scale, through the
// preferred version and through v2beta1 by its full resource name, and
// reads the Scale with kubectl get --subresource=scale.
func TestKubectlScale(t *testing.T) {
	s := shared
	dumpOnFailure(t, s)
	const ns = "e2e-scale"
	const beta = "mpijobs.v2beta1.kubeflow.org"
	s.kubectlIn(t, job{name: "sc", ns: ns, workers: 2}.yaml(), "create", "-f", "-")
	expect := func(what, resource, path, want string) {
		t.Helper()
		if got := s.kubectl(t, "get", resource, "sc", "-n", ns, "-o", "jsonpath={"+path+"}"); got != want {
			t.Errorf("%s: %s %s = %q, want %q", what, resource, path, got, want)
		}
	}
	scaled := func(what, out string) {
		t.Helper()
		if strings.TrimSpace(out) != "mpijob.kubeflow.org/sc scaled" {
			t.Errorf("%s printed %q, want \"mpijob.kubeflow.org/sc scaled\"", what, out)
		}
	}

	scaled("kubectl scale mpijob", s.kubectl(t, "scale", "mpijob", "sc", "-n", ns, "--replicas=3"))
	expect("scaled through v1alpha2", "mj", ".spec.mpiReplicaSpecs.Worker.replicas", "3")
	expect("scaled through v1alpha2", "mj", ".metadata.generation", "2")
	expect("scaled through v1alpha2", beta, ".spec.mpiReplicaSpecs.Worker.replicas", "3")

	scaled("kubectl scale "+beta, s.kubectl(t, "scale", beta, "sc", "-n", ns, "--replicas=5", "--current-replicas=3"))
	expect("scaled through v2beta1", beta, ".spec.mpiReplicaSpecs.Worker.replicas", "5")
	expect("scaled through v2beta1", "mj", ".spec.mpiReplicaSpecs.Worker.replicas", "5")
	expect("scaled through v2beta1", "mj", ".metadata.generation", "3")
	expect("scaled through v2beta1", "mj", ".spec.mpiReplicaSpecs.Launcher.replicas", "1")

	for _, resource := range []string{"mj", beta} {
		if got := s.kubectl(t, "get", resource, "sc", "-n", ns, "--subresource=scale", "-o", "jsonpath={.kind} {.apiVersion} {.spec.replicas}"); got != "Scale autoscaling/v1 5" {
			t.Errorf("kubectl get %s --subresource=scale: %q, want \"Scale autoscaling/v1 5\"", resource, got)
		}
		out := s.kubectl(t, "get", resource, "sc", "-n", ns, "--subresource=scale")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "sc ") {
			t.Errorf("kubectl get %s --subresource=scale printed %q, want a header and the row of sc", resource, out)
		}
	}

	// kubectl checks --current-replicas (and --resource-version) against
	// the Scale it reads before it writes.
	errOut := s.kubectlFails(t, "", "scale", "mj", "sc", "-n", ns, "--replicas=4", "--current-replicas=2")
	if !strings.Contains(errOut, "Expected replicas to be 2, was 5") {
		t.Errorf("scale with a wrong --current-replicas: %q", errOut)
	}
	errOut = s.kubectlFails(t, "", "scale", "mj", "sc", "-n", ns, "--replicas=0")
	for _, want := range []string{`The MPIJob "sc" is invalid`, "spec.mpiReplicaSpecs[Worker].replicas", "must be greater than or equal to 1", "scale subresource's spec.replicas"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("scale to 0 workers: %q does not contain %q", errOut, want)
		}
	}
	expect("after the refused scales", "mj", ".spec.mpiReplicaSpecs.Worker.replicas", "5")
	expect("after the refused scales", "mj", ".metadata.generation", "3")

	for _, v := range []string{"v1alpha2", "v2beta1"} {
		raw := s.kubectl(t, "get", "--raw", "/apis/kubeflow.org/"+v)
		if !strings.Contains(raw, `"name":"mpijobs/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get","patch","update"]`) {
			t.Errorf("discovery of kubeflow.org/%s does not list mpijobs/scale as an autoscaling/v1 Scale: %s", v, raw)
		}
	}
}
