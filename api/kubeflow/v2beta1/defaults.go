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

package v2beta1

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// The defaults of the v0.7.0 CRD's schema, declared with +default markers on
// the types (which also put them in the OpenAPI schema) and applied by the
// generated defaulter to every v2beta1 request body (create, update, patch)
// before it is stored, so a job written here
// reads back as the CRD would return it. Only the CRD's own defaults are
// applied: mpi-operator's Go defaulter adds more (cleanPodPolicy None,
// replica counts, restart policies), but only in the operator's memory.
// Objects read from etcd are never defaulted: a job written in v1alpha2 reads
// back without these fields. As in the CRD, runPolicy.suspend is defaulted
// only when the body holds a runPolicy. An explicit empty string counts as
// unset: the typed decoder cannot tell them apart.

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}
