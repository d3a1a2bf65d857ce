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

// Package server holds the command line of mpijob-apiserver: its options, the
// configuration built from them, and Run.
package server

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	netutils "k8s.io/utils/net"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
	"github.com/mpijob/mpijob-apiserver/pkg/embeddedetcd"
)

const (
	// ModeStandalone serves on its own with its own authentication.
	ModeStandalone = "standalone"
	// ModeAggregated serves behind kube-apiserver as an aggregated API: the
	// cluster authenticates and authorizes, admission runs as in the cluster.
	ModeAggregated = "aggregated"

	defaultEtcdPrefix  = "/registry"
	defaultSecurePort  = 8443
	defaultBindAddress = "127.0.0.1"
)

// Options are every flag of the server.
type Options struct {
	Mode    string
	DataDir string

	SecureServing  *genericoptions.SecureServingOptionsWithLoopback
	Authentication *AuthenticationOptions
	Etcd           *genericoptions.EtcdOptions
	EmbeddedEtcd   *embeddedetcd.Options
	ServerRun      *genericoptions.ServerRunOptions
	Audit          *genericoptions.AuditOptions
	Features       *genericoptions.FeatureOptions
	Versions       *VersionOptions

	// Used in aggregated mode only: SubjectAccessReview authorization, the
	// core client (admission, API Priority and Fairness) and admission.
	Authorization *genericoptions.DelegatingAuthorizationOptions
	CoreAPI       *genericoptions.CoreAPIOptions
	Admission     *genericoptions.AdmissionOptions

	// EncodedListCacheMiB bounds the cache of encoded MPIJobs that LISTs
	// are written from; 0 turns it off.
	EncodedListCacheMiB int

	Out io.Writer

	// embeddedEtcd is set by Complete when the server runs its own etcd
	// member; Etcd's server list then holds that member's endpoint.
	embeddedEtcd bool

	// flags remembers which flags were given, for defaults that depend on
	// the mode.
	flags *pflag.FlagSet
}

// NewOptions returns the defaults of every flag.
func NewOptions(out io.Writer) *Options {
	// The codec is set by Versions.ApplyTo, once the storage version is known.
	etcd := genericoptions.NewEtcdOptions(storagebackend.NewDefaultConfig(defaultEtcdPrefix, nil))
	etcd.DefaultStorageMediaType = runtime.ContentTypeJSON

	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.BindPort = defaultSecurePort
	serving.BindAddress = netutils.ParseIPSloppy(defaultBindAddress)

	// An aggregated server's client is kube-apiserver's proxy, which
	// multiplexes many requests, watches among them, onto one HTTP/2
	// connection.
	serving.HTTP2MaxStreamsPerConnection = 1000

	// The embedded etcd must take every body the generic server accepts.
	run := genericoptions.NewServerRunOptions()

	return &Options{
		Mode:           ModeStandalone,
		DataDir:        datadir.DefaultDir,
		SecureServing:  serving,
		Authentication: NewAuthenticationOptions(),
		Etcd:           etcd,
		EmbeddedEtcd:   embeddedetcd.NewOptions(run.MaxRequestBodyBytes),
		ServerRun:      run,
		Audit:          genericoptions.NewAuditOptions(),
		Features:       newFeatureOptions(),
		Versions:       NewVersionOptions(),
		Authorization:  genericoptions.NewDelegatingAuthorizationOptions(),
		CoreAPI:        genericoptions.NewCoreAPIOptions(),
		Admission:      genericoptions.NewAdmissionOptions(),
		// Room for the JSON and protobuf of about 50,000 seed-shaped MPIJobs.
		EncodedListCacheMiB: 256,
		Out:                 out,
	}
}

// AddFlags registers every flag on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.flags = fs
	fs.StringVar(&o.Mode, "mode", o.Mode, "How the server runs: standalone (its own endpoint, authentication and, "+
		"unless --etcd-servers is given, embedded etcd) or aggregated (behind kube-apiserver through an APIService, "+
		"with delegated authentication and authorization, admission, and an external etcd).")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir,
		"Directory of the embedded etcd's data, the generated serving certificate, the admin token and admin.kubeconfig.")
	fs.IntVar(&o.EncodedListCacheMiB, "encoded-list-cache-size", o.EncodedListCacheMiB,
		"MiB of encoded MPIJobs (JSON and protobuf, one per object and resourceVersion) that LIST answers are written from "+
			"instead of encoding each object again. 0 disables the cache.")
	o.SecureServing.AddFlags(fs)
	o.Authentication.AddFlags(fs)
	o.Etcd.AddFlags(fs)
	o.EmbeddedEtcd.AddFlags(fs)
	o.ServerRun.AddUniversalFlags(fs)
	o.Audit.AddFlags(fs)
	o.Features.AddFlags(fs)
	o.Versions.AddFlags(fs)
	o.Authorization.AddFlags(fs)
	o.CoreAPI.AddFlags(fs)
	o.Admission.AddFlags(fs)
}

func (o *Options) flagGiven(name string) bool {
	return o.flags != nil && o.flags.Changed(name)
}

// EmbeddedEtcdEnabled tells whether the server runs its own etcd member: in
// standalone mode when no --etcd-servers are given. Complete decides it.
func (o *Options) EmbeddedEtcdEnabled() bool { return o.embeddedEtcd }

// Complete fills in values that depend on other flags, among them the
// embedded etcd's endpoint and the admin token file in the data dir.
func (o *Options) Complete() error {
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	o.DataDir = abs
	layout := datadir.New(o.DataDir)
	// The body limit is no flag, but code may have changed it since NewOptions.
	o.EmbeddedEtcd.APIBodyLimit = o.ServerRun.MaxRequestBodyBytes
	if o.Mode == ModeStandalone {
		// The member's endpoint is known before it runs, so that the etcd
		// options are complete and validated like given ones. A second
		// Complete sees the filled-in list and keeps the member.
		servers := &o.Etcd.StorageConfig.Transport.ServerList
		if o.embeddedEtcd || len(*servers) == 0 {
			o.embeddedEtcd = true
			*servers = []string{layout.EtcdClientURL()}
		}
		o.Authentication.adminTokenFile = layout.AdminTokenFile()
	}
	// API Priority and Fairness reads its configuration from the cluster:
	// on by default behind kube-apiserver, off standalone, where the
	// max-in-flight limits apply instead.
	if !o.flagGiven("enable-priority-and-fairness") {
		o.Features.EnablePriorityAndFairness = o.Mode == ModeAggregated
	}
	// --feature-gates and --emulated-version are parsed into the component
	// registry; Set makes them take effect.
	if err := o.ServerRun.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	if err := o.ServerRun.Complete(); err != nil {
		return err
	}
	if err := o.ServerRun.DefaultAdvertiseAddress(o.SecureServing.SecureServingOptions); err != nil {
		return err
	}
	// Self-signed serving certificates go to the data dir, not to
	// ./apiserver.local.config under whatever the working directory is.
	if o.SecureServing.ServerCert.CertDirectory == "" || o.SecureServing.ServerCert.CertDirectory == "apiserver.local.config/certificates" {
		o.SecureServing.ServerCert.CertDirectory = layout.CertDir()
	}
	return nil
}

// Validate reports every flag value that cannot work.
func (o *Options) Validate() error {
	var errs []error
	switch o.Mode {
	case ModeStandalone:
		errs = append(errs, o.validateStandalone()...)
	case ModeAggregated:
		if len(o.Etcd.StorageConfig.Transport.ServerList) == 0 {
			errs = append(errs, fmt.Errorf("--mode=aggregated needs --etcd-servers: replicas share an external etcd cluster"))
		}
	default:
		errs = append(errs, fmt.Errorf("--mode must be %q or %q, got %q", ModeStandalone, ModeAggregated, o.Mode))
	}
	if o.DataDir == "" {
		errs = append(errs, fmt.Errorf("--data-dir must not be empty"))
	}
	if o.EncodedListCacheMiB < 0 {
		errs = append(errs, fmt.Errorf("--encoded-list-cache-size must be 0 (off) or more MiB, got %d", o.EncodedListCacheMiB))
	}
	errs = append(errs, o.SecureServing.Validate()...)
	// The library takes 0 as "serve no HTTPS", which would leave this server
	// with no endpoint at all.
	if o.SecureServing.BindPort == 0 && o.SecureServing.Listener == nil {
		errs = append(errs, fmt.Errorf("--secure-port must be a port number, not 0: the server has no other endpoint"))
	}
	errs = append(errs, o.Authentication.Validate()...)
	errs = append(errs, o.Authorization.Validate()...)
	errs = append(errs, o.CoreAPI.Validate()...)
	errs = append(errs, o.Admission.Validate()...)
	errs = append(errs, o.validateEtcd()...)
	errs = append(errs, o.ServerRun.Validate()...)
	errs = append(errs, o.Audit.Validate()...)
	errs = append(errs, o.Features.Validate()...)
	errs = append(errs, o.Versions.Validate()...)
	return utilerrors.NewAggregate(errs)
}

// validateEtcd validates the etcd flags, and the embedded member's when it
// runs.
func (o *Options) validateEtcd() []error {
	errs := o.Etcd.Validate()
	if o.embeddedEtcd {
		errs = append(errs, o.EmbeddedEtcd.Validate()...)
	}
	return errs
}

// validateStandalone refuses the flags that only make sense with a cluster.
func (o *Options) validateStandalone() []error {
	var errs []error
	if o.Features.EnablePriorityAndFairness {
		errs = append(errs, fmt.Errorf("--enable-priority-and-fairness needs a Kubernetes cluster for its configuration and is not available in standalone mode; the --max-requests-inflight limits apply instead"))
	}
	for flag, value := range map[string]string{
		"authentication-kubeconfig": o.Authentication.Delegating.RemoteKubeConfigFile,
		"authorization-kubeconfig":  o.Authorization.RemoteKubeConfigFile,
		"kubeconfig":                o.CoreAPI.CoreAPIKubeconfigPath,
	} {
		if value != "" {
			errs = append(errs, fmt.Errorf("--%s needs a Kubernetes cluster and applies to --mode=aggregated only", flag))
		}
	}
	for _, name := range []string{"enable-admission-plugins", "disable-admission-plugins", "admission-control-config-file"} {
		if o.flagGiven(name) {
			errs = append(errs, fmt.Errorf("--%s needs a Kubernetes cluster and applies to --mode=aggregated only", name))
		}
	}
	return errs
}

// newFeatureOptions starts with API Priority and Fairness off, as standalone
// mode needs; Complete turns it on for aggregated mode unless the flag says
// otherwise.
func newFeatureOptions() *genericoptions.FeatureOptions {
	f := genericoptions.NewFeatureOptions()
	f.EnablePriorityAndFairness = false
	return f
}
