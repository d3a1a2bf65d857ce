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

	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/carryover"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// servedVersions are the versions whose writes the strategies tell apart.
var servedVersions = []string{v1alpha2.SchemeGroupVersion.String(), v2beta1.SchemeGroupVersion.String()}

// requestVersion is the version the client wrote in ("v1alpha2", "v2beta1"),
// or "" for a caller inside the server, which writes the hub and has nothing
// to carry over.
func requestVersion(ctx context.Context) string {
	info, ok := genericapirequest.RequestInfoFrom(ctx)
	if !ok || !info.IsResourceRequest {
		return ""
	}
	return info.APIVersion
}

// reservedAnnotationPath is reset on every write: only the conversions set
// it, so an apply configuration that holds it must not make its manager an
// owner, which would name it in managedFields.
var reservedAnnotationPath = fieldpath.MakePathOrDie("metadata", "annotations", carryover.Annotation)

// resetFieldsOfEveryVersion lists paths, which mean the same in every served
// version, as reset for each of them: server-side apply looks up the reset
// fields by the version of the request.
func resetFieldsOfEveryVersion(paths ...fieldpath.Path) map[fieldpath.APIVersion]*fieldpath.Set {
	out := make(map[fieldpath.APIVersion]*fieldpath.Set, len(servedVersions))
	for _, v := range servedVersions {
		out[fieldpath.APIVersion(v)] = fieldpath.NewSet(paths...)
	}
	return out
}
