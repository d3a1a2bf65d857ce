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
	"k8s.io/apiserver/pkg/admission"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// applyAggregated configures a server behind kube-apiserver with the
// library's recommended wiring: TokenReview and front-proxy authentication
// (CAs from the extension-apiserver-authentication ConfigMap, reloaded when
// it changes), SubjectAccessReview authorization, a core client and its
// informers, the standard admission chain (NamespaceLifecycle, webhooks,
// admission policies) and API Priority and Fairness.
func (o *Options) applyAggregated(cfg *genericapiserver.RecommendedConfig, etcd *genericoptions.EtcdOptions) error {
	recommended := &genericoptions.RecommendedOptions{
		Etcd:           etcd,
		SecureServing:  o.SecureServing,
		Authentication: o.Authentication.Delegating,
		Authorization:  o.Authorization,
		Audit:          o.Audit,
		Features:       o.Features,
		CoreAPI:        o.CoreAPI,
		Admission:      o.Admission,
		FeatureGate:    utilfeature.DefaultFeatureGate,
		ExtraAdmissionInitializers: func(*genericapiserver.RecommendedConfig) ([]admission.PluginInitializer, error) {
			return nil, nil
		},
	}
	return recommended.ApplyTo(cfg)
}
