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

// Config builds the server configuration for standalone mode, storing in the
// etcd at etcdEndpoints and accepting, besides the flags' credentials, the
// bearer tokens of adminTokenFile.
func (o *Options) Config(etcdEndpoints []string, adminTokenFile string) (*apiserver.Config, error) {
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
	etcd.StorageConfig.Transport.ServerList = etcdEndpoints
	if err := etcd.ApplyTo(&cfg.Config); err != nil {
		return nil, err
	}
	if err := o.SecureServing.ApplyToConfig(&cfg.Config); err != nil {
		return nil, err
	}
	if err := o.Authentication.ApplyToStandalone(&cfg.Authentication, cfg.SecureServing, adminTokenFile); err != nil {
		return nil, err
	}
	cfg.Authorization.Authorizer = standaloneAuthorizer
	// The server's own loopback client (used by server-side apply's
	// OpenAPI and by post-start hooks) gets a private token.
	genericapiserver.AuthorizeClientBearerToken(cfg.LoopbackClientConfig, &cfg.Authentication, &cfg.Authorization)
	if err := o.Audit.ApplyTo(&cfg.Config); err != nil {
		return nil, err
	}
	if err := o.Features.ApplyTo(&cfg.Config, nil, nil); err != nil {
		return nil, err
	}
	return &apiserver.Config{
		GenericConfig: cfg,
		ExtraConfig:   apiserver.ExtraConfig{NoGarbageCollector: true},
	}, nil
}
