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

// Package apiserver assembles the MPIJob API server: its scheme, its
// configuration, and the kubeflow.org group installed on a generic server.
package apiserver

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
	"github.com/mpijob/mpijob-apiserver/pkg/encodedcache"
	"github.com/mpijob/mpijob-apiserver/pkg/filters"
	mpijobstorage "github.com/mpijob/mpijob-apiserver/pkg/registry/mpijob"
	"github.com/mpijob/mpijob-apiserver/pkg/reservedannotation"
)

// ExtraConfig holds what the MPIJob server needs beyond the generic server.
type ExtraConfig struct {
	// NoGarbageCollector is true when no garbage collector watches this
	// server (standalone mode): deletions that would wait for one are refused.
	NoGarbageCollector bool
	// EncodedListCacheBytes bounds the encoded MPIJobs that LIST answers
	// are written from; 0 disables the cache.
	EncodedListCacheBytes int64
}

// Config is the whole configuration of the server.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	ExtraConfig   ExtraConfig
}

type completedConfig struct {
	GenericConfig genericapiserver.CompletedConfig
	ExtraConfig   *ExtraConfig

	// The storage is made by Complete: the handler chain in GenericConfig
	// reads from it, and New installs it.
	mpijobs *mpijobstorage.REST
	status  *mpijobstorage.StatusREST
	scale   *mpijobstorage.ScaleREST
}

// CompletedConfig can only be made by Config.Complete, so that New never sees
// a configuration whose defaults were not filled in.
type CompletedConfig struct {
	*completedConfig
}

// Server is the running MPIJob API server.
type Server struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// Complete creates the MPIJob storage, puts the MPIJob filters, which read
// from it, into the generic handler chain, and fills in the defaults of the
// generic configuration. Like the generic Complete it changes c; call it once.
func (c *Config) Complete() (CompletedConfig, error) {
	mpijobs, status, err := mpijobstorage.NewREST(Scheme, c.GenericConfig.RESTOptionsGetter,
		mpijobstorage.Options{NoGarbageCollector: c.ExtraConfig.NoGarbageCollector})
	if err != nil {
		return CompletedConfig{}, fmt.Errorf("creating the mpijobs storage: %w", err)
	}
	mpijobstorage.PublishServedScaleKinds(c.GenericConfig.OpenAPIConfig, c.GenericConfig.OpenAPIV3Config)
	c.GenericConfig.BuildHandlerChainFunc = filters.BuildHandlerChain(c.GenericConfig.BuildHandlerChainFunc,
		filters.MPIJobs{
			Get: func(ctx context.Context, name string) (runtime.Object, error) {
				return mpijobs.Get(ctx, name, &metav1.GetOptions{})
			},
			Convertor:  Scheme,
			Serializer: Codecs,
		})
	return CompletedConfig{&completedConfig{
		GenericConfig: c.GenericConfig.Complete(),
		ExtraConfig:   &c.ExtraConfig,
		mpijobs:       mpijobs,
		status:        status,
		scale:         mpijobstorage.NewScaleREST(mpijobs),
	}}, nil
}

// The group and version priorities of discovery; the aggregated manifests'
// APIServices carry the same (v2beta1's versionPriority is 5 lower).
const (
	discoveryGroupPriority   = 1000
	discoveryVersionPriority = 15
)

// versionEnabled tells whether --runtime-config leaves gv's mpijobs on.
func (c CompletedConfig) versionEnabled(gv schema.GroupVersion) bool {
	resources := c.GenericConfig.MergedResourceConfig
	return resources == nil || resources.ResourceEnabled(gv.WithResource("mpijobs"))
}

// New builds the server and installs the kubeflow.org API group.
func (c CompletedConfig) New() (*Server, error) {
	generic, err := c.GenericConfig.New("mpijob-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	groupInfo := genericapiserver.NewDefaultAPIGroupInfo(kubeflow.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	if c.ExtraConfig.EncodedListCacheBytes > 0 {
		groupInfo.NegotiatedSerializer = encodedcache.NegotiatedSerializer(groupInfo.NegotiatedSerializer,
			encodedcache.New(c.ExtraConfig.EncodedListCacheBytes), Scheme)
	}
	// Outermost, so that the cache only ever sees MPIJobs without it.
	groupInfo.NegotiatedSerializer = reservedannotation.NegotiatedSerializer(groupInfo.NegotiatedSerializer)
	// Every enabled version serves the same storage: one etcd key per job,
	// one watch cache, and the request's version chosen only at the edges.
	var enabled []schema.GroupVersion
	for _, gv := range groupInfo.PrioritizedVersions {
		if !c.versionEnabled(gv) {
			continue
		}
		enabled = append(enabled, gv)
		groupInfo.VersionedResourcesStorageMap[gv.Version] = map[string]rest.Storage{
			"mpijobs":        c.mpijobs,
			"mpijobs/status": c.status,
			"mpijobs/scale":  c.scale,
		}
	}
	if len(enabled) == 0 {
		return &Server{GenericAPIServer: generic}, nil
	}
	// The first enabled version is the preferred one in discovery.
	groupInfo.PrioritizedVersions = enabled
	if err := generic.InstallAPIGroup(&groupInfo); err != nil {
		return nil, fmt.Errorf("installing the %s API group: %w", kubeflow.GroupName, err)
	}
	// Aggregated discovery orders versions by priority, and without one by
	// Kubernetes version order, which would put v2beta1 first and make
	// kubectl read `get mj` in it. The same priorities as the APIServices of
	// aggregated mode keep v1alpha2 first.
	for i, gv := range enabled {
		generic.AggregatedDiscoveryGroupManager.SetGroupVersionPriority(
			metav1.GroupVersion{Group: gv.Group, Version: gv.Version}, discoveryGroupPriority, discoveryVersionPriority-5*i)
	}
	return &Server{GenericAPIServer: generic}, nil
}
