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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
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
			"readable; `mpijob-apiserver migrate-storage` rewrites every object in the current one.")
}

func (o *VersionOptions) Validate() []error {
	errs := o.APIEnablement.Validate(apiserver.Scheme)
	if _, err := storageGroupVersion(o.StorageVersion); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// storageGroupVersion checks that version is a kubeflow.org version of the
// scheme.
func storageGroupVersion(version string) (schema.GroupVersion, error) {
	var known []string
	for _, gv := range apiserver.Scheme.PrioritizedVersionsForGroup(v1alpha2.GroupName) {
		if gv.Version == version {
			return gv, nil
		}
		known = append(known, gv.Version)
	}
	return schema.GroupVersion{}, fmt.Errorf("--storage-version %q is not a version of %s (known: %v)",
		version, v1alpha2.GroupName, known)
}

// ApplyTo sets which versions the server installs and the codec and
// versioner of the storage.
func (o *VersionOptions) ApplyTo(cfg *genericapiserver.Config, etcd *genericoptions.EtcdOptions) error {
	defaults := serverstorage.NewResourceConfig()
	defaults.EnableVersions(apiserver.Scheme.PrioritizedVersionsForGroup(v1alpha2.GroupName)...)
	if err := o.APIEnablement.ApplyTo(cfg, defaults, apiserver.Scheme); err != nil {
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
