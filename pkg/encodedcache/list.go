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

package encodedcache

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// job is an MPIJob of any served version, as the list encoders need it.
type job interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
	Marshal() ([]byte, error)
}

// jobList is an MPIJob list in one served version. The same object encodes
// differently in each version, so its items are cached under the version.
// Its items are either already in that version (items) or hub objects
// converted one by one when the cache lacks them (hub).
type jobList struct {
	version  string
	typeMeta *metav1.TypeMeta
	listMeta *metav1.ListMeta
	items    []job // nil when the list's items are
	hub      *hubList
}

// isNil tells whether the list's items are nil rather than empty.
func (l jobList) isNil() bool {
	if l.hub != nil {
		return l.hub.list.Items == nil
	}
	return l.items == nil
}

func (l jobList) len() int {
	if l.hub != nil {
		return len(l.hub.list.Items)
	}
	return len(l.items)
}

// identity is what the i'th item is cached under; cacheable is false for an
// item that carries a kind or apiVersion.
func (l jobList) identity(i int) (id metav1.Object, cacheable bool) {
	if l.hub != nil {
		// Converted items never carry a kind: conversions leave TypeMeta
		// alone and the list conversion makes new items.
		return &l.hub.list.Items[i], true
	}
	return l.items[i], !hasTypeMeta(l.items[i])
}

// item is the i'th item in the list's version.
func (l jobList) item(i int) (job, error) {
	if l.hub != nil {
		return l.hub.convert(i)
	}
	return l.items[i], nil
}

// asJobList tells whether obj is an MPIJob list of a served version, or a
// hub list on its way to one.
func asJobList(obj runtime.Object) (jobList, bool) {
	switch l := obj.(type) {
	case *v1alpha2.MPIJobList:
		return jobList{v1alpha2.SchemeGroupVersion.String(), &l.TypeMeta, &l.ListMeta, jobs(l.Items), nil}, true
	case *v2beta1.MPIJobList:
		return jobList{v2beta1.SchemeGroupVersion.String(), &l.TypeMeta, &l.ListMeta, jobs(l.Items), nil}, true
	case *hubList:
		return jobList{l.typeMeta.APIVersion, &l.typeMeta, &l.list.ListMeta, nil, l}, true
	}
	return jobList{}, false
}

func jobs[T any, P interface {
	*T
	job
}](items []T) []job {
	if items == nil {
		return nil
	}
	out := make([]job, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}

// hasTypeMeta tells whether the item carries a kind or apiVersion, which
// list items from storage do not.
func hasTypeMeta(j job) bool {
	tm, ok := j.GetObjectKind().(*metav1.TypeMeta)
	return !ok || tm.Kind != "" || tm.APIVersion != ""
}
