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
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	kubeflowclient "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned/typed/kubeflow/v1alpha2"
)

// importer writes prepared objects one at a time and reports each.
type importer struct {
	client       kubeflowclient.KubeflowV1alpha2Interface
	out, errOut  io.Writer
	dryRun       bool
	fieldManager string
	warnings     *warningCollector
	counts       counts
}

// importOne imports one object. It returns an error only when going on is
// pointless (no connection, bad credentials, an overloaded server): such an
// error is not about this object and would repeat for every other one. The
// import is repeatable, so the user runs it again once that is fixed.
func (im *importer) importOne(ctx context.Context, o object) error {
	if o.refusal != "" {
		im.report(o, &im.counts.refused, "refused", o.refusal)
		return nil
	}
	jobs := im.client.MPIJobs(o.job.Namespace)
	created, err := jobs.Create(ctx, o.job, metav1.CreateOptions{
		DryRun:       im.dryRunOption(),
		FieldManager: im.fieldManager,
		// The typed client sends only fields it knows; should the server
		// know fewer, refusing beats silently dropping them.
		FieldValidation: metav1.FieldValidationStrict,
	})
	switch {
	case apierrors.IsAlreadyExists(err):
		return im.compare(ctx, o)
	case err != nil:
		return im.refuseOrFail(o, "", err)
	}
	// In a dry run nothing was created, so the status has nowhere to go.
	if !hasStatus(o.status) || im.dryRun {
		im.report(o, &im.counts.created, "created", "")
		return nil
	}
	// The status subresource is the only way to write status. Sending the
	// created object's resourceVersion means a controller that wrote status
	// in between is not overwritten: that is a conflict, reported.
	created.Status = o.status
	if _, err := jobs.UpdateStatus(ctx, created, im.updateOptions()); err != nil {
		return im.refuseOrFail(o, "created, but its status was not written (importing again writes it): ", err)
	}
	im.report(o, &im.counts.created, "created", "")
	return nil
}

// compare decides about an object that already exists. Import is meant for
// a server that holds no MPIJobs yet, right after the migration; an existing
// object that differs was written since (by a user or the operator) and is
// newer than the export, so it is reported and never overwritten.
func (im *importer) compare(ctx context.Context, o object) error {
	jobs := im.client.MPIJobs(o.job.Namespace)
	live, err := jobs.Get(ctx, o.job.Name, metav1.GetOptions{})
	if err != nil {
		return im.refuseOrFail(o, "exists, but reading it failed: ", err)
	}
	// Semantic equality: quantities by value (cpu 1 equals "1"), times by
	// instant, nil maps and slices equal to empty ones.
	eq := equality.Semantic.DeepEqual
	var diffs []string
	for _, f := range []struct {
		name       string
		live, want any
	}{
		{"spec", live.Spec, o.job.Spec},
		{"labels", live.Labels, o.job.Labels},
		{"annotations", live.Annotations, o.job.Annotations},
		{"ownerReferences", live.OwnerReferences, o.job.OwnerReferences},
		{"finalizers", live.Finalizers, o.job.Finalizers},
	} {
		if !eq(f.live, f.want) {
			diffs = append(diffs, f.name)
		}
	}
	// An export without status asks for no status, so whatever status the
	// server has by now is no difference.
	statusDiffers := hasStatus(o.status) && !eq(live.Status, o.status)
	switch {
	case len(diffs) == 0 && !statusDiffers:
		im.report(o, &im.counts.unchanged, "unchanged", "")
	case len(diffs) == 0 && !hasStatus(live.Status):
		// Everything but the status matches and nothing has written a
		// status yet: an earlier import stopped between create and status
		// write. Finishing it clobbers nothing.
		live.Status = o.status
		if _, err := jobs.UpdateStatus(ctx, live, im.updateOptions()); err != nil {
			return im.refuseOrFail(o, "exists without status, and its status was not written: ", err)
		}
		im.report(o, &im.counts.statusWritten, "status written", "")
	default:
		if statusDiffers {
			diffs = append(diffs, "status")
		}
		im.report(o, &im.counts.differ, "exists, differs",
			strings.Join(diffs, ", ")+" differ; not overwritten")
	}
	return nil
}

// refuseOrFail reports an API error about this object as a refusal with the
// server's message, and returns errors that are not about it.
func (im *importer) refuseOrFail(o object, prefix string, err error) error {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		im.flushWarnings(o)
		return fmt.Errorf("%s: %w", o.key, err)
	}
	switch code := status.Status().Code; {
	case code == http.StatusUnauthorized, code == http.StatusTooManyRequests, code >= 500:
		im.flushWarnings(o)
		return fmt.Errorf("%s: %w", o.key, err)
	}
	im.report(o, &im.counts.refused, "refused", prefix+err.Error())
	return nil
}

func (im *importer) dryRunOption() []string {
	if im.dryRun {
		return []string{metav1.DryRunAll}
	}
	return nil
}

func (im *importer) updateOptions() metav1.UpdateOptions {
	return metav1.UpdateOptions{
		DryRun:          im.dryRunOption(),
		FieldManager:    im.fieldManager,
		FieldValidation: metav1.FieldValidationStrict,
	}
}

func hasStatus(s v1alpha2.JobStatus) bool {
	return !equality.Semantic.DeepEqual(s, v1alpha2.JobStatus{})
}
