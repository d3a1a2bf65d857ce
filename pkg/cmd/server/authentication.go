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
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	unionauth "k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
)

// publicPaths answer without credentials, as kube-apiserver's
// system:public-info-viewer role lets anyone read them.
var publicPaths = []string{"/livez", "/readyz", "/healthz", "/version", "/version/"}

// AuthenticationOptions is the one set of authentication flags for every
// mode: client certificates and front-proxy headers come from the library's
// delegating options (which aggregated mode uses whole), bearer tokens from a
// static token file in kube-apiserver's CSV format.
type AuthenticationOptions struct {
	Delegating    *genericoptions.DelegatingAuthenticationOptions
	TokenAuthFile string

	// adminTokenFile is the data dir's admin token, accepted besides
	// TokenAuthFile in standalone mode; Options.Complete names it and Start
	// creates it.
	adminTokenFile string
}

// NewAuthenticationOptions returns the defaults.
func NewAuthenticationOptions() *AuthenticationOptions {
	return &AuthenticationOptions{Delegating: genericoptions.NewDelegatingAuthenticationOptions()}
}

// AddFlags registers --client-ca-file, the --requestheader-* flags,
// --token-auth-file and the delegation flags.
func (o *AuthenticationOptions) AddFlags(fs *pflag.FlagSet) {
	o.Delegating.AddFlags(fs)
	fs.StringVar(&o.TokenAuthFile, "token-auth-file", o.TokenAuthFile,
		"File of bearer tokens in kube-apiserver's CSV format: token,user,uid,\"group1,group2\". "+
			"The data directory's admin token is always accepted as well.")
}

// Validate reports invalid authentication flags.
func (o *AuthenticationOptions) Validate() []error {
	return o.Delegating.Validate()
}

// ApplyToStandalone sets up authentication without a cluster: client
// certificates (--client-ca-file), front-proxy headers when their CA is
// given, the admin's and --token-auth-file's tokens, and anonymous access to
// publicPaths only; any other request without credentials is a 401.
func (o *AuthenticationOptions) ApplyToStandalone(info *genericapiserver.AuthenticationInfo,
	serving *genericapiserver.SecureServingInfo) error {
	var authenticators []authenticator.Request
	for _, path := range []string{o.adminTokenFile, o.TokenAuthFile} {
		if path == "" {
			continue
		}
		tokens, err := tokenfile.NewCSV(path)
		if err != nil {
			return fmt.Errorf("reading the token file %s: %w", path, err)
		}
		authenticators = append(authenticators, bearertoken.New(tokens))
	}

	certs, err := o.certificateAuthenticator(info, serving)
	if err != nil {
		return err
	}
	if certs != nil {
		authenticators = append(authenticators, certs)
	}

	conditions := make([]apiserver.AnonymousAuthCondition, 0, len(publicPaths))
	for _, p := range publicPaths {
		conditions = append(conditions, apiserver.AnonymousAuthCondition{Path: p})
	}
	info.Authenticator = unionauth.NewFailOnError(
		group.NewAuthenticatedGroupAdder(unionauth.New(authenticators...)),
		anonymous.NewAuthenticator(conditions),
	)
	return nil
}

// certificateAuthenticator builds the x509 and request-header authenticators
// with the library's delegating factory (no TokenReview client: tokens are
// ours) and makes the TLS listener ask for client certificates.
func (o *AuthenticationOptions) certificateAuthenticator(info *genericapiserver.AuthenticationInfo,
	serving *genericapiserver.SecureServingInfo) (authenticator.Request, error) {
	cfg := authenticatorfactory.DelegatingAuthenticatorConfig{}
	if o.Delegating.ClientCert.ClientCA != "" {
		ca, err := o.Delegating.ClientCert.GetClientCAContentProvider()
		if err != nil {
			return nil, fmt.Errorf("loading --client-ca-file: %w", err)
		}
		cfg.ClientCertificateCAContentProvider = ca
		if err := info.ApplyClientCert(ca, serving); err != nil {
			return nil, err
		}
	}
	if o.Delegating.RequestHeader.ClientCAFile != "" {
		rh, err := o.Delegating.RequestHeader.ToAuthenticationRequestHeaderConfig()
		if err != nil {
			return nil, fmt.Errorf("loading --requestheader-client-ca-file: %w", err)
		}
		cfg.RequestHeaderConfig = rh
		info.RequestHeaderConfig = rh
		if err := info.ApplyClientCert(rh.CAContentProvider, serving); err != nil {
			return nil, err
		}
	}
	if cfg.ClientCertificateCAContentProvider == nil && cfg.RequestHeaderConfig == nil {
		return nil, nil
	}
	auth, _, err := cfg.New()
	return auth, err
}
