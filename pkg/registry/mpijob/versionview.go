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

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
)

// seenInRequestVersion makes the transformers of an update - the field
// manager of server-side apply, the patchers, admission - see the stored
// object as the request's version shows it to the client, without what that
// version cannot express. The client wrote without those fields too (it
// never read them), so the field manager finds them unchanged instead of
// removed and the managers of the other version keep owning them; the
// strategy then puts them back from the real stored object.
func seenInRequestVersion(ctx context.Context, convertor runtime.ObjectConvertor, objInfo rest.UpdatedObjectInfo) rest.UpdatedObjectInfo {
	version := requestVersion(ctx)
	if version != carryover.V1alpha2 && version != carryover.V2beta1 {
		return objInfo
	}
	return versionView{UpdatedObjectInfo: objInfo, convertor: convertor, version: version}
}

type versionView struct {
	rest.UpdatedObjectInfo
	convertor runtime.ObjectConvertor
	version   string
}

func (v versionView) UpdatedObject(ctx context.Context, old runtime.Object) (runtime.Object, error) {
	job, ok := old.(*kubeflow.MPIJob)
	if !ok || job == nil {
		return v.UpdatedObjectInfo.UpdatedObject(ctx, old)
	}
	seen, err := v.view(job)
	if err != nil {
		return nil, err
	}
	return v.UpdatedObjectInfo.UpdatedObject(ctx, seen)
}

// view is job as a client of the version reads and writes it back: job
// itself when the version can express all of it (nothing to take, no
// reserved annotation), since the round trip would only rebuild it; that
// spares every update of such a job two conversions and a deep copy.
func (v versionView) view(job *kubeflow.MPIJob) (*kubeflow.MPIJob, error) {
	if expressible(v.version, job) {
		return job, nil
	}
	return v.roundTrip(job)
}

// expressible tells whether the version can express all of job.
func expressible(version string, job *kubeflow.MPIJob) bool {
	_, annotated := job.Annotations[carryover.Annotation]
	return !annotated && carryover.Take(version, job).IsZero()
}

// roundTrip converts job to the version and back without the reserved
// annotation, as a client's read and write-back would.
func (v versionView) roundTrip(job *kubeflow.MPIJob) (*kubeflow.MPIJob, error) {
	gv := schema.GroupVersion{Group: kubeflow.GroupName, Version: v.version}
	versioned, err := v.convertor.ConvertToVersion(job.DeepCopy(), gv)
	if err != nil {
		return nil, err
	}
	accessor, err := meta.Accessor(versioned)
	if err != nil {
		return nil, err
	}
	if _, has := accessor.GetAnnotations()[carryover.Annotation]; has {
		accessor.SetAnnotations(carryover.WithoutAnnotation(accessor.GetAnnotations()))
	}
	hub, err := v.convertor.ConvertToVersion(versioned, kubeflow.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	return hub.(*kubeflow.MPIJob), nil
}
