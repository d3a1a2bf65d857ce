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
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestStorageContextEndsBeforeTheRequest(t *testing.T) {
	for _, left := range []time.Duration{60 * time.Second, 10 * time.Second, 500 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), left)
		sctx, scancel := storageContext(ctx)
		reqDeadline, _ := ctx.Deadline()
		storeDeadline, ok := sctx.Deadline()
		margin := reqDeadline.Sub(storeDeadline)
		if !ok || margin < minStorageMargin/2 || margin > maxStorageMargin {
			t.Errorf("with %s left the storage deadline is %s earlier, want between %s and %s", left, margin, minStorageMargin/2, maxStorageMargin)
		}
		scancel()
		cancel()
	}
	sctx, cancel := storageContext(context.Background())
	defer cancel()
	if _, ok := sctx.Deadline(); ok {
		t.Error("a context without a deadline (a watch) got one")
	}
}

func TestInterpretStorageDeadline(t *testing.T) {
	request, cancelRequest := context.WithTimeout(context.Background(), time.Hour)
	defer cancelRequest()
	expired, cancel := context.WithDeadline(request, time.Now().Add(-time.Second))
	defer cancel()
	storageErr := errors.New("context deadline exceeded")
	notFound := apierrors.NewNotFound(schema.GroupResource{Group: "kubeflow.org", Resource: "mpijobs"}, "x")

	if err := interpretStorageDeadline(request, expired, storageErr); !apierrors.IsTimeout(err) {
		t.Errorf("storage ran out of time: %v, want a 504 Timeout", err)
	}
	if err := interpretStorageDeadline(request, expired, notFound); !apierrors.IsNotFound(err) {
		t.Errorf("a 404 that came at the deadline: %v, want it kept", err)
	}
	if err := interpretStorageDeadline(request, request, storageErr); err != storageErr {
		t.Errorf("storage still had time: %v, want the error unchanged", err)
	}
	if err := interpretStorageDeadline(request, expired, nil); err != nil {
		t.Errorf("success became %v", err)
	}
}
