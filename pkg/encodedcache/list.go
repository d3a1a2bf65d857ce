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
type jobList struct {
	version  string
	typeMeta *metav1.TypeMeta
	listMeta *metav1.ListMeta
	items    []job // nil when the list's items are
}

// asJobList tells whether obj is an MPIJob list of a served version.
func asJobList(obj runtime.Object) (jobList, bool) {
	switch l := obj.(type) {
	case *v1alpha2.MPIJobList:
		return jobList{v1alpha2.SchemeGroupVersion.String(), &l.TypeMeta, &l.ListMeta, jobs(l.Items)}, true
	case *v2beta1.MPIJobList:
		return jobList{v2beta1.SchemeGroupVersion.String(), &l.TypeMeta, &l.ListMeta, jobs(l.Items)}, true
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
