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
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/importer"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestImportExport imports a JSON export (kubectl's v1 List) with the seed,
// objects carrying user metadata, an unknown field, an invalid spec and
// objects of other kinds; then imports it again.
func TestImportExport(t *testing.T) {
	s := inprocess.Start(t)

	seed := seedItem(t)
	meta := exported(t, "imp", "meta")
	m := at(meta, "metadata")
	m["generation"] = 3
	m["labels"] = map[string]any{"team": "ml"}
	m["annotations"] = map[string]any{
		"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"kubeflow.org/v1alpha2","kind":"MPIJob"}`,
		"note": "kept",
	}
	m["managedFields"] = []any{map[string]any{"manager": "kubectl-client-side-apply", "operation": "Update",
		"apiVersion": "kubeflow.org/v1alpha2", "time": "2019-07-29T03:05:59Z", "fieldsType": "FieldsV1",
		"fieldsV1": map[string]any{"f:spec": map[string]any{}}}}
	m["ownerReferences"] = []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
		"uid": "0b6a8c8e-0000-4000-8000-000000000001"}}
	unknown := exported(t, "imp", "unknown")
	at(unknown, "spec")["foo"] = "bar"
	at(unknown, "spec", "mpiReplicaSpecs", "Worker")["extra"] = 1
	bad := exported(t, "imp", "bad")
	at(bad, "spec")["slotsPerWorker"] = 0
	v1job := exported(t, "imp", "v1job")
	v1job["apiVersion"] = "kubeflow.org/v1"
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cm", "namespace": "imp"}, "data": map[string]any{"a": "b"}}
	nons := exported(t, "", "nons")
	nostatus := exported(t, "imp", "nostatus")
	delete(nostatus, "status")
	at(nostatus, "metadata")["deletionTimestamp"] = "2019-07-30T00:00:00Z"
	at(nostatus, "metadata")["deletionGracePeriodSeconds"] = 0

	file := writeFile(t, "export.json", toJSON(t, vList(seed, meta, unknown, bad, v1job, cm, nons, nostatus)))
	r := runImport(t, "", "--kubeconfig", kubeconfig(s), "-f", file)
	if r.err == nil {
		t.Error("import with refusals succeeded")
	}
	assertLines(t, r.out,
		"created kube-test/mpi-test\n",
		"created imp/meta\n",
		"created imp/unknown\n",
		`refused imp/bad: MPIJob.kubeflow.org "bad" is invalid: spec.slotsPerWorker: Invalid value: 0`,
		`refused imp/v1job: apiVersion "kubeflow.org/v1": this server serves no such version of MPIJob`,
		`refused imp/cm: apiVersion "v1" kind "ConfigMap"`,
		"created default/nons\n", // the admin kubeconfig's namespace
		"created imp/nostatus\n",
		"5 created, 0 unchanged, 3 refused, 0 differ, 0 status written\n")
	assertLines(t, r.errOut,
		`Warning: imp/unknown: unknown field "spec.foo" is dropped`,
		`Warning: imp/unknown: unknown field "spec.mpiReplicaSpecs.Worker.extra" is dropped`,
		"Warning: imp/nostatus: was being deleted when exported (deletionTimestamp 2019-07-30T00:00:00Z); imported as a live object")
	if strings.Contains(r.errOut, "imp/meta") {
		t.Errorf("warnings about an object with only known fields: %s", r.errOut)
	}

	delete(at(unknown, "spec"), "foo")
	delete(at(unknown, "spec", "mpiReplicaSpecs", "Worker"), "extra")
	imported := map[string]string{}
	for ns, obj := range map[string]map[string]any{"kube-test": seed, "imp": meta, "default": nons} {
		imported[ns+"/"+typed(t, obj).Name] = assertImported(t, s, ns, obj).ResourceVersion
	}
	for _, f := range get(t, s, "imp", "meta").ManagedFields {
		if f.Manager != importer.DefaultFieldManager {
			t.Errorf("imp/meta: field manager %q, want only %q", f.Manager, importer.DefaultFieldManager)
		}
	}
	for _, obj := range []map[string]any{unknown, nostatus} {
		imported["imp/"+typed(t, obj).Name] = assertImported(t, s, "imp", obj).ResourceVersion
	}
	for _, name := range []string{"bad", "v1job", "cm"} {
		if _, err := s.Client.KubeflowV1alpha2().MPIJobs("imp").Get(t.Context(), name, metav1.GetOptions{}); err == nil {
			t.Errorf("refused object imp/%s exists", name)
		}
	}

	// Again: nothing changes, the refusals are the same.
	r = runImport(t, "", "--kubeconfig", kubeconfig(s), "-f", file)
	if r.err == nil {
		t.Error("second import with refusals succeeded")
	}
	assertLines(t, r.out, "unchanged kube-test/mpi-test\n", "unchanged imp/meta\n", "unchanged imp/unknown\n",
		"unchanged default/nons\n", "unchanged imp/nostatus\n", "refused imp/bad:",
		"0 created, 5 unchanged, 3 refused, 0 differ, 0 status written\n")
	for key, rv := range imported {
		ns, name, _ := strings.Cut(key, "/")
		if got := get(t, s, ns, name).ResourceVersion; got != rv {
			t.Errorf("%s: resourceVersion %s after the second import, was %s", key, got, rv)
		}
	}
}
