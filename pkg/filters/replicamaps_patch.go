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

package filters

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	kjson "sigs.k8s.io/json"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v2beta1"
)

// Strategic merge patch and maps of structs.
//
// MPIJob has two maps whose values are structs: spec.mpiReplicaSpecs and
// status.replicaStatuses. The library's strategic merge walks Go struct
// tags and cannot step into a map value ("data type is not struct"), so
// `kubectl patch mj x -p '{"spec":{"mpiReplicaSpecs":{"Worker":{"replicas":3}}}}'`
// (kubectl's default patch type) would be a 500. No built-in Kubernetes type
// has such a map, so the library never needed to.
//
// withReplicaMapStrategicMerge rewrites such a patch before the library
// sees it: it reads the object, merges each map entry of the patch into the
// stored entry with the entry type's strategic-merge metadata (containers
// merge by name, as in a pod template), and hands the library the same patch
// with the merged map marked `$patch: replace` and the read resourceVersion
// as a precondition. Everything else (other fields, field managers,
// fieldValidation, dryRun, admission) stays the library's. If the object
// changed in between, the library answers 409 and the filter starts over,
// which is what the library's own patch loop does on a conflict.

const (
	strategicMergePatchRetries = 5
	patchDirective             = "$patch"
)

// replicaMap is a map of structs in an MPIJob, with the type of its values.
type replicaMap struct {
	path  []string
	value interface{}
}

// mergeVersion is a served version the filter merges in. A patch is merged
// in the version it is written in: another version's entry types lack
// fields (v1alpha2 has no selector in a replica status), and the merged map
// replaces the stored one.
type mergeVersion struct {
	gv   schema.GroupVersion
	maps []replicaMap
}

var mergeVersions = map[string]mergeVersion{
	v1alpha2.SchemeGroupVersion.Version: {v1alpha2.SchemeGroupVersion, []replicaMap{
		{[]string{"spec", "mpiReplicaSpecs"}, v1alpha2.ReplicaSpec{}},
		{[]string{"status", "replicaStatuses"}, v1alpha2.ReplicaStatus{}},
	}},
	v2beta1.SchemeGroupVersion.Version: {v2beta1.SchemeGroupVersion, []replicaMap{
		{[]string{"spec", "mpiReplicaSpecs"}, v2beta1.ReplicaSpec{}},
		{[]string{"status", "replicaStatuses"}, v2beta1.ReplicaStatus{}},
	}},
}

// MPIJobs is what the strategic merge filter needs from the server.
type MPIJobs struct {
	// Get reads the stored MPIJob name in the namespace of ctx.
	Get func(ctx context.Context, name string) (runtime.Object, error)
	// Convertor converts what Get returns to the version of the request,
	// the version the patch is merged in.
	Convertor runtime.ObjectConvertor
	// Serializer encodes the Status of a patch the filter refuses.
	Serializer runtime.NegotiatedSerializer
}

func withReplicaMapStrategicMerge(next http.Handler, mpijobs MPIJobs, maxBodyBytes int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		version, ok := strategicMergePatchVersion(req)
		if !ok {
			next.ServeHTTP(w, req)
			return
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, maxBodyBytes+1))
		if err != nil || int64(len(body)) > maxBodyBytes {
			// Let the handler answer as it always does (413 for a large body).
			req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), req.Body))
			next.ServeHTTP(w, req)
			return
		}
		patch := map[string]interface{}{}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(body, &patch); err != nil || !descendsIntoReplicaMap(patch, version.maps) {
			serveWithBody(next, w, req, body)
			return
		}
		info, _ := genericapirequest.RequestInfoFrom(req.Context())
		_, clientPrecondition, _ := nestedString(patch, "metadata", "resourceVersion")
		for attempt := 1; ; attempt++ {
			current, err := mpijobs.Get(genericapirequest.WithNamespace(req.Context(), info.Namespace), info.Name)
			if err != nil {
				// Not found and the like: the handler gives its usual answer.
				serveWithBody(next, w, req, body)
				return
			}
			rewritten, err := mergeReplicaMaps(patch, current, version, mpijobs.Convertor, !clientPrecondition)
			if err != nil {
				responsewriters.ErrorNegotiated(apierrors.NewBadRequest(err.Error()), mpijobs.Serializer,
					version.gv, w, req)
				return
			}
			if clientPrecondition || attempt == strategicMergePatchRetries {
				serveWithBody(next, w, req, rewritten)
				return
			}
			rec := &bufferedResponse{header: http.Header{}}
			serveWithBody(next, rec, req, rewritten)
			if rec.status != http.StatusConflict {
				rec.copyTo(w)
				return
			}
		}
	})
}

// strategicMergePatchVersion tells whether req is a strategic merge patch
// of an MPIJob or its status in a version the filter merges in, and which.
func strategicMergePatchVersion(req *http.Request) (mergeVersion, bool) {
	if req.Method != http.MethodPatch {
		return mergeVersion{}, false
	}
	mediaType, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mediaType != string(types.StrategicMergePatchType) {
		return mergeVersion{}, false
	}
	info, ok := genericapirequest.RequestInfoFrom(req.Context())
	if !ok || !info.IsResourceRequest || info.APIGroup != kubeflow.GroupName ||
		info.Resource != "mpijobs" || (info.Subresource != "" && info.Subresource != "status") {
		return mergeVersion{}, false
	}
	version, ok := mergeVersions[info.APIVersion]
	return version, ok
}

// descendsIntoReplicaMap tells whether the patch merges into an entry of a
// replica map, the one thing the library cannot do. Replacing or deleting a
// whole map or entry it handles by itself.
func descendsIntoReplicaMap(patch map[string]interface{}, maps []replicaMap) bool {
	for _, m := range maps {
		entries, ok := nestedMap(patch, m.path...)
		if !ok {
			continue
		}
		if _, directive := entries[patchDirective]; directive {
			continue
		}
		for _, v := range entries {
			if _, isMap := v.(map[string]interface{}); isMap {
				return true
			}
		}
	}
	return false
}

// mergeReplicaMaps returns the patch with every replica map merged into
// current's, as version shows it, and marked for replacement, and current's
// resourceVersion as a precondition when withPrecondition is set.
func mergeReplicaMaps(patch map[string]interface{}, current runtime.Object, version mergeVersion,
	convertor runtime.ObjectConvertor, withPrecondition bool) ([]byte, error) {
	versioned, err := convertor.ConvertToVersion(current, version.gv)
	if err != nil {
		return nil, err
	}
	stored, err := runtime.DefaultUnstructuredConverter.ToUnstructured(versioned)
	if err != nil {
		return nil, err
	}
	out := runtime.DeepCopyJSON(patch)
	for _, m := range version.maps {
		entries, ok := nestedMap(out, m.path...)
		if !ok {
			continue
		}
		if _, directive := entries[patchDirective]; directive {
			continue
		}
		meta, err := strategicpatch.NewPatchMetaFromStruct(m.value)
		if err != nil {
			return nil, err
		}
		storedEntries, storedIsMap := nestedMap(stored, m.path...)
		merged := map[string]interface{}{}
		for k, v := range storedEntries {
			merged[k] = v
		}
		for k, v := range entries {
			entryPatch, isMap := v.(map[string]interface{})
			switch {
			case v == nil:
				delete(merged, k)
			case !isMap:
				merged[k] = v // not an object: the library reports the type error
			default:
				storedEntry, _ := merged[k].(map[string]interface{})
				result, err := strategicpatch.StrategicMergeMapPatchUsingLookupPatchMeta(storedEntry, entryPatch, meta)
				if err != nil {
					return nil, err
				}
				merged[k] = map[string]interface{}(result)
			}
		}
		// With nothing stored (null), the library takes the patch's map as
		// it is, and would drop a map that carries a directive.
		if storedIsMap {
			merged[patchDirective] = "replace"
		}
		setNested(out, merged, m.path...)
	}
	if withPrecondition {
		rv := versioned.(metav1.Object).GetResourceVersion()
		setNested(out, rv, "metadata", "resourceVersion")
	}
	return kjsonMarshal(out)
}

func serveWithBody(next http.Handler, w http.ResponseWriter, req *http.Request, body []byte) {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	next.ServeHTTP(w, r)
}
