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

package main

import (
	"context"
	"fmt"
	"slices"

	apiserverapi "k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	unionauth "k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"
	authz "k8s.io/apiserver/pkg/authorization/authorizer"
)

// publicPaths answer without credentials, as kube-apiserver's
// system:public-info-viewer role lets anyone read them; a benchmark harness
// polls /readyz before it has a client.
var publicPaths = []string{"/livez", "/readyz", "/healthz", "/version", "/version/"}

// newAuthenticator accepts the bearer tokens of tokenFile and anonymous
// requests to publicPaths only; anything else without a valid token is a
// 401. A token that is present but wrong fails at once instead of falling
// through to anonymous.
func newAuthenticator(tokenFile string) (authenticator.Request, error) {
	tokens, err := tokenfile.NewCSV(tokenFile)
	if err != nil {
		return nil, fmt.Errorf("reading --token-auth-file %s: %w", tokenFile, err)
	}
	conditions := make([]apiserverapi.AnonymousAuthCondition, 0, len(publicPaths))
	for _, p := range publicPaths {
		conditions = append(conditions, apiserverapi.AnonymousAuthCondition{Path: p})
	}
	return unionauth.NewFailOnError(
		group.NewAuthenticatedGroupAdder(bearertoken.New(tokens)),
		anonymous.NewAuthenticator(conditions),
	), nil
}

// authorizer lets every authenticated user do everything, as mpijob-apiserver
// standalone does for its system:masters admin, so the two servers are
// compared with the same (trivial) authorization cost. Anonymous requests may
// only read publicPaths.
var authorizer authz.Authorizer = authz.AuthorizerFunc(func(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	u := a.GetUser()
	if u != nil && slices.Contains(u.GetGroups(), user.AllAuthenticated) {
		return authz.DecisionAllow, "", nil
	}
	if !a.IsResourceRequest() && a.GetVerb() == "get" && slices.Contains(publicPaths, a.GetPath()) {
		return authz.DecisionAllow, "", nil
	}
	return authz.DecisionDeny, "anonymous requests may only read /livez, /readyz, /healthz and /version", nil
})
