// Package server holds the command line of mpijob-apiserver: its options, the
// configuration built from them, and Run.
package server

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	netutils "k8s.io/utils/net"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/apiserver"
	"github.com/mpijob/mpijob-apiserver/pkg/embeddedetcd"
)

const (
	// ModeStandalone serves on its own with its own authentication.
	ModeStandalone = "standalone"

	defaultDataDir     = "_data"
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

	Out io.Writer
}

// NewOptions returns the defaults of every flag.
func NewOptions(out io.Writer) *Options {
	etcd := genericoptions.NewEtcdOptions(storagebackend.NewDefaultConfig(defaultEtcdPrefix,
		apiserver.Codecs.LegacyCodec(v1alpha2.SchemeGroupVersion)))
	// Stored as kubeflow.org/v1alpha2 in JSON: readable with etcdctl, and
	// JSON keeps `conditions: []` distinct from null where protobuf would not.
	etcd.StorageConfig.EncodeVersioner = runtime.NewMultiGroupVersioner(v1alpha2.SchemeGroupVersion,
		schema.GroupKind{Group: v1alpha2.GroupName})
	etcd.DefaultStorageMediaType = runtime.ContentTypeJSON

	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.BindPort = defaultSecurePort
	serving.BindAddress = netutils.ParseIPSloppy(defaultBindAddress)

	features := genericoptions.NewFeatureOptions()
	// API Priority and Fairness needs a core cluster for its configuration
	// objects; standalone keeps the max-in-flight limits instead.
	features.EnablePriorityAndFairness = false

	return &Options{
		Mode:           ModeStandalone,
		DataDir:        defaultDataDir,
		SecureServing:  serving,
		Authentication: NewAuthenticationOptions(),
		Etcd:           etcd,
		EmbeddedEtcd:   embeddedetcd.NewOptions(),
		ServerRun:      genericoptions.NewServerRunOptions(),
		Audit:          genericoptions.NewAuditOptions(),
		Features:       features,
		Out:            out,
	}
}

// AddFlags registers every flag on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Mode, "mode", o.Mode, "How the server runs: standalone (its own endpoint and authentication).")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir,
		"Directory of the embedded etcd's data, the generated serving certificate, the admin token and admin.kubeconfig.")
	o.SecureServing.AddFlags(fs)
	o.Authentication.AddFlags(fs)
	o.Etcd.AddFlags(fs)
	o.EmbeddedEtcd.AddFlags(fs)
	o.ServerRun.AddUniversalFlags(fs)
	o.Audit.AddFlags(fs)
	o.Features.AddFlags(fs)
}

// EmbeddedEtcd tells whether the server runs its own etcd member: when no
// --etcd-servers are given.
func (o *Options) EmbeddedEtcdEnabled() bool {
	return len(o.Etcd.StorageConfig.Transport.ServerList) == 0
}

// Complete fills in values that depend on other flags.
func (o *Options) Complete() error {
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	o.DataDir = abs
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
		o.SecureServing.ServerCert.CertDirectory = filepath.Join(o.DataDir, "certs")
	}
	return nil
}

// Validate reports every flag value that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.Mode != ModeStandalone {
		errs = append(errs, fmt.Errorf("--mode must be %q, got %q", ModeStandalone, o.Mode))
	}
	if o.DataDir == "" {
		errs = append(errs, fmt.Errorf("--data-dir must not be empty"))
	}
	errs = append(errs, o.SecureServing.Validate()...)
	errs = append(errs, o.Authentication.Validate()...)
	errs = append(errs, o.validateEtcd()...)
	errs = append(errs, o.ServerRun.Validate()...)
	errs = append(errs, o.Audit.Validate()...)
	errs = append(errs, o.Features.Validate()...)
	if o.Features.EnablePriorityAndFairness {
		errs = append(errs, fmt.Errorf("--enable-priority-and-fairness needs a Kubernetes cluster for its configuration and is not available in standalone mode; the --max-requests-inflight limits apply instead"))
	}
	return utilerrors.NewAggregate(errs)
}

// validateEtcd validates the etcd flags as if the embedded member's endpoint
// were already filled in, because it only exists once the member runs.
func (o *Options) validateEtcd() []error {
	if !o.EmbeddedEtcdEnabled() {
		return o.Etcd.Validate()
	}
	probe := *o.Etcd
	probe.StorageConfig.Transport.ServerList = []string{"unix:///embedded"}
	errs := probe.Validate()
	return append(errs, o.EmbeddedEtcd.Validate()...)
}
