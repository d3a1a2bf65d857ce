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
	"fmt"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// GetAttrs returns the labels and selectable fields of an MPIJob: the
// storage side of field selectors (the scheme side is the field-label
// conversion of each version, which maps its labels onto these). Both read
// the names from api/kubeflow/fields.go.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	job, ok := obj.(*kubeflow.MPIJob)
	if !ok {
		return nil, nil, fmt.Errorf("not an MPIJob: %T", obj)
	}
	return labels.Set(job.Labels), SelectableFields(job), nil
}

// SelectableFields returns the field set a field selector matches against.
// The values are what is stored: no defaults are applied, so an unset
// slotsPerWorker, cleanPodPolicy or suspend is "".
func SelectableFields(job *kubeflow.MPIJob) fields.Set {
	specific := fields.Set{
		kubeflow.FieldSpecCleanPodPolicy: kubeflow.CleanPodPolicyField(&job.Spec),
		kubeflow.FieldSpecSlotsPerWorker: kubeflow.SlotsPerWorkerField(&job.Spec),
		kubeflow.FieldSpecSuspend:        kubeflow.SuspendField(&job.Spec),
		kubeflow.FieldStatusState:        string(kubeflow.State(&job.Status)),
	}
	return generic.AddObjectMetaFieldsSet(specific, &job.ObjectMeta, true)
}

// Match is the predicate the store filters lists and watches with.
func Match(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{
		Label:    label,
		Field:    field,
		GetAttrs: GetAttrs,
	}
}
