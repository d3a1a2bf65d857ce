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

package carryover

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// The conversions keep what the target version cannot express in the
// reserved annotation of the converted object and restore it when converting
// back, so that a hub -> version -> hub round trip loses nothing. The server
// relies on it where it converts without a stored object at hand: the etcd
// codec, and server-side apply, which merges and prunes in the version of
// every manager. Answers never carry the annotation and requests never bring
// one in: the API group's serializer strips it both ways.

// Annotate sets the reserved annotation of meta, the metadata of job
// converted to version, to what version cannot express of job, or removes
// it. meta's annotations map is replaced, not changed: the conversion may
// share it with job.
func Annotate(version string, job *kubeflow.MPIJob, meta *metav1.ObjectMeta) error {
	p := Take(version, job)
	_, had := meta.Annotations[Annotation]
	if p.IsZero() && !had {
		return nil
	}
	annotations := WithoutAnnotation(meta.Annotations)
	if !p.IsZero() {
		value, err := p.Marshal()
		if err != nil {
			return fmt.Errorf("keeping what %s cannot express of %s/%s: %w", version, job.Namespace, job.Name, err)
		}
		if annotations == nil {
			annotations = make(map[string]string, 1)
		}
		annotations[Annotation] = value
	}
	meta.Annotations = annotations
	return nil
}

// Unannotate restores into job, just converted to the hub, what its
// reserved annotation keeps, and removes the annotation. A value that cannot
// be read is an error naming the annotation and the job.
func Unannotate(job *kubeflow.MPIJob) error {
	value, ok := job.Annotations[Annotation]
	if !ok {
		return nil
	}
	p, err := Unmarshal(value)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", job.Namespace, job.Name, err)
	}
	job.Annotations = WithoutAnnotation(job.Annotations)
	p.Restore(job)
	return nil
}

// WithoutAnnotation returns a copy of annotations without the reserved one,
// nil when nothing else is left (so the object equals its JSON round trip).
// The map is copied, not changed: conversions share it with their input.
func WithoutAnnotation(annotations map[string]string) map[string]string {
	kept := make(map[string]string, len(annotations))
	for k, v := range annotations {
		if k != Annotation {
			kept[k] = v
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return kept
}
