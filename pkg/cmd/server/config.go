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
	"net"

	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	netutils "k8s.io/utils/net"

	"github.com/mpijob/mpijob-apiserver/pkg/apiserver"
	generatedopenapi "github.com/mpijob/mpijob-apiserver/pkg/generated/openapi"
)

const openAPITitle = "mpijob-apiserver"

// Config builds the server configuration for the mode from completed
// options. Standalone, the data dir's admin token file must exist (Start
// makes it).
func (o *Options) Config() (*apiserver.Config, error) {
	if err := o.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil,
		[]net.IP{netutils.ParseIPSloppy("127.0.0.1"), netutils.ParseIPSloppy("::1")}); err != nil {
		return nil, fmt.Errorf("creating the self-signed serving certificate: %w", err)
	}

	cfg := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	namer := openapi.NewDefinitionNamer(apiserver.Scheme)
	cfg.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(generatedopenapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIConfig.Info.Title = openAPITitle
	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(generatedopenapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIV3Config.Info.Title = openAPITitle

	// Sets the effective version and feature gates too (the kube component
	// of the default registry, so 1.37 features such as WatchList are on).
	if err := o.ServerRun.ApplyTo(&cfg.Config); err != nil {
		return nil, err
	}
	etcd := *o.Etcd
	if err := o.Versions.ApplyTo(&cfg.Config, &etcd); err != nil {
		return nil, err
	}
	if usesTCP(etcd.StorageConfig.Transport.ServerList) && etcd.StorageConfig.Transport.EgressLookup == nil {
		etcd.StorageConfig.Transport.EgressLookup = patientEtcdDialer
	}

	var err error
	if o.Mode == ModeAggregated {
		err = o.applyAggregated(cfg, &etcd)
	} else {
		err = o.applyStandalone(cfg, &etcd)
	}
	if err != nil {
		return nil, err
	}
	return &apiserver.Config{
		GenericConfig: cfg,
		// Behind a cluster, its garbage collector finishes Foreground and
		// Orphan deletions; standalone, nothing would.
		ExtraConfig: apiserver.ExtraConfig{
			NoGarbageCollector:    o.Mode != ModeAggregated,
			EncodedListCacheBytes: int64(o.EncodedListCacheMiB) << 20,
		},
	}, nil
}
