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

	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

// importer writes prepared objects one at a time and reports each.
type importer struct {
	client       clientset.Interface
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
	return o.job.write(ctx, im, o)
}

func (p *prepared[J]) write(ctx context.Context, im *importer, o object) error {
	jobs := p.kind.client(im.client, p.job.GetNamespace())
	created, err := jobs.Create(ctx, p.job, metav1.CreateOptions{
		DryRun:       im.dryRunOption(),
		FieldManager: im.fieldManager,
		// The typed client sends only fields it knows; should the server
		// know fewer, refusing beats silently dropping them.
		FieldValidation: metav1.FieldValidationStrict,
	})
	switch {
	case apierrors.IsAlreadyExists(err):
		return p.compare(ctx, im, o)
	case err != nil:
		return im.refuseOrFail(o, "", err)
	}
	// In a dry run nothing was created, so the status has nowhere to go.
	if !p.hasStatus(p.exported) || im.dryRun {
		im.report(o, &im.counts.created, "created", "")
		return nil
	}
	// The status subresource is the only way to write status. Sending the
	// created object's resourceVersion means a controller that wrote status
	// in between is not overwritten: that is a conflict, reported.
	p.kind.copyStatus(created, p.exported)
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
func (p *prepared[J]) compare(ctx context.Context, im *importer, o object) error {
	jobs := p.kind.client(im.client, p.job.GetNamespace())
	live, err := jobs.Get(ctx, p.job.GetName(), metav1.GetOptions{})
	if err != nil {
		return im.refuseOrFail(o, "exists, but reading it failed: ", err)
	}
	// The export is compared as creating it would have stored it: with the
	// defaults of its version, which an export of a CRD already holds but a
	// hand-written file may not.
	want := p.exported.DeepCopyObject().(J)
	defaulter.Default(want)
	// Semantic equality: quantities by value (cpu 1 equals "1"), times by
	// instant, nil maps and slices equal to empty ones.
	eq := equality.Semantic.DeepEqual
	var diffs []string
	for _, f := range []struct {
		name       string
		live, want any
	}{
		{"spec", p.kind.spec(live), p.kind.spec(want)},
		{"labels", live.GetLabels(), want.GetLabels()},
		{"annotations", live.GetAnnotations(), want.GetAnnotations()},
		{"ownerReferences", live.GetOwnerReferences(), want.GetOwnerReferences()},
		{"finalizers", live.GetFinalizers(), want.GetFinalizers()},
	} {
		if !eq(f.live, f.want) {
			diffs = append(diffs, f.name)
		}
	}
	// An export without status asks for no status, so whatever status the
	// server has by now is no difference.
	statusDiffers := p.hasStatus(want) && !eq(p.kind.status(live), p.kind.status(want))
	switch {
	case len(diffs) == 0 && !statusDiffers:
		im.report(o, &im.counts.unchanged, "unchanged", "")
	case len(diffs) == 0 && !p.hasStatus(live):
		// Everything but the status matches and nothing has written a
		// status yet: an earlier import stopped between create and status
		// write. Finishing it clobbers nothing.
		p.kind.copyStatus(live, want)
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

func (p *prepared[J]) hasStatus(job J) bool {
	return !equality.Semantic.DeepEqual(p.kind.status(job), p.kind.status(p.kind.newJob()))
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
