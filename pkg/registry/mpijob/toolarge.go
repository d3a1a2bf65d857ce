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
	"errors"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A write too large for etcd reaches the registry as a bare storage error,
// which the request handlers would turn into a 500. It is the client's
// object that is too big, so it becomes a 413 here. Two errors mean it:
//   - etcd's own refusal of a request above its --max-request-bytes
//     (rpctypes.ErrRequestTooLarge, "etcdserver: request is too large");
//   - the etcd client's refusal to send a message above its send limit
//     (2 MiB by default) or the server's gRPC receive limit: a gRPC
//     ResourceExhausted "trying to send message larger than max".

// entityTooLargeError is the 413 a client sees. It also keeps the shape of
// the storage error it replaces (Code()/Error() of an etcd error, or
// GRPCStatus() of a gRPC one): the create, update and patch handlers look
// for exactly that shape to retry once without managedFields, which may be
// what made the object too large.
type entityTooLargeError struct {
	status *apierrors.StatusError
	cause  error
}

func (e *entityTooLargeError) Error() string         { return e.cause.Error() }
func (e *entityTooLargeError) Unwrap() error         { return e.cause }
func (e *entityTooLargeError) Status() metav1.Status { return e.status.Status() }

// Code is the etcd error code of the cause, if it is an etcd error.
func (e *entityTooLargeError) Code() codes.Code {
	var etcdErr rpctypes.EtcdError
	if errors.As(e.cause, &etcdErr) {
		return etcdErr.Code()
	}
	return status.Code(e.cause)
}

// GRPCStatus is the gRPC status of the cause.
func (e *entityTooLargeError) GRPCStatus() *status.Status {
	s, _ := status.FromError(e.cause)
	return s
}

// interpretTooLarge returns err as a 413 when it says the object was too
// large to store, and err unchanged otherwise.
func interpretTooLarge(err error) error {
	if err == nil || !isTooLarge(err) {
		return err
	}
	return &entityTooLargeError{
		status: apierrors.NewRequestEntityTooLargeError("the object is too large to store: " + err.Error()),
		cause:  err,
	}
}

func isTooLarge(err error) bool {
	// The etcd client translates the server's gRPC error into this value.
	if errors.Is(err, rpctypes.ErrRequestTooLarge) {
		return true
	}
	s, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch s.Code() {
	case codes.InvalidArgument: // the same refusal, untranslated
		return s.Message() == rpctypes.ErrRequestTooLarge.Error()
	case codes.ResourceExhausted:
		return strings.Contains(s.Message(), "trying to send message larger than max")
	}
	return false
}
