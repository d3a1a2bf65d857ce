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
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// refuseWithoutGarbageCollector returns the 400 for delete options that
// only a garbage collector can finish. Foreground and Orphan deletion put a
// finalizer (foregroundDeletion, orphan) on the object and leave its removal
// to the collector; with none running, as in standalone mode, the object
// would stay "being deleted" for ever. Refusing up front, before anything is
// written, leaves the object as it was and tells the user what works.
func refuseWithoutGarbageCollector(options *metav1.DeleteOptions) error {
	if options == nil {
		return nil
	}
	var policy metav1.DeletionPropagation
	//nolint:staticcheck // SA1019: the deprecated field is still honoured by the store.
	orphan := options.OrphanDependents
	switch {
	case options.PropagationPolicy != nil:
		policy = *options.PropagationPolicy
	case orphan != nil && *orphan:
		policy = metav1.DeletePropagationOrphan
	}
	if policy != metav1.DeletePropagationForeground && policy != metav1.DeletePropagationOrphan {
		return nil
	}
	what := fmt.Sprintf("propagationPolicy %q", policy)
	if options.PropagationPolicy == nil {
		what = "orphanDependents=true (propagationPolicy \"Orphan\")"
	}
	return apierrors.NewBadRequest(fmt.Sprintf(
		"%s is not supported by this server: it runs standalone, without a garbage collector, "+
			"so the finalizer a %s deletion waits on would never be removed and the MPIJob would never go away; "+
			"nothing was deleted. Delete with propagationPolicy=Background, or without a propagationPolicy",
		what, policy))
}
