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

package server

import (
	"context"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// standaloneAuthorizer makes standalone mode single-tenant: every
// authenticated user may do everything, and anonymous requests may only GET
// the public health and version endpoints, publicPaths (authentication
// already admits them nowhere else; this is the second lock on the same door).
var standaloneAuthorizer authorizer.Authorizer = authorizer.AuthorizerFunc(authorizeStandalone)

func authorizeStandalone(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	u := a.GetUser()
	if u == nil {
		return authorizer.DecisionNoOpinion, "no user on the request", nil
	}
	for _, g := range u.GetGroups() {
		if g == user.AllAuthenticated {
			return authorizer.DecisionAllow, "", nil
		}
	}
	if !a.IsResourceRequest() && a.GetVerb() == "get" && isPublicPath(a.GetPath()) {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionDeny, "anonymous requests may only read /livez, /readyz, /healthz and /version", nil
}

func isPublicPath(path string) bool {
	for _, p := range publicPaths {
		if p == path {
			return true
		}
	}
	return false
}
