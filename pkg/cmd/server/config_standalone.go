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
