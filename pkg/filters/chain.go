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

// Package filters holds the HTTP filters the MPIJob server adds to the
// generic handler chain of k8s.io/apiserver, and where they go in it.
package filters

import (
	"net/http"

	genericapiserver "k8s.io/apiserver/pkg/server"
)

// BuildHandlerChainFunc is the generic server's hook that builds its handler
// chain around the API handlers.
type BuildHandlerChainFunc = func(apiHandler http.Handler, c *genericapiserver.Config) http.Handler

// BuildHandlerChain wraps the generic chain builder with the MPIJob filters.
// The strategic merge filter goes between the generic filters
// (authentication, authorization, audit, limits) and the API handlers, so it
// reads objects only for requests those let through; the drain goes around
// everything, because the requests it is for are the ones the generic
// filters refused.
func BuildHandlerChain(generic BuildHandlerChainFunc, mpijobs MPIJobs) BuildHandlerChainFunc {
	return func(apiHandler http.Handler, c *genericapiserver.Config) http.Handler {
		patched := withReplicaMapStrategicMerge(apiHandler, mpijobs, c.MaxRequestBodyBytes)
		return withUnreadBodyDrained(generic(patched, c))
	}
}
