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

// Package mpijob is the REST storage of kubeflow.org MPIJobs: the generic
// etcd-backed store, with MPIJob strategies, selectable fields, a table
// convertor, and a status subresource.
package mpijob

import (
	"context"
	"fmt"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// Options tunes the storage to the server's mode.
type Options struct {
	// NoGarbageCollector is true when no garbage collector serves this
	// storage (standalone mode). Deletions that only a collector can finish
	// (propagationPolicy Foreground or Orphan) are then refused.
	NoGarbageCollector bool
}

// REST is the storage of /mpijobs.
type REST struct {
	*genericregistry.Store
	noGarbageCollector bool
	convertor          runtime.ObjectConvertor
}

var (
	_ rest.StandardStorage      = &REST{}
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.CategoriesProvider   = &REST{}
	_ rest.SingularNameProvider = &REST{}
	_ rest.TableConvertor       = &REST{}
	_ rest.ResetFieldsStrategy  = &REST{}
)

// NewREST returns the storage of /mpijobs and of /mpijobs/status. Both
// share one underlying store, so the status storage owns nothing to destroy.
func NewREST(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, opts Options) (*REST, *StatusREST, error) {
	strategy := newStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &kubeflow.MPIJob{} },
		NewListFunc:               func() runtime.Object { return &kubeflow.MPIJobList{} },
		PredicateFunc:             Match,
		DefaultQualifiedResource:  kubeflow.Resource("mpijobs"),
		SingularQualifiedResource: kubeflow.Resource("mpijob"),

		CreateStrategy:      strategy,
		UpdateStrategy:      strategy,
		DeleteStrategy:      strategy,
		ResetFieldsStrategy: strategy,

		TableConvertor: tableConvertor{},
	}
	optsGetter = internedStorage{RESTOptionsGetter: optsGetter, values: newInternTable()}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, nil, fmt.Errorf("completing the mpijobs store: %w", err)
	}

	statusStore := *store
	status := newStatusStrategy(strategy)
	statusStore.UpdateStrategy = status
	statusStore.ResetFieldsStrategy = status

	return &REST{Store: store, noGarbageCollector: opts.NoGarbageCollector, convertor: scheme},
		&StatusREST{store: &statusStore, convertor: scheme}, nil
}

// ShortNames are the old CRD's: kubectl get mj.
func (r *REST) ShortNames() []string { return []string{"mj", "mpij"} }

// Categories puts MPIJobs in kubectl get kubeflow.
func (r *REST) Categories() []string { return []string{"kubeflow"} }

// Create stores a new MPIJob; an object too large for etcd is a 413.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	sctx, cancel := storageContext(ctx)
	defer cancel()
	out, err := r.Store.Create(sctx, obj, createValidation, options)
	return out, interpretStorageDeadline(ctx, sctx, interpretTooLarge(err))
}

// Update replaces an MPIJob; an object too large for etcd is a 413.
func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	sctx, cancel := storageContext(ctx)
	defer cancel()
	objInfo = seenInRequestVersion(ctx, r.convertor, objInfo)
	out, created, err := r.Store.Update(sctx, name, objInfo, createValidation, updateValidation, forceAllowCreate, options)
	return out, created, interpretStorageDeadline(ctx, sctx, interpretTooLarge(err))
}

// Get reads an MPIJob, ending before the request's deadline (deadline.go).
func (r *REST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	sctx, cancel := storageContext(ctx)
	defer cancel()
	out, err := r.Store.Get(sctx, name, options)
	return out, interpretStorageDeadline(ctx, sctx, err)
}

// List lists MPIJobs, ending before the request's deadline (deadline.go).
func (r *REST) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	sctx, cancel := storageContext(ctx)
	defer cancel()
	out, err := r.Store.List(sctx, options)
	return out, interpretStorageDeadline(ctx, sctx, err)
}

// Delete deletes an MPIJob, refusing in standalone mode the propagation
// policies that would leave it waiting for a garbage collector.
func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	if r.noGarbageCollector {
		if err := refuseWithoutGarbageCollector(options); err != nil {
			return nil, false, err
		}
	}
	sctx, cancel := storageContext(ctx)
	defer cancel()
	out, immediate, err := r.Store.Delete(sctx, name, deleteValidation, options)
	return out, immediate, interpretStorageDeadline(ctx, sctx, err)
}

// DeleteCollection deletes the selected MPIJobs, with the same refusal as
// Delete, made before any of them is touched.
func (r *REST) DeleteCollection(ctx context.Context, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions, listOptions *metainternalversion.ListOptions) (runtime.Object, error) {
	if r.noGarbageCollector {
		if err := refuseWithoutGarbageCollector(options); err != nil {
			return nil, err
		}
	}
	sctx, cancel := storageContext(ctx)
	defer cancel()
	out, err := r.Store.DeleteCollection(sctx, deleteValidation, options, listOptions)
	return out, interpretStorageDeadline(ctx, sctx, err)
}
