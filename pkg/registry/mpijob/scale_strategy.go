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

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// scaleStrategy is the main strategy as /scale writes through it: the same
// preparation and validation, with errors about the worker count pointing
// at the Scale field that set it.
type scaleStrategy struct {
	mpiJobStrategy
}

// workerReplicasPath is the field of the job that /scale writes.
var workerReplicasPath = field.NewPath("spec", "mpiReplicaSpecs").Key(string(kubeflow.MPIReplicaTypeWorker)).Child("replicas")

// ValidateUpdate keeps the job's field paths, since the error names the
// MPIJob, and tells a /scale client which of its fields they stand for.
func (s scaleStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	errs := s.mpiJobStrategy.ValidateUpdate(ctx, obj, old)
	for _, e := range errs {
		if e.Field == workerReplicasPath.String() {
			e.Detail += " (written through the scale subresource's spec.replicas)"
		}
	}
	return errs
}

// WarningsOnUpdate says nothing: a scale leaves the pod templates, which
// the main strategy's warnings are about, as they were.
func (scaleStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}
