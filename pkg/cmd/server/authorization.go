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
