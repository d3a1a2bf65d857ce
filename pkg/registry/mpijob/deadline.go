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
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Storage calls end a little before the request does.
//
// A request's context expires at --request-timeout, the same instant the
// library's timeout filter gives up on the handler. When etcd does not
// answer (an outage), a storage call blocks until that deadline, and then
// its error and the filter race: if the handler writes first, the filter
// aborts the HTTP/2 stream and a client behind kube-apiserver gets a
// plain-text 503 instead of a Status. Ending the storage call a margin
// before the deadline lets the handler answer first, with a 504 Timeout
// Status that says what happened.
const (
	minStorageMargin = 100 * time.Millisecond
	maxStorageMargin = time.Second
)

// storageContext returns ctx with its deadline moved earlier by a tenth of
// the time left, between minStorageMargin and maxStorageMargin. A context
// without a deadline (a watch) is returned as it is.
func storageContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	left := time.Until(deadline)
	margin := min(max(left/10, minStorageMargin), maxStorageMargin)
	if margin >= left {
		margin = left / 2
	}
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// interpretStorageDeadline turns the error of a storage call that ran out of
// its shortened deadline into a 504 Timeout. Client errors (4xx) stand: they
// are answers, whenever they came.
func interpretStorageDeadline(requestCtx, storageCtx context.Context, err error) error {
	if err == nil || requestCtx.Err() != nil || !errors.Is(storageCtx.Err(), context.DeadlineExceeded) {
		return err
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code < 500 {
		return err
	}
	// No Retry-After: client-go retries a 5xx that carries one up to ten
	// times, which would turn one timed-out request into minutes of waiting.
	return apierrors.NewTimeoutError("storage did not answer before the request timeout", 0)
}
