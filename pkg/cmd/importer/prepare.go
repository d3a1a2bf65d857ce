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

package importer

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

// object is one input object made ready to create, or the reason it cannot
// be imported.
type object struct {
	// key names the object in messages: namespace/name, or where it is in
	// the input when it has no name.
	key string
	// job is what to create: status cleared, server-populated metadata
	// stripped. Nil when refused.
	job *v1alpha2.MPIJob
	// status is the exported status, written through /status after create.
	status   v1alpha2.JobStatus
	warnings []string
	refusal  string
}

// prepare decodes one exported object into what import creates.
func prepare(d document, defaultNamespace string) object {
	var h struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	o := object{key: d.source}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(d.raw, &h); err != nil {
		o.refusal = fmt.Sprintf("cannot decode: %v", err)
		return o
	}
	if h.Metadata.Name != "" {
		ns := h.Metadata.Namespace
		if ns == "" {
			ns = defaultNamespace
		}
		o.key = ns + "/" + h.Metadata.Name
	}
	want := v1alpha2.SchemeGroupVersion.WithKind("MPIJob")
	if gvk := schema.FromAPIVersionAndKind(h.APIVersion, h.Kind); gvk != want {
		o.refusal = fmt.Sprintf("apiVersion %q kind %q: only %s %s objects can be imported",
			h.APIVersion, h.Kind, want.GroupVersion(), want.Kind)
		if gvk.Group == want.Group && gvk.Kind == want.Kind {
			o.refusal += "; this server serves no other version of MPIJob, whose schemas differ"
		}
		return o
	}
	if h.Metadata.Name == "" {
		// With only generateName, every run would create another copy.
		o.refusal = "metadata.name is empty; an import needs names to be repeatable"
		return o
	}

	// Strict checking reports what is wrong without stopping the decode:
	// the old CRD was non-structural and kept any field, and the typed API
	// drops the ones it does not have, so the user is told which.
	job := &v1alpha2.MPIJob{}
	strictErrs, err := kjson.UnmarshalStrict(d.raw, job)
	if err != nil {
		o.refusal = fmt.Sprintf("cannot decode as a %s MPIJob: %v", want.GroupVersion(), err)
		return o
	}
	for _, e := range strictErrs {
		msg := e.Error()
		if strings.HasPrefix(msg, "unknown field") {
			msg += " is dropped: the typed API has no such field"
		} else {
			msg += ": the last value is used"
		}
		o.warnings = append(o.warnings, msg)
	}

	if job.DeletionTimestamp != nil {
		// The exported cluster was waiting on finalizers to delete it; the
		// finalizers are kept, but a new deletion has to be asked for.
		o.warnings = append(o.warnings, fmt.Sprintf(
			"was being deleted when exported (deletionTimestamp %s); imported as a live object",
			job.DeletionTimestamp.UTC().Format("2006-01-02T15:04:05Z")))
	}
	stripServerFields(job)
	if job.Namespace == "" {
		job.Namespace = defaultNamespace
	}
	o.status, job.Status = job.Status, v1alpha2.JobStatus{}
	o.job = job
	return o
}

// stripServerFields clears the metadata the old cluster's API server filled
// in. Everything a user or a controller chose stays: name, namespace,
// generateName, labels, annotations (the kubectl.kubernetes.io/
// last-applied-configuration annotation too, so that client-side
// `kubectl apply` keeps computing its three-way merge after the migration),
// finalizers, and ownerReferences (user data; they name owners by the UIDs of
// the exported cluster, which match only when importing into that cluster).
func stripServerFields(job *v1alpha2.MPIJob) {
	m := &job.ObjectMeta
	// A create with a resourceVersion is refused; uid, creationTimestamp
	// and generation are assigned by this server; selfLink is no longer
	// served at all.
	m.ResourceVersion = ""
	m.UID = ""
	m.CreationTimestamp = metav1.Time{}
	m.Generation = 0
	m.SelfLink = "" //nolint:staticcheck // SA1019: an export from an old cluster may still carry the deprecated field; it must not be sent
	// managedFields record the old cluster's writers and times. Sent on a
	// create they would be taken as given, claiming writes this server never
	// saw; without them the import's field manager owns what it wrote, and
	// later appliers of the same values share ownership without conflicts.
	m.ManagedFields = nil
	// A create cannot start out deleted (the server clears these too).
	m.DeletionTimestamp = nil
	m.DeletionGracePeriodSeconds = nil
}
