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

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
)

// mpiJobStrategy is the behaviour of the main resource: it owns the spec
// and metadata, never the status (which only /status writes).
type mpiJobStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

var (
	_ rest.RESTCreateStrategy  = mpiJobStrategy{}
	_ rest.RESTUpdateStrategy  = mpiJobStrategy{}
	_ rest.RESTDeleteStrategy  = mpiJobStrategy{}
	_ rest.ResetFieldsStrategy = mpiJobStrategy{}
)

func newStrategy(typer runtime.ObjectTyper) mpiJobStrategy {
	return mpiJobStrategy{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator}
}

func (mpiJobStrategy) NamespaceScoped() bool { return true }

// GetResetFields tells server-side apply that the main resource never
// persists a client's status, so applying one there is not a conflict.
func (mpiJobStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return resetFieldsOfEveryVersion(fieldpath.MakePathOrDie("status"), reservedAnnotationPath)
}

// PrepareForCreate drops any status the client sent (only the operator
// reports status, through /status) and the reserved annotation (only the
// storage codec writes it), and starts the generation at 1.
func (mpiJobStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	job := obj.(*kubeflow.MPIJob)
	job.Status = kubeflow.JobStatus{}
	job.Generation = 1
	carryover.DropAnnotation(&job.ObjectMeta)
}

// PrepareForUpdate keeps the stored status and what the request's version
// cannot express of the stored spec (package carryover), and moves the
// generation only when the spec changed, so the operator can tell a spec
// edit from a label edit by comparing it with what it last observed.
func (mpiJobStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	newJob := obj.(*kubeflow.MPIJob)
	oldJob := old.(*kubeflow.MPIJob)
	newJob.Status = oldJob.Status
	carryover.DropAnnotation(&newJob.ObjectMeta)
	carryover.RestoreSpec(requestVersion(ctx), oldJob, newJob)
	if !apiequality.Semantic.DeepEqual(newJob.Spec, oldJob.Spec) {
		newJob.Generation = oldJob.Generation + 1
	}
}

// Validate applies the rules of the request's version (validate.go).
func (s mpiJobStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return s.validateCreate(ctx, obj.(*kubeflow.MPIJob))
}

func (s mpiJobStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	newJob, oldJob := obj.(*kubeflow.MPIJob), old.(*kubeflow.MPIJob)
	return withoutGenericMetaErrors(s.validateUpdate(ctx, newJob, oldJob), newJob, oldJob)
}

func (mpiJobStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return specWarnings(&obj.(*kubeflow.MPIJob).Spec)
}

// WarningsOnUpdate repeats the spec warnings only when the spec changed, so
// that relabelling a job does not nag about a template written long ago.
func (mpiJobStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	newJob, oldJob := obj.(*kubeflow.MPIJob), old.(*kubeflow.MPIJob)
	if newJob.Generation == oldJob.Generation {
		return nil
	}
	return specWarnings(&newJob.Spec)
}

func (mpiJobStrategy) Canonicalize(obj runtime.Object) {}

func (mpiJobStrategy) AllowCreateOnUpdate(ctx context.Context) bool { return false }

// AllowUnconditionalUpdate lets a PUT without resourceVersion through, as
// for built-in workloads; kubectl replace relies on it.
func (mpiJobStrategy) AllowUnconditionalUpdate(ctx context.Context) bool { return true }

// statusStrategy is the behaviour of /status: like a custom resource's, it
// persists nothing but the status. The operator was written against the
// old CRD, where /status ignored spec and metadata alike.
type statusStrategy struct {
	mpiJobStrategy
}

func newStatusStrategy(s mpiJobStrategy) statusStrategy { return statusStrategy{s} }

// GetResetFields matches PrepareForUpdate: spec and metadata are reset.
func (statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return resetFieldsOfEveryVersion(fieldpath.MakePathOrDie("metadata"), fieldpath.MakePathOrDie("spec"))
}

// PrepareForUpdate keeps everything of the stored object but the status.
// managedFields is the exception: the field manager has just recorded the
// status writer's ownership in it. Taking the old resourceVersion is safe
// because the store has already checked the two agree.
func (statusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	newJob := obj.(*kubeflow.MPIJob)
	oldJob := old.(*kubeflow.MPIJob)
	managedFields := newJob.ManagedFields
	newJob.ObjectMeta = *oldJob.ObjectMeta.DeepCopy()
	newJob.ManagedFields = managedFields
	newJob.Spec = *oldJob.Spec.DeepCopy()
	carryover.RestoreStatus(requestVersion(ctx), oldJob, newJob)
}

func (s statusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	newJob, oldJob := obj.(*kubeflow.MPIJob), old.(*kubeflow.MPIJob)
	return withoutGenericMetaErrors(s.validateStatusUpdate(ctx, newJob, oldJob), newJob, oldJob)
}

func (statusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// withoutGenericMetaErrors drops the metadata errors the generic registry
// reports by itself on every update (rest.BeforeUpdate validates object
// meta for all resources), so that a client sees each problem once.
func withoutGenericMetaErrors(errs field.ErrorList, newJob, oldJob *kubeflow.MPIJob) field.ErrorList {
	if len(errs) == 0 {
		return errs
	}
	metaPath := field.NewPath("metadata")
	generic := apimachineryvalidation.ValidateObjectMetaAccessor(newJob, true, validatePathSegment, metaPath)
	generic = append(generic, apimachineryvalidation.ValidateObjectMetaAccessorUpdate(newJob, oldJob, metaPath)...)
	reported := make(map[string]bool, len(generic))
	for _, e := range generic {
		reported[e.Error()] = true
	}
	var out field.ErrorList
	for _, e := range errs {
		if !reported[e.Error()] {
			out = append(out, e)
		}
	}
	return out
}

// validatePathSegment is the name check the generic registry passes to
// ValidateObjectMetaAccessor (rest.BeforeCreate and BeforeUpdate): a name, or
// a generateName prefix, must be usable as one segment of a URL path.
func validatePathSegment(name string, prefix bool) []string {
	if prefix {
		return content.IsPathSegmentPrefix(name)
	}
	return content.IsPathSegmentName(name)
}
