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

package reservedannotation

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// withoutAnnotation returns obj, or a shallow copy of it with the
// annotation removed where obj holds it: an MPIJob, the items of a list, the
// objects of a table's rows.
func withoutAnnotation(obj runtime.Object) runtime.Object {
	switch o := obj.(type) {
	case *v1alpha2.MPIJob:
		if has(&o.ObjectMeta) {
			cp := *o
			drop(&cp.ObjectMeta)
			return &cp
		}
	case *v2beta1.MPIJob:
		if has(&o.ObjectMeta) {
			cp := *o
			drop(&cp.ObjectMeta)
			return &cp
		}
	case *v1alpha2.MPIJobList:
		if items, changed := itemsWithout(o.Items, func(j *v1alpha2.MPIJob) *metav1.ObjectMeta { return &j.ObjectMeta }); changed {
			cp := *o
			cp.Items = items
			return &cp
		}
	case *v2beta1.MPIJobList:
		if items, changed := itemsWithout(o.Items, func(j *v2beta1.MPIJob) *metav1.ObjectMeta { return &j.ObjectMeta }); changed {
			cp := *o
			cp.Items = items
			return &cp
		}
	case *metav1.Table:
		return tableWithout(o)
	}
	return obj
}

func itemsWithout[T any](items []T, meta func(*T) *metav1.ObjectMeta) ([]T, bool) {
	var out []T
	for i := range items {
		if !has(meta(&items[i])) {
			continue
		}
		if out == nil {
			out = append([]T(nil), items...)
		}
		drop(meta(&out[i]))
	}
	return out, out != nil
}

// tableWithout handles includeObject=Object, where each row holds the
// converted MPIJob.
func tableWithout(t *metav1.Table) runtime.Object {
	var rows []metav1.TableRow
	for i := range t.Rows {
		obj := t.Rows[i].Object.Object
		if obj == nil {
			continue
		}
		stripped := withoutAnnotation(obj)
		if stripped == obj {
			continue
		}
		if rows == nil {
			rows = append([]metav1.TableRow(nil), t.Rows...)
		}
		rows[i].Object.Object = stripped
	}
	if rows == nil {
		return t
	}
	cp := *t
	cp.Rows = rows
	return &cp
}

func has(meta *metav1.ObjectMeta) bool {
	_, ok := meta.Annotations[carryover.Annotation]
	return ok
}

// drop replaces the annotations map of a copied object, whose map is still
// the original's.
func drop(meta *metav1.ObjectMeta) {
	meta.Annotations = carryover.WithoutAnnotation(meta.Annotations)
}
