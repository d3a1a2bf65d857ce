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
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestImportExisting: objects that already exist are never overwritten. One
// that differs in spec or status is reported and the command fails; one that
// equals the export but has no status yet (an import that stopped between
// create and status write) gets its status.
func TestImportExisting(t *testing.T) {
	s := inprocess.Start(t)
	jobs := s.Client.KubeflowV1alpha2().MPIJobs("ex")
	// create stores the export's spec and metadata, and the given status.
	create := func(obj map[string]any, change func(*v1alpha2.MPIJob), status *v1alpha2.JobStatus) *v1alpha2.MPIJob {
		t.Helper()
		job := typed(t, obj)
		job.ObjectMeta = metav1.ObjectMeta{Name: job.Name, Namespace: job.Namespace}
		job.Status = v1alpha2.JobStatus{}
		if change != nil {
			change(job)
		}
		created, err := jobs.Create(t.Context(), job, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if status == nil {
			return created
		}
		created.Status = *status
		updated, err := jobs.UpdateStatus(t.Context(), created, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return updated
	}

	specDiffers := exported(t, "ex", "spec-differs")
	scaled := create(specDiffers, func(j *v1alpha2.MPIJob) {
		j.Spec.MPIReplicaSpecs[v1alpha2.MPIReplicaTypeWorker].Replicas = ptr.To[int32](4)
	}, nil)
	statusDiffers := exported(t, "ex", "status-differs")
	running := create(statusDiffers, nil, &v1alpha2.JobStatus{Conditions: []v1alpha2.JobCondition{{
		Type: "Running", Status: "True", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}}})
	partial := exported(t, "ex", "partial")
	create(partial, nil, nil)

	file := writeFile(t, "export.yaml", toYAML(t, vList(specDiffers, statusDiffers, partial)))
	r := runImport(t, "", "--kubeconfig", kubeconfig(s), "-f", file)
	if r.err == nil {
		t.Error("import over differing objects succeeded")
	}
	assertLines(t, r.out,
		"exists, differs ex/spec-differs: spec, status differ; not overwritten\n", // it has no status yet
		"exists, differs ex/status-differs: status differ; not overwritten\n",
		"status written ex/partial\n",
		"0 created, 0 unchanged, 0 refused, 2 differ, 1 status written\n")
	for _, before := range []*v1alpha2.MPIJob{scaled, running} {
		after := get(t, s, "ex", before.Name)
		if after.ResourceVersion != before.ResourceVersion || !equality.Semantic.DeepEqual(after.Spec, before.Spec) {
			t.Errorf("ex/%s was overwritten: %+v", before.Name, after)
		}
	}
	assertImported(t, s, "ex", partial)

	// The completed object is now unchanged.
	r = runImport(t, "", "--kubeconfig", kubeconfig(s), "-f", file)
	assertLines(t, r.out, "unchanged ex/partial\n", "0 created, 1 unchanged, 0 refused, 2 differ, 0 status written\n")
}
