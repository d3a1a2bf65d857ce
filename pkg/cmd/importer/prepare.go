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
	"context"
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
	// job writes the object in its version. Nil when refused.
	job      writer
	warnings []string
	refusal  string
}

// writer imports one prepared object.
type writer interface {
	write(ctx context.Context, im *importer, o object) error
}

// prepared is an exported job of one version made ready to create.
type prepared[J mpiJob] struct {
	kind *kind[J]
	// job is what to create: status cleared, server-populated metadata
	// stripped.
	job J
	// exported is job with the exported status, written through /status
	// after create.
	exported J
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
	gvk := schema.FromAPIVersionAndKind(h.APIVersion, h.Kind)
	p, known := importable[gvk.GroupVersion()]
	switch {
	case gvk.Group != v1alpha2.GroupName || gvk.Kind != "MPIJob":
		o.refusal = fmt.Sprintf("apiVersion %q kind %q: only MPIJobs of %s can be imported",
			h.APIVersion, h.Kind, importableNames())
		return o
	case !known:
		// Each version has its own schema: reading one as another would
		// silently drop or misplace fields.
		o.refusal = fmt.Sprintf("apiVersion %q: this server serves no such version of MPIJob; only %s can be imported",
			h.APIVersion, importableNames())
		return o
	case h.Metadata.Name == "":
		// With only generateName, every run would create another copy.
		o.refusal = "metadata.name is empty; an import needs names to be repeatable"
		return o
	}
	p.prepare(&o, d.raw, defaultNamespace)
	return o
}

func (k *kind[J]) prepare(o *object, raw []byte, defaultNamespace string) {
	// Strict checking reports what is wrong without stopping the decode:
	// the old CRD was non-structural and kept any field, and the typed API
	// drops the ones it does not have, so the user is told which.
	job := k.newJob()
	strictErrs, err := kjson.UnmarshalStrict(raw, job)
	if err != nil {
		o.refusal = fmt.Sprintf("cannot decode as a %s MPIJob: %v", k.gv, err)
		return
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

	if ts := job.GetDeletionTimestamp(); ts != nil {
		// The exported cluster was waiting on finalizers to delete it; the
		// finalizers are kept, but a new deletion has to be asked for.
		o.warnings = append(o.warnings, fmt.Sprintf(
			"was being deleted when exported (deletionTimestamp %s); imported as a live object",
			ts.UTC().Format("2006-01-02T15:04:05Z")))
	}
	stripServerFields(job)
	if job.GetNamespace() == "" {
		job.SetNamespace(defaultNamespace)
	}
	exported := job.DeepCopyObject().(J)
	k.copyStatus(job, k.newJob())
	o.job = &prepared[J]{kind: k, job: job, exported: exported}
}

// stripServerFields clears the metadata the old cluster's API server filled
// in. Everything a user or a controller chose stays: name, namespace,
// generateName, labels, annotations (the kubectl.kubernetes.io/
// last-applied-configuration annotation too, so that client-side
// `kubectl apply` keeps computing its three-way merge after the migration),
// finalizers, and ownerReferences (user data; they name owners by the UIDs of
// the exported cluster, which match only when importing into that cluster).
func stripServerFields(m metav1.Object) {
	// A create with a resourceVersion is refused; uid, creationTimestamp
	// and generation are assigned by this server; selfLink is no longer
	// served at all.
	m.SetResourceVersion("")
	m.SetUID("")
	m.SetCreationTimestamp(metav1.Time{})
	m.SetGeneration(0)
	// An export from an old cluster may still carry the deprecated selfLink;
	// it must not be sent.
	m.SetSelfLink("")
	// managedFields record the old cluster's writers and times. Sent on a
	// create they would be taken as given, claiming writes this server never
	// saw; without them the import's field manager owns what it wrote, and
	// later appliers of the same values share ownership without conflicts.
	m.SetManagedFields(nil)
	// A create cannot start out deleted (the server clears these too).
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
}
