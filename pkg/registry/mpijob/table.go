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
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// tableConvertor gives kubectl get its columns. The old CRD had no printer
// columns at all; these show what a user running MPI jobs asks first: is it
// done, how wide is it, what does it run.
type tableConvertor struct{}

var _ rest.TableConvertor = tableConvertor{}

var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	{Name: "State", Type: "string", Description: "The type of the newest condition whose status is True (status.state)."},
	{Name: "Workers", Type: "integer", Description: "The number of workers (spec.mpiReplicaSpecs[Worker].replicas)."},
	{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
	{Name: "Slots", Type: "integer", Priority: 1, Description: "Slots per worker (spec.slotsPerWorker); empty when unset."},
	{Name: "Launcher Image", Type: "string", Priority: 1, Description: "The image of the launcher's mainContainer, or of its first container."},
}

func (tableConvertor) ConvertToTable(ctx context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	if opts, ok := tableOptions.(*metav1.TableOptions); !ok || opts == nil || !opts.NoHeaders {
		table.ColumnDefinitions = columns
	}
	switch o := obj.(type) {
	case *kubeflow.MPIJob:
		table.ResourceVersion = o.ResourceVersion
		table.Rows = []metav1.TableRow{tableRow(o)}
	case *kubeflow.MPIJobList:
		// Carrying the list metadata keeps kubectl get --chunk-size and
		// get -w working: they continue and watch from these.
		table.ResourceVersion = o.ResourceVersion
		table.Continue = o.Continue
		table.RemainingItemCount = o.RemainingItemCount
		table.Rows = make([]metav1.TableRow, 0, len(o.Items))
		for i := range o.Items {
			table.Rows = append(table.Rows, tableRow(&o.Items[i]))
		}
	default:
		return nil, fmt.Errorf("cannot convert %T to a table", obj)
	}
	return table, nil
}

func tableRow(job *kubeflow.MPIJob) metav1.TableRow {
	return metav1.TableRow{
		Cells: []interface{}{
			job.Name,
			string(kubeflow.State(&job.Status)),
			workers(&job.Spec),
			age(job.CreationTimestamp),
			slots(&job.Spec),
			launcherImage(&job.Spec),
		},
		Object: runtime.RawExtension{Object: job},
	}
}

// workers and slots are nil when unset: a null cell, which kubectl shows as
// <none>, rather than a default the server never stored.
func workers(spec *kubeflow.MPIJobSpec) interface{} {
	if w := spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker]; w != nil && w.Replicas != nil {
		return int64(*w.Replicas)
	}
	return nil
}

func slots(spec *kubeflow.MPIJobSpec) interface{} {
	if spec.SlotsPerWorker != nil {
		return int64(*spec.SlotsPerWorker)
	}
	return nil
}

// age is rendered as kube-apiserver's own printers do.
func age(created metav1.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(created.Time))
}

// launcherImage is the image mpirun runs in: the launcher's container named
// mainContainer, else its first container.
func launcherImage(spec *kubeflow.MPIJobSpec) string {
	l := spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeLauncher]
	if l == nil || len(l.Template.Spec.Containers) == 0 {
		return ""
	}
	containers := l.Template.Spec.Containers
	if spec.MainContainer != "" {
		for i := range containers {
			if containers[i].Name == spec.MainContainer {
				return containers[i].Image
			}
		}
	}
	return containers[0].Image
}
