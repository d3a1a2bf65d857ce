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
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// ScaleREST is the storage of /mpijobs/scale: the number of workers as an
// autoscaling/v1 Scale, for kubectl scale and horizontal autoscalers. It
// shares the main store; a write is an update of the job through the main
// strategy, so the generation moves and the job's validation applies.
type ScaleREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Patcher                  = &ScaleREST{}
	_ rest.GroupVersionKindProvider = &ScaleREST{}
	_ rest.TableConvertor           = &ScaleREST{}
	_ rest.ResetFieldsStrategy      = &ScaleREST{}
)

// ScaleGroupVersionKind is the kind /scale serves in every version.
var ScaleGroupVersionKind = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

// NewScaleREST returns the storage of /mpijobs/scale on the store of main.
func NewScaleREST(main *REST) *ScaleREST {
	store := *main.Store
	strategy := scaleStrategy{main.UpdateStrategy.(mpiJobStrategy)}
	store.UpdateStrategy = strategy
	return &ScaleREST{store: &store}
}

// GroupVersionKind is autoscaling/v1 Scale whatever version the job is
// served in, as for custom resources.
func (r *ScaleREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return ScaleGroupVersionKind
}

// New returns an empty Scale.
func (r *ScaleREST) New() runtime.Object { return &autoscalingv1.Scale{} }

// Destroy does nothing: the main REST owns the storage and destroys it.
func (r *ScaleREST) Destroy() {}

// Get returns the job's Scale.
func (r *ScaleREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	sctx, cancel := storageContext(ctx)
	defer cancel()
	obj, err := r.store.Get(sctx, name, options)
	if err != nil {
		return nil, interpretStorageDeadline(ctx, sctx, err)
	}
	return scaleFromJob(obj.(*kubeflow.MPIJob)), nil
}

// Update sets the number of workers from a Scale. It never creates a job.
func (r *ScaleREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	sctx, cancel := storageContext(ctx)
	defer cancel()
	obj, _, err := r.store.Update(sctx, name, &scaleUpdatedObjectInfo{name: name, request: objInfo},
		func(ctx context.Context, obj runtime.Object) error {
			return createValidation(ctx, scaleFromJob(obj.(*kubeflow.MPIJob)))
		},
		func(ctx context.Context, obj, old runtime.Object) error {
			return updateValidation(ctx, scaleFromJob(obj.(*kubeflow.MPIJob)), scaleFromJob(old.(*kubeflow.MPIJob)))
		},
		false, options)
	if err != nil {
		return nil, false, interpretStorageDeadline(ctx, sctx, interpretTooLarge(err))
	}
	return scaleFromJob(obj.(*kubeflow.MPIJob)), false, nil
}

// GetResetFields: a Scale's status is the operator's report, never the
// client's.
func (r *ScaleREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(autoscalingv1.SchemeGroupVersion.String()): fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// ConvertToTable prints a Scale's name and age.
func (r *ScaleREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return scaleTable.ConvertToTable(ctx, object, tableOptions)
}

var scaleTable = rest.NewDefaultTableConvertor(kubeflow.Resource("mpijobs/scale"))

// scaleUpdatedObjectInfo turns the stored job into the Scale the request
// edits, and the edited Scale back into the job.
type scaleUpdatedObjectInfo struct {
	name    string
	request rest.UpdatedObjectInfo
}

func (i *scaleUpdatedObjectInfo) Preconditions() *metav1.Preconditions {
	return i.request.Preconditions()
}

func (i *scaleUpdatedObjectInfo) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	job := oldObj.DeepCopyObject().(*kubeflow.MPIJob)
	// The store hands over an empty job when there is none.
	if job.ResourceVersion == "" {
		return nil, apierrors.NewNotFound(kubeflow.Resource("mpijobs"), i.name)
	}

	// The request's version says which path of the job spec.replicas
	// takes ownership of; callers inside the server write the preferred one.
	gv := schema.GroupVersion{Group: kubeflow.GroupName, Version: requestVersion(ctx)}
	if gv.Version == "" {
		gv = v1alpha2.SchemeGroupVersion
	}
	managed := managedfields.NewScaleHandler(job.ManagedFields, gv, workerReplicasPaths)
	oldScale := scaleFromJob(job)
	var err error
	if oldScale.ManagedFields, err = managed.ToSubresource(); err != nil {
		return nil, err
	}

	obj, err := i.request.UpdatedObject(ctx, oldScale)
	if err != nil {
		return nil, err
	}
	scale, ok := obj.(*autoscalingv1.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected an autoscaling/v1 Scale, got %T", obj))
	}
	if scale.UID != "" && scale.UID != job.UID {
		return nil, apierrors.NewConflict(kubeflow.Resource("mpijobs"), i.name,
			fmt.Errorf("precondition failed: UID in the Scale %s, UID of the MPIJob %s", scale.UID, job.UID))
	}

	if err := setWorkerReplicas(job, scale.Spec.Replicas); err != nil {
		return nil, err
	}
	// An empty resourceVersion is an unconditional update; any other must
	// match the stored one, which the store checks.
	job.ResourceVersion = scale.ResourceVersion
	if job.ManagedFields, err = managed.ToParent(scale.ManagedFields); err != nil {
		return nil, err
	}
	return job, nil
}

// setWorkerReplicas writes n into the Worker spec. A job without one (a
// v2beta1 job whose launcher works alone) has nothing to scale: the 0 that
// its Scale reports may be written back unchanged, but any other count is
// refused, since a Worker spec needs a pod template that a Scale cannot
// carry.
func setWorkerReplicas(job *kubeflow.MPIJob, n int32) error {
	worker := job.Spec.MPIReplicaSpecs[kubeflow.MPIReplicaTypeWorker]
	if worker == nil {
		if n == 0 {
			return nil
		}
		return apierrors.NewInvalid(ScaleGroupVersionKind.GroupKind(), job.Name, field.ErrorList{
			field.Invalid(field.NewPath("spec", "replicas"), n,
				"this MPIJob has no Worker replica spec (spec.mpiReplicaSpecs[Worker]) to scale; add one, with its pod template, to the MPIJob itself"),
		})
	}
	worker.Replicas = &n
	return nil
}
