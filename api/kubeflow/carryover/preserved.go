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

// Package carryover keeps what one served version cannot express of an
// MPIJob when a client writes the job in that version.
//
// The hub holds the union of v1alpha2 and v2beta1. A client writing in one
// version sends only what that version can say; the rest - v2beta1's
// sshAuthMountPath under v1alpha2, v1alpha2's mainContainer or the second
// copy of backoffLimit under v2beta1 - is taken from the stored object
// (Take) and put back into the written one (Restore*). The storage codec uses
// the same two steps to keep in etcd what the storage version cannot express,
// in the reserved Annotation, which no answer ever shows.
package carryover

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// Annotation holds, in etcd only, what the storage version of an object
// cannot express. The storage codec writes and strips it; a copy sent by a
// client is dropped by the registry.
const Annotation = "internal.mpijob-apiserver.kubeflow.org/preserved"

// Served versions, as the carry-over tells them apart.
const (
	V1alpha2 = "v1alpha2"
	V2beta1  = "v2beta1"
)

// Preserved is what one version cannot express of a job. At most one of its
// parts is set: the one for the version it was taken for.
type Preserved struct {
	// Fields only v2beta1 can express, kept across v1alpha2 writes.
	V2beta1Only *V2beta1Only `json:"v2beta1Only,omitempty"`
	// The shape only v1alpha2 can express, kept across v2beta1 writes.
	V1alpha2Only *V1alpha2Only `json:"v1alpha2Only,omitempty"`
}

// Take returns what a client writing job in version cannot express. An
// unknown version (one that expresses everything) takes nothing.
func Take(version string, job *kubeflow.MPIJob) Preserved {
	switch version {
	case V1alpha2:
		if p := takeV2beta1Only(job); p != nil {
			return Preserved{V2beta1Only: p}
		}
	case V2beta1:
		if p := takeV1alpha2Only(job); p != nil {
			return Preserved{V1alpha2Only: p}
		}
	}
	return Preserved{}
}

// takeForWrite is Take, with an empty part rather than none when there is
// nothing to keep: restoring it then also clears what the client sent for
// fields its version cannot express (an apply configuration may carry the
// reserved annotation, which conversion reads).
func takeForWrite(version string, stored *kubeflow.MPIJob) Preserved {
	p := Take(version, stored)
	switch {
	case version == V1alpha2 && p.V2beta1Only == nil:
		p.V2beta1Only = &V2beta1Only{}
	case version == V2beta1 && p.V1alpha2Only == nil:
		p.V1alpha2Only = &V1alpha2Only{}
	}
	return p
}

// RestoreSpec makes the spec of job, which a client wrote in version, hold
// what stored holds of the spec fields version cannot express.
func RestoreSpec(version string, stored, job *kubeflow.MPIJob) {
	takeForWrite(version, stored).RestoreSpec(job)
}

// RestoreStatus is RestoreSpec for the status.
func RestoreStatus(version string, stored, job *kubeflow.MPIJob) {
	takeForWrite(version, stored).RestoreStatus(job)
}

// IsZero is true when there is nothing to keep.
func (p Preserved) IsZero() bool { return p.V2beta1Only == nil && p.V1alpha2Only == nil }

// RestoreSpec puts the preserved spec fields back into job, which a client
// has just written (or the storage codec has just decoded) in the version p
// was taken for.
func (p Preserved) RestoreSpec(job *kubeflow.MPIJob) {
	if p.V2beta1Only != nil {
		p.V2beta1Only.restoreSpec(&job.Spec)
	}
	if p.V1alpha2Only != nil {
		p.V1alpha2Only.restoreSpec(&job.Spec)
	}
}

// RestoreStatus puts the preserved status fields back into job.
func (p Preserved) RestoreStatus(job *kubeflow.MPIJob) {
	if p.V2beta1Only != nil {
		p.V2beta1Only.restoreStatus(&job.Status)
	}
	if p.V1alpha2Only != nil {
		p.V1alpha2Only.restoreStatus(&job.Status)
	}
}

// Restore puts back spec and status.
func (p Preserved) Restore(job *kubeflow.MPIJob) {
	p.RestoreSpec(job)
	p.RestoreStatus(job)
}

// Marshal is the annotation value of p.
func (p Preserved) Marshal() (string, error) {
	b, err := json.Marshal(p)
	return string(b), err
}

// Unmarshal reads an annotation value.
func Unmarshal(value string) (Preserved, error) {
	var p Preserved
	if err := json.Unmarshal([]byte(value), &p); err != nil {
		return Preserved{}, fmt.Errorf("reading the %s annotation: %w", Annotation, err)
	}
	return p, nil
}

// DropAnnotation removes the reserved annotation from meta, leaving nil
// rather than an empty map so that the object equals its JSON round trip.
func DropAnnotation(meta *metav1.ObjectMeta) {
	if _, ok := meta.Annotations[Annotation]; !ok {
		return
	}
	delete(meta.Annotations, Annotation)
	if len(meta.Annotations) == 0 {
		meta.Annotations = nil
	}
}
