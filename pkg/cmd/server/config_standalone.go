package server

import (
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
)

// applyStandalone configures a server without a cluster: its own token and
// client-certificate authentication, every authenticated user allowed, no
// admission chain and no API Priority and Fairness (both read their
// configuration from a cluster).
func (o *Options) applyStandalone(cfg *genericapiserver.RecommendedConfig, etcd *genericoptions.EtcdOptions) error {
	if err := etcd.ApplyTo(&cfg.Config); err != nil {
		return err
	}
	if err := o.SecureServing.ApplyToConfig(&cfg.Config); err != nil {
		return err
	}
	if err := o.Authentication.ApplyToStandalone(&cfg.Authentication, cfg.SecureServing); err != nil {
		return err
	}
	cfg.Authorization.Authorizer = standaloneAuthorizer
	// The server's own loopback client (used by post-start hooks) gets a
	// private token.
	genericapiserver.AuthorizeClientBearerToken(cfg.LoopbackClientConfig, &cfg.Authentication, &cfg.Authorization)
	if err := o.Audit.ApplyTo(&cfg.Config); err != nil {
		return err
	}
	return o.Features.ApplyTo(&cfg.Config, nil, nil)
}
