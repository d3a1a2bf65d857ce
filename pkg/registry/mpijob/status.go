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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// StatusREST is the storage of /mpijobs/status, where the operator reports
// progress. It shares the main store and differs only in its update
// strategy, which persists nothing but the status.
type StatusREST struct {
	store     *genericregistry.Store
	convertor runtime.ObjectConvertor
}

var (
	_ rest.Patcher             = &StatusREST{}
	_ rest.Storage             = &StatusREST{}
	_ rest.TableConvertor      = &StatusREST{}
	_ rest.ResetFieldsStrategy = &StatusREST{}
)

// New returns an empty MPIJob.
func (r *StatusREST) New() runtime.Object { return r.store.New() }

// Destroy does nothing: the main REST owns the storage and destroys it.
func (r *StatusREST) Destroy() {}

// Get returns the whole MPIJob; patching the status needs it.
func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	sctx, cancel := storageContext(ctx)
	defer cancel()
	out, err := r.store.Get(sctx, name, options)
	return out, interpretStorageDeadline(ctx, sctx, err)
}

// Update writes the status of an existing MPIJob. A subresource never
// creates its parent, whatever the caller asks; an object too large for
// etcd is a 413.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	sctx, cancel := storageContext(ctx)
	defer cancel()
	objInfo = seenInRequestVersion(ctx, r.convertor, objInfo)
	out, created, err := r.store.Update(sctx, name, objInfo, createValidation, updateValidation, false, options)
	return out, created, interpretStorageDeadline(ctx, sctx, interpretTooLarge(err))
}

// GetResetFields is the status strategy's: spec and metadata.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// ConvertToTable prints the status subresource like the main resource.
func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}
