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
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/server/resourceconfig"
	serverstorage "k8s.io/apiserver/pkg/server/storage"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
	"github.com/mpijob/mpijob-apiserver/pkg/apiserver"
	"github.com/mpijob/mpijob-apiserver/pkg/storagecodec"
)

// VersionOptions choose the served versions (--runtime-config, the library's
// API-enablement flag) and the version MPIJobs are stored in.
type VersionOptions struct {
	APIEnablement  *genericoptions.APIEnablementOptions
	StorageVersion string
}

// NewVersionOptions serves every version and stores v1alpha2, so data
// written before v2beta1 was served needs no migration.
func NewVersionOptions() *VersionOptions {
	return &VersionOptions{
		APIEnablement:  genericoptions.NewAPIEnablementOptions(),
		StorageVersion: v1alpha2.SchemeGroupVersion.Version,
	}
}

func (o *VersionOptions) AddFlags(fs *pflag.FlagSet) {
	o.APIEnablement.AddFlags(fs)
	fs.StringVar(&o.StorageVersion, "storage-version", o.StorageVersion,
		"Version of kubeflow.org MPIJobs are written to etcd in: v1alpha2 or v2beta1. Objects stored in either stay "+
			"readable; after changing it on every replica, `mpijob-apiserver migrate-storage` rewrites every object "+
			"in the new one.")
}

func (o *VersionOptions) Validate() []error {
	var errs []error
	for key := range o.APIEnablement.RuntimeConfig {
		if err := checkRuntimeConfigKey(key); err != nil {
			errs = append(errs, err)
		}
	}
	// The library's own check would repeat the keys refused above, less
	// clearly; it still judges the api/... keys and the values.
	if len(errs) == 0 {
		errs = o.APIEnablement.Validate(apiserver.Scheme)
	}
	if len(errs) == 0 {
		if err := o.checkSomeVersionServed(); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := storageGroupVersion(o.StorageVersion); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// knownVersions are the versions of kubeflow.org, preferred first.
func knownVersions() []string {
	var known []string
	for _, gv := range apiserver.Scheme.PrioritizedVersionsForGroup(v1alpha2.GroupName) {
		known = append(known, gv.Version)
	}
	return known
}

// checkRuntimeConfigKey refuses a --runtime-config key that names a group
// or a version this server does not have, naming what it has.
func checkRuntimeConfigKey(key string) error {
	if strings.HasPrefix(key, "api/") {
		return nil // api/all, api/ga, api/beta, api/alpha: the library's
	}
	group, version, found := strings.Cut(key, "/")
	if !found {
		group, version = "", key // the legacy core group: "v1"
	}
	version, _, _ = strings.Cut(version, "/") // group/version/resource
	known := strings.Join(knownVersions(), ", ")
	if group != v1alpha2.GroupName {
		return fmt.Errorf("--runtime-config %q: this server has no API group %q; it serves only %s (versions %s)",
			key, group, v1alpha2.GroupName, known)
	}
	for _, v := range knownVersions() {
		if v == version {
			return nil
		}
	}
	return fmt.Errorf("--runtime-config %q: %s has no version %q (known versions: %s)",
		key, v1alpha2.GroupName, version, known)
}

// checkSomeVersionServed refuses a --runtime-config that turns off every
// version of MPIJob: such a server would serve nothing.
func (o *VersionOptions) checkSomeVersionServed() error {
	rc, err := resourceconfig.MergeAPIResourceConfigs(defaultResourceConfig(), o.APIEnablement.RuntimeConfig, apiserver.Scheme)
	if err != nil {
		return fmt.Errorf("--runtime-config: %w", err)
	}
	for _, gv := range apiserver.Scheme.PrioritizedVersionsForGroup(v1alpha2.GroupName) {
		if rc.ResourceEnabled(gv.WithResource("mpijobs")) {
			return nil
		}
	}
	return fmt.Errorf("--runtime-config turns off every version of %s (%s): at least one must be served",
		v1alpha2.GroupName, strings.Join(knownVersions(), ", "))
}

// storageGroupVersion checks that version is a kubeflow.org version of the
// scheme.
func storageGroupVersion(version string) (schema.GroupVersion, error) {
	for _, gv := range apiserver.Scheme.PrioritizedVersionsForGroup(v1alpha2.GroupName) {
		if gv.Version == version {
			return gv, nil
		}
	}
	return schema.GroupVersion{}, fmt.Errorf("--storage-version %q: %s has no such version (known versions: %s)",
		version, v1alpha2.GroupName, strings.Join(knownVersions(), ", "))
}

// defaultResourceConfig serves every version of kubeflow.org.
func defaultResourceConfig() *serverstorage.ResourceConfig {
	defaults := serverstorage.NewResourceConfig()
	defaults.EnableVersions(apiserver.Scheme.PrioritizedVersionsForGroup(v1alpha2.GroupName)...)
	return defaults
}

// ApplyTo sets which versions the server installs and the codec and
// versioner of the storage.
func (o *VersionOptions) ApplyTo(cfg *genericapiserver.Config, etcd *genericoptions.EtcdOptions) error {
	if err := o.APIEnablement.ApplyTo(cfg, defaultResourceConfig(), apiserver.Scheme); err != nil {
		return fmt.Errorf("--runtime-config: %w", err)
	}
	gv, err := storageGroupVersion(o.StorageVersion)
	if err != nil {
		return err
	}
	json, ok := runtime.SerializerInfoForMediaType(apiserver.Codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		return fmt.Errorf("no JSON serializer")
	}
	// Stored as JSON: readable with etcdctl, and JSON keeps `conditions: []`
	// distinct from null where protobuf would not.
	etcd.StorageConfig.Codec = storagecodec.New(apiserver.Scheme, json.Serializer, gv)
	etcd.StorageConfig.EncodeVersioner = runtime.NewMultiGroupVersioner(gv, schema.GroupKind{Group: gv.Group})
	return nil
}
