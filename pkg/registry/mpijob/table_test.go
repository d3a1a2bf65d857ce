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

package mpijob

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

func TestTableColumns(t *testing.T) {
	table, err := tableConvertor{}.ConvertToTable(context.Background(), newJob("a"), nil)
	if err != nil {
		t.Fatal(err)
	}
	type col struct {
		name, typ string
		priority  int32
	}
	var got []col
	for _, c := range table.ColumnDefinitions {
		got = append(got, col{c.Name, c.Type, c.Priority})
		if c.Description == "" {
			t.Errorf("column %s has no description", c.Name)
		}
	}
	want := []col{
		{"Name", "string", 0}, {"State", "string", 0}, {"Workers", "integer", 0}, {"Age", "string", 0},
		{"Slots", "integer", 1}, {"Launcher Image", "string", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columns = %v, want %v", got, want)
	}
	if table.ColumnDefinitions[0].Format != "name" {
		t.Errorf("the Name column has format %q, want name", table.ColumnDefinitions[0].Format)
	}
}

func TestTableRows(t *testing.T) {
	launcherTemplate := func(containers ...corev1.Container) *kubeflow.ReplicaSpec {
		return &kubeflow.ReplicaSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers}}}
	}
	cases := []struct {
		name   string
		mutate func(j *kubeflow.MPIJob)
		want   []interface{}
	}{
		{"seed job, five minutes old", func(*kubeflow.MPIJob) {},
			[]interface{}{"a", "", int64(2), "5m", int64(1), "horovod-mxnet:mnist"}},
		{"finished", func(j *kubeflow.MPIJob) { j.Status = finishedStatus() },
			[]interface{}{"a", "Succeeded", int64(2), "5m", int64(1), "horovod-mxnet:mnist"}},
		{"unset numbers are null", func(j *kubeflow.MPIJob) {
			j.Spec.SlotsPerWorker = nil
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker].Replicas = nil
		}, []interface{}{"a", "", nil, "5m", nil, "horovod-mxnet:mnist"}},
		{"no creation time", func(j *kubeflow.MPIJob) { j.CreationTimestamp = metav1.Time{} },
			[]interface{}{"a", "", int64(2), "<unknown>", int64(1), "horovod-mxnet:mnist"}},
		{"mainContainer picks the launcher image", func(j *kubeflow.MPIJob) {
			j.Spec.MainContainer = "mpi"
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher] = launcherTemplate(
				corev1.Container{Name: "sidecar", Image: "proxy:1"}, corev1.Container{Name: "mpi", Image: "trainer:2"})
		}, []interface{}{"a", "", int64(2), "5m", int64(1), "trainer:2"}},
		{"mainContainer not in the launcher: first container", func(j *kubeflow.MPIJob) {
			j.Spec.MainContainer = "other"
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher] = launcherTemplate(
				corev1.Container{Name: "sidecar", Image: "proxy:1"}, corev1.Container{Name: "mpi", Image: "trainer:2"})
		}, []interface{}{"a", "", int64(2), "5m", int64(1), "proxy:1"}},
		{"no launcher", func(j *kubeflow.MPIJob) { delete(j.Spec.MPIReplicaSpecs, kubeflow.MPIReplicaTypeLauncher) },
			[]interface{}{"a", "", int64(2), "5m", int64(1), ""}},
		{"launcher without containers", func(j *kubeflow.MPIJob) {
			j.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher] = launcherTemplate()
		}, []interface{}{"a", "", int64(2), "5m", int64(1), ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJob("a")
			j.CreationTimestamp = metav1.NewTime(time.Now().Add(-5 * time.Minute))
			tc.mutate(j)
			table, err := tableConvertor{}.ConvertToTable(context.Background(), j, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(table.Rows) != 1 {
				t.Fatalf("%d rows", len(table.Rows))
			}
			if !reflect.DeepEqual(table.Rows[0].Cells, tc.want) {
				t.Errorf("cells = %#v, want %#v", table.Rows[0].Cells, tc.want)
			}
			if table.Rows[0].Object.Object != j {
				t.Errorf("row object = %#v, want the job", table.Rows[0].Object)
			}
			// Cells go to clients as JSON: they must survive it.
			if _, err := json.Marshal(table); err != nil {
				t.Errorf("table does not marshal: %v", err)
			}
		})
	}
}

func TestTableList(t *testing.T) {
	remaining := int64(3)
	list := &kubeflow.MPIJobList{
		ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "token", RemainingItemCount: &remaining},
		Items:    []kubeflow.MPIJob{*newJob("a"), *newJob("b")},
	}
	table, err := tableConvertor{}.ConvertToTable(context.Background(), list, &metav1.TableOptions{NoHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	if table.ColumnDefinitions != nil {
		t.Errorf("NoHeaders: got %d column definitions", len(table.ColumnDefinitions))
	}
	if table.ResourceVersion != "42" || table.Continue != "token" || table.RemainingItemCount == nil || *table.RemainingItemCount != 3 {
		t.Errorf("list metadata lost: %+v", table.ListMeta)
	}
	if len(table.Rows) != 2 || table.Rows[0].Cells[0] != "a" || table.Rows[1].Cells[0] != "b" {
		t.Fatalf("rows = %+v", table.Rows)
	}
	if table.Rows[1].Object.Object != &list.Items[1] {
		t.Errorf("row object is not the list item")
	}

	empty, err := tableConvertor{}.ConvertToTable(context.Background(), &kubeflow.MPIJobList{}, nil)
	if err != nil || len(empty.Rows) != 0 || len(empty.ColumnDefinitions) == 0 {
		t.Errorf("empty list: %+v, %v", empty, err)
	}

	if _, err := (tableConvertor{}).ConvertToTable(context.Background(), &metav1.Status{}, nil); err == nil {
		t.Error("converted a Status")
	}
}

func TestTableSingleObjectResourceVersion(t *testing.T) {
	j := newJob("a")
	j.ResourceVersion = "7"
	table, err := tableConvertor{}.ConvertToTable(context.Background(), j, &metav1.TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if table.ResourceVersion != "7" || len(table.ColumnDefinitions) != 6 {
		t.Errorf("resourceVersion %q, %d columns", table.ResourceVersion, len(table.ColumnDefinitions))
	}
}
