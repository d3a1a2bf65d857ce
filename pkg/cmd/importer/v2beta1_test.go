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

package importer_test

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/importer"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// container is one container of a replica template, as in the pi example
// of mpi-operator v2.
func container(name string, command ...string) map[string]any {
	return map[string]any{"name": name, "image": "mpioperator/mpi-pi:openmpi", "command": command,
		"securityContext": map[string]any{"runAsUser": 1000},
		"resources":       map[string]any{"limits": map[string]any{"cpu": 1, "memory": "1Gi"}}}
}

// v2beta1Replicas are the pi example's launcher and workers.
func v2beta1Replicas() map[string]any {
	return map[string]any{
		"Launcher": map[string]any{"replicas": 1, "template": map[string]any{"spec": map[string]any{
			"containers": []any{container("mpi-launcher", "mpirun", "-n", "2", "/home/mpiuser/pi")}}}},
		"Worker": map[string]any{"replicas": 2, "template": map[string]any{"spec": map[string]any{
			"containers": []any{container("mpi-worker", "/usr/sbin/sshd", "-De")}}}},
	}
}

// v2beta1Exported is mpi-operator v2's pi example as `kubectl get
// mpijobs.v2beta1.kubeflow.org -A -o yaml` prints it once the operator ran
// it: the CRD's defaults applied, server metadata, the operator's status.
func v2beta1Exported(namespace, name string) map[string]any {
	return map[string]any{
		"apiVersion": "kubeflow.org/v2beta1",
		"kind":       "MPIJob",
		"metadata": map[string]any{
			"name": name, "namespace": namespace,
			"uid":             "7a1d2c5e-0000-4000-8000-00000000002b",
			"resourceVersion": "48213", "generation": 2,
			"creationTimestamp": "2025-03-02T10:00:00Z",
			"labels":            map[string]any{"team": "hpc"},
			"managedFields": []any{
				map[string]any{"manager": "kubectl-client-side-apply", "operation": "Update",
					"apiVersion": "kubeflow.org/v2beta1", "time": "2025-03-02T10:00:00Z",
					"fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:spec": map[string]any{}}},
				map[string]any{"manager": "mpi-operator", "operation": "Update", "subresource": "status",
					"apiVersion": "kubeflow.org/v2beta1", "time": "2025-03-02T10:00:05Z",
					"fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:status": map[string]any{}}},
			},
		},
		"spec": map[string]any{
			"slotsPerWorker":         1,
			"runLauncherAsWorker":    false,
			"sshAuthMountPath":       "/home/mpiuser/.ssh",
			"launcherCreationPolicy": "AtStartup",
			"mpiImplementation":      "OpenMPI",
			"runPolicy": map[string]any{"cleanPodPolicy": "Running", "ttlSecondsAfterFinished": 60,
				"suspend": false, "schedulingPolicy": map[string]any{"scheduleTimeoutSeconds": 30}},
			"mpiReplicaSpecs": v2beta1Replicas(),
		},
		"status": map[string]any{
			"conditions": []any{
				map[string]any{"type": "Created", "status": "True", "reason": "MPIJobCreated",
					"message":        "MPIJob " + namespace + "/" + name + " is created.",
					"lastUpdateTime": "2025-03-02T10:00:01Z", "lastTransitionTime": "2025-03-02T10:00:01Z"},
				map[string]any{"type": "Running", "status": "True", "reason": "MPIJobRunning",
					"message":        "MPIJob " + namespace + "/" + name + " is running.",
					"lastUpdateTime": "2025-03-02T10:00:05Z", "lastTransitionTime": "2025-03-02T10:00:05Z"},
			},
			"replicaStatuses": map[string]any{
				"Launcher": map[string]any{"active": 1},
				"Worker": map[string]any{"active": 2,
					"selector": "training.kubeflow.org/job-name=" + name + ",training.kubeflow.org/replica-type=worker"},
			},
			"startTime":         "2025-03-02T10:00:01Z",
			"lastReconcileTime": "2025-03-02T10:00:05Z",
		},
	}
}

func typedV2beta1(t *testing.T, obj map[string]any) *v2beta1.MPIJob {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	job := &v2beta1.MPIJob{}
	if err := json.Unmarshal(data, job); err != nil {
		t.Fatal(err)
	}
	return job
}

func getV2beta1(t *testing.T, s *inprocess.Server, namespace, name string) *v2beta1.MPIJob {
	t.Helper()
	job, err := s.Client.KubeflowV2beta1().MPIJobs(namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get v2beta1 %s/%s: %v", namespace, name, err)
	}
	return job
}

// assertWrittenIn checks that only the import wrote the object, and in
// apiVersion: the managed fields record the version of every write.
func assertWrittenIn(t *testing.T, meta metav1.ObjectMeta, apiVersion string) {
	t.Helper()
	if len(meta.ManagedFields) == 0 {
		t.Errorf("%s/%s has no managed fields", meta.Namespace, meta.Name)
	}
	for _, m := range meta.ManagedFields {
		if m.Manager != importer.DefaultFieldManager || m.APIVersion != apiVersion {
			t.Errorf("%s/%s: written by %q in %s (subresource %q), want only %q in %s",
				meta.Namespace, meta.Name, m.Manager, m.APIVersion, m.Subresource, importer.DefaultFieldManager, apiVersion)
		}
	}
}

// TestImportV2beta1 imports a YAML export that mixes mpi-operator v2's
// kubeflow.org/v2beta1 jobs with a v1alpha2 one: each is created and gets
// its status in its own version, v2beta1's defaults and rules apply to the
// v2beta1 jobs, and an unknown version of kubeflow.org is refused by name.
// Then the import runs again and changes nothing.
func TestImportV2beta1(t *testing.T) {
	s := inprocess.Start(t)

	pi := v2beta1Exported("v2", "pi")
	// Written by hand, without what the CRD defaults.
	bare := map[string]any{"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob",
		"metadata": map[string]any{"name": "bare", "namespace": "v2"},
		"spec":     map[string]any{"mpiReplicaSpecs": v2beta1Replicas()}}
	partial := v2beta1Exported("v2", "partial")
	delete(partial, "status")
	bad := v2beta1Exported("v2", "bad")
	at(bad, "spec")["mpiImplementation"] = "LAM"
	v1job := v2beta1Exported("v2", "v1job")
	v1job["apiVersion"] = "kubeflow.org/v1"
	old := exported(t, "v2", "old")

	file := writeFile(t, "export.yaml", toYAML(t, vList(old, pi, bare, partial, bad, v1job)))
	r := runImport(t, "", "--kubeconfig", kubeconfig(s), "-f", file)
	if r.err == nil {
		t.Error("import with refusals succeeded")
	}
	assertLines(t, r.out,
		"created v2/old\n", "created v2/pi\n", "created v2/bare\n", "created v2/partial\n",
		`refused v2/bad: MPIJob.kubeflow.org "bad" is invalid: spec.mpiImplementation: Unsupported value: "LAM": `+
			`supported values: "Intel", "MPICH", "OpenMPI"`,
		`refused v2/v1job: apiVersion "kubeflow.org/v1": this server serves no such version of MPIJob; `+
			"only kubeflow.org/v1alpha2 and kubeflow.org/v2beta1 can be imported\n",
		"4 created, 0 unchanged, 2 refused, 0 differ, 0 status written\n")
	if r.errOut != "" {
		t.Errorf("warnings about objects with only known fields: %s", r.errOut)
	}

	// pi as v2beta1 reads it: the export's spec and status, fresh metadata.
	want := typedV2beta1(t, pi)
	got := getV2beta1(t, s, "v2", "pi")
	if !equality.Semantic.DeepEqual(got.Spec, want.Spec) {
		t.Errorf("v2/pi spec:\n got %+v\nwant %+v", got.Spec, want.Spec)
	}
	if !equality.Semantic.DeepEqual(got.Status, want.Status) {
		t.Errorf("v2/pi status:\n got %+v\nwant %+v", got.Status, want.Status)
	}
	if !equality.Semantic.DeepEqual(got.Labels, want.Labels) || got.UID == want.UID ||
		got.ResourceVersion == want.ResourceVersion || got.Generation != 1 ||
		got.CreationTimestamp.Equal(&want.CreationTimestamp) {
		t.Errorf("v2/pi metadata: %+v", got.ObjectMeta)
	}
	assertWrittenIn(t, got.ObjectMeta, "kubeflow.org/v2beta1")
	assertWrittenIn(t, get(t, s, "v2", "old").ObjectMeta, "kubeflow.org/v1alpha2")
	assertImported(t, s, "v2", old)

	// bare got v2beta1's defaults, as from any v2beta1 client.
	wantBare := typedV2beta1(t, bare).Spec
	wantBare.SlotsPerWorker = ptr.To[int32](1)
	wantBare.RunLauncherAsWorker = ptr.To(false)
	wantBare.SSHAuthMountPath = "/root/.ssh"
	wantBare.LauncherCreationPolicy = v2beta1.LauncherCreationPolicyAtStartup
	wantBare.MPIImplementation = v2beta1.MPIImplementationOpenMPI
	if gotBare := getV2beta1(t, s, "v2", "bare"); !equality.Semantic.DeepEqual(gotBare.Spec, wantBare) {
		t.Errorf("v2/bare spec:\n got %+v\nwant %+v", gotBare.Spec, wantBare)
	}
	for _, name := range []string{"bad", "v1job"} {
		_, err := s.Client.KubeflowV2beta1().MPIJobs("v2").Get(t.Context(), name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("refused object v2/%s: get answered %v, want NotFound", name, err)
		}
	}

	// Again, partial now with its status: nothing else changes.
	rvs := map[string]string{}
	for _, name := range []string{"old", "pi", "bare"} {
		rvs[name] = getV2beta1(t, s, "v2", name).ResourceVersion
	}
	file = writeFile(t, "export.yaml", toYAML(t, vList(old, pi, bare, v2beta1Exported("v2", "partial"), bad, v1job)))
	r = runImport(t, "", "--kubeconfig", kubeconfig(s), "-f", file)
	assertLines(t, r.out, "unchanged v2/old\n", "unchanged v2/pi\n", "unchanged v2/bare\n",
		"status written v2/partial\n", "refused v2/bad:", "refused v2/v1job:",
		"0 created, 3 unchanged, 2 refused, 0 differ, 1 status written\n")
	for name, rv := range rvs {
		if got := getV2beta1(t, s, "v2", name).ResourceVersion; got != rv {
			t.Errorf("v2/%s: resourceVersion %s after the second import, was %s", name, got, rv)
		}
	}
	gotPartial := getV2beta1(t, s, "v2", "partial")
	if want := typedV2beta1(t, pi).Status; !equality.Semantic.DeepEqual(gotPartial.Status,
		withJobName(want, "v2/pi", "v2/partial", "pi", "partial")) {
		t.Errorf("v2/partial status:\n got %+v\nwant the export's", gotPartial.Status)
	}
	assertWrittenIn(t, gotPartial.ObjectMeta, "kubeflow.org/v2beta1")
}

// withJobName renames the job in a status's messages and selectors.
func withJobName(s v2beta1.JobStatus, oldKey, newKey, oldName, newName string) v2beta1.JobStatus {
	for i := range s.Conditions {
		s.Conditions[i].Message = strings.ReplaceAll(s.Conditions[i].Message, oldKey, newKey)
	}
	for _, rs := range s.ReplicaStatuses {
		rs.Selector = strings.ReplaceAll(rs.Selector, "job-name="+oldName, "job-name="+newName)
	}
	return s
}
