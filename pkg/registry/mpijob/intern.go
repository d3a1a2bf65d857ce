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
	"sort"
	"strings"
	"sync"
	"unique"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// The watch cache holds every MPIJob decoded, about 10 KiB each for the
// seed, and a third of that is values many objects repeat: the resource
// lists of the containers (a Go map of two quantities is ~600 bytes) and the
// managedFields bytes of objects written the same way. Objects decoded from
// storage share one copy of each such value. This is safe because objects
// from storage are read-only by the library's own contract: the watch cache
// hands out shallow copies that already share maps with it, and every path
// that changes a stored object deep-copies it first.

// internedStorage wraps a RESTOptionsGetter so that the storage codec of
// the resource interns what it decodes.
type internedStorage struct {
	generic.RESTOptionsGetter
	values *internTable
}

func (g internedStorage) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := g.RESTOptionsGetter.GetRESTOptions(resource, example)
	if err != nil || opts.StorageConfig == nil {
		return opts, err
	}
	cfg := *opts.StorageConfig
	cfg.Codec = internCodec{Codec: cfg.Codec, values: g.values}
	opts.StorageConfig = &cfg
	return opts, nil
}

type internCodec struct {
	runtime.Codec
	values *internTable
}

func (c internCodec) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	obj, gvk, err := c.Codec.Decode(data, defaults, into)
	if job, ok := obj.(*kubeflow.MPIJob); ok && err == nil {
		c.values.job(job)
	}
	return obj, gvk, err
}

// maxInterned bounds each table; past it the table starts over, so values
// no object uses any more do not pile up.
const maxInterned = 4096

type internTable struct {
	mu        sync.Mutex
	lists     map[string]corev1.ResourceList
	fieldSets map[string][]byte
}

func newInternTable() *internTable {
	return &internTable{lists: map[string]corev1.ResourceList{}, fieldSets: map[string][]byte{}}
}

func (t *internTable) job(job *kubeflow.MPIJob) {
	for i := range job.ManagedFields {
		mf := &job.ManagedFields[i]
		mf.Manager = internString(mf.Manager)
		mf.APIVersion = internString(mf.APIVersion)
		if raw := mf.FieldsV1.GetRawBytes(); len(raw) > 0 {
			// SetRawBytes would copy the shared slice, undoing the sharing.
			mf.FieldsV1.Raw = t.fields(raw) //nolint:staticcheck // SA1019: only the field itself can hold a shared slice.
		}
	}
	for _, spec := range job.Spec.MPIReplicaSpecs {
		if spec == nil {
			continue
		}
		pod := &spec.Template.Spec
		for _, containers := range [][]corev1.Container{pod.InitContainers, pod.Containers} {
			for j := range containers {
				t.container(&containers[j])
			}
		}
	}
}

func (t *internTable) container(c *corev1.Container) {
	c.Name = internString(c.Name)
	c.Image = internString(c.Image)
	for i := range c.Command {
		c.Command[i] = internString(c.Command[i])
	}
	for i := range c.Args {
		c.Args[i] = internString(c.Args[i])
	}
	c.Resources.Limits = t.list(c.Resources.Limits)
	c.Resources.Requests = t.list(c.Resources.Requests)
}

// list returns the shared resource list equal to l.
func (t *internTable) list(l corev1.ResourceList) corev1.ResourceList {
	if len(l) == 0 {
		return l
	}
	names := make([]string, 0, len(l))
	for name := range l {
		names = append(names, string(name))
	}
	sort.Strings(names)
	var key strings.Builder
	for _, name := range names {
		q := l[corev1.ResourceName(name)]
		key.WriteString(name)
		key.WriteByte('=')
		key.WriteString(q.String())
		key.WriteByte(';')
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if shared, ok := t.lists[key.String()]; ok {
		return shared
	}
	if len(t.lists) >= maxInterned {
		t.lists = map[string]corev1.ResourceList{}
	}
	t.lists[key.String()] = l
	return l
}

// internString returns the canonical copy of s; unique drops copies no
// object uses any more.
func internString(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

// fields returns the shared managedFields bytes equal to b.
func (t *internTable) fields(b []byte) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if shared, ok := t.fieldSets[string(b)]; ok {
		return shared
	}
	if len(t.fieldSets) >= maxInterned {
		t.fieldSets = map[string][]byte{}
	}
	t.fieldSets[string(b)] = b
	return b
}
