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
	"fmt"
	"net"
	"strings"

	"github.com/spf13/pflag"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver"
	crdoptions "k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	generatedopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/admission"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/util/openapi"
	"k8s.io/apiserver/pkg/util/webhook"
	netutils "k8s.io/utils/net"
)

const (
	// defaultEtcdPrefix keeps the peer's keys apart from mpijob-apiserver's
	// (/registry): both store kubeflow.org/mpijobs, and with one prefix on
	// one etcd they would write the same keys.
	defaultEtcdPrefix  = "/registry-crdpeer"
	forbiddenPrefix    = "/registry"
	defaultSecurePort  = 8444
	defaultBindAddress = "127.0.0.1"
	openAPITitle       = "crdpeer"
)

// options are the peer's flags: the library's serving, etcd and run options
// plus --token-auth-file, which is kube-apiserver's flag, not the library's.
type options struct {
	SecureServing *genericoptions.SecureServingOptionsWithLoopback
	Etcd          *genericoptions.EtcdOptions
	ServerRun     *genericoptions.ServerRunOptions
	TokenAuthFile string
	// CRDFile names the CRD to serve; empty serves the embedded
	// mpijob-crd.yaml.
	CRDFile string

	// crd is CRDFile (or the embedded CRD) decoded by complete.
	crd *apiextensionsv1.CustomResourceDefinition
}

func newOptions() *options {
	// The codec stores CustomResourceDefinitions as apiextensions.k8s.io/v1
	// JSON, as kube-apiserver does; custom resources get their own codec
	// (crdoptions.NewCRDRESTOptionsGetter).
	etcd := genericoptions.NewEtcdOptions(storagebackend.NewDefaultConfig(defaultEtcdPrefix,
		apiserver.Codecs.LegacyCodec(apiextensionsv1.SchemeGroupVersion)))

	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.BindPort = defaultSecurePort
	serving.BindAddress = netutils.ParseIPSloppy(defaultBindAddress)
	// No certificate directory by default: the self-signed certificate stays
	// in memory instead of landing under the working directory.
	serving.ServerCert.CertDirectory = ""

	return &options{
		SecureServing: serving,
		Etcd:          etcd,
		// Registers the kube component (binary version 1.37 and the default
		// feature gate) that ApplyTo puts on the config.
		ServerRun: genericoptions.NewServerRunOptions(),
	}
}

func (o *options) addFlags(fs *pflag.FlagSet) {
	o.SecureServing.AddFlags(fs)
	o.Etcd.AddFlags(fs)
	o.ServerRun.AddUniversalFlags(fs)
	fs.StringVar(&o.TokenAuthFile, "token-auth-file", o.TokenAuthFile,
		"File of bearer tokens in kube-apiserver's CSV format: token,user,uid,\"group1,group2\". Required.")
	fs.StringVar(&o.CRDFile, "crd-file", o.CRDFile,
		"YAML of the CustomResourceDefinition to serve, e.g. mpi-operator's kubeflow.org_mpijobs.yaml. "+
			"Empty serves the embedded kubeflow.org/v1alpha2 MPIJob CRD.")
	fs.Lookup("cert-dir").Usage = "Directory where the self-signed serving certificate is generated " +
		"(and reused on restart). Empty keeps it in memory. Ignored with --tls-cert-file."
}

func (o *options) complete() error {
	// --feature-gates and --emulated-version are parsed into the component
	// registry; Set makes them take effect.
	if err := o.ServerRun.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	if err := o.ServerRun.Complete(); err != nil {
		return err
	}
	var err error
	if o.crd, err = loadCRD(o.CRDFile); err != nil {
		return err
	}
	return o.ServerRun.DefaultAdvertiseAddress(o.SecureServing.SecureServingOptions)
}

func (o *options) validate() error {
	var errs []error
	errs = append(errs, o.SecureServing.Validate()...)
	errs = append(errs, o.Etcd.Validate()...)
	errs = append(errs, o.ServerRun.Validate()...)
	if strings.TrimRight(o.Etcd.StorageConfig.Prefix, "/") == forbiddenPrefix {
		errs = append(errs, fmt.Errorf("--etcd-prefix must not be %s: that is mpijob-apiserver's prefix, "+
			"and both servers would write the same kubeflow.org/mpijobs keys", forbiddenPrefix))
	}
	if o.TokenAuthFile == "" {
		errs = append(errs, fmt.Errorf("--token-auth-file is required: without it no client can authenticate"))
	}
	return utilerrors.NewAggregate(errs)
}

// config builds the apiextensions server configuration by hand rather than
// through RecommendedOptions, because most of those options (delegated
// authentication and authorization, the core client, admission, API
// Priority and Fairness) need a Kubernetes cluster the peer does not have.
func (o *options) config() (*apiserver.Config, error) {
	if err := o.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil,
		[]net.IP{netutils.ParseIPSloppy("127.0.0.1"), netutils.ParseIPSloppy("::1")}); err != nil {
		return nil, fmt.Errorf("creating the self-signed serving certificate: %w", err)
	}

	cfg := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	// Also sets EffectiveVersion and FeatureGate, as sample-apiserver does:
	// feature defaults then follow 1.37 (WatchList on, for example).
	if err := o.ServerRun.ApplyTo(&cfg.Config); err != nil {
		return nil, err
	}
	if err := o.SecureServing.ApplyToConfig(&cfg.Config); err != nil {
		return nil, err
	}
	// Storage of the CRDs themselves, plus the etcd health checks.
	if err := o.Etcd.ApplyTo(&cfg.Config); err != nil {
		return nil, err
	}

	authn, err := newAuthenticator(o.TokenAuthFile)
	if err != nil {
		return nil, err
	}
	cfg.Authentication.Authenticator = authn
	cfg.Authorization.Authorizer = authorizer
	// The loopback client (the apiextensions controllers and the CRD
	// installer) gets a private token in system:masters.
	genericapiserver.AuthorizeClientBearerToken(cfg.LoopbackClientConfig, &cfg.Authentication, &cfg.Authorization)

	// What the apiextensions server installs: customresourcedefinitions in
	// apiextensions.k8s.io/v1.
	cfg.MergedResourceConfig = apiserver.DefaultAPIResourceConfigSource()

	// An empty chain rather than nil: the CRD handler wraps the admission
	// chain of a terminating CRD and calls into it.
	cfg.AdmissionControl = admission.NewChainHandler()

	// The stock apiextensions-apiserver sets only OpenAPI v3; v2 is needed
	// too, or the CRD OpenAPI v2 controller never runs.
	defs := openapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(generatedopenapi.GetOpenAPIDefinitions)
	namer := openapinamer.NewDefinitionNamer(apiserver.Scheme)
	cfg.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(defs, namer)
	cfg.OpenAPIConfig.Info.Title = openAPITitle
	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(defs, namer)
	cfg.OpenAPIV3Config.Info.Title = openAPITitle

	return &apiserver.Config{
		GenericConfig: cfg,
		ExtraConfig: apiserver.ExtraConfig{
			// Custom resources in JSON under the same prefix, with the watch
			// cache at its default size, as kube-apiserver serves them.
			CRDRESTOptionsGetter: crdoptions.NewCRDRESTOptionsGetter(*o.Etcd, cfg.ResourceTransformers, cfg.StorageObjectCountTracker),
			// Only conversion webhooks use these; the MPIJob CRD has none,
			// and without a core client services resolve by DNS name.
			ServiceResolver:     webhook.NewDefaultServiceResolver(),
			AuthResolverWrapper: webhook.NewDefaultAuthenticationInfoResolverWrapper(nil, nil, cfg.LoopbackClientConfig, cfg.TracerProvider),
		},
	}, nil
}
