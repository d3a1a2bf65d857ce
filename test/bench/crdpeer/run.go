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
	"context"
	"flag"
	"fmt"

	"github.com/spf13/pflag"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/klog/v2"
)

// run parses args, starts the peer and serves until ctx is cancelled. It is
// main without the process around it, so tests can run the peer in-process.
func run(ctx context.Context, args []string) error {
	o := newOptions()
	fs := pflag.NewFlagSet("crdpeer", pflag.ContinueOnError)
	o.addFlags(fs)
	// klog logs to stderr by default; -v raises its verbosity.
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	fs.AddGoFlag(klogFlags.Lookup("v"))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.complete(); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	cfg, err := o.config()
	if err != nil {
		return err
	}
	server, err := newServer(cfg, o.crd)
	if err != nil {
		return err
	}
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// newServer builds the apiextensions server and adds what a peer needs on
// top of it: /apis discovery, the CRD and the readiness that waits for it.
func newServer(cfg *apiserver.Config, crd *apiextensionsv1.CustomResourceDefinition) (*apiserver.CustomResourceDefinitions, error) {
	completed := cfg.Complete()
	// Complete turns discovery off because in kube-apiserver the aggregator
	// in front serves /apis. The peer has no aggregator, so the server serves
	// /apis itself: the aggregated document already gets the CRD groups from
	// the apiextensions discovery controller, the unaggregated list gets them
	// from legacyDiscovery below.
	completed.GenericConfig.EnableDiscovery = true
	s, err := completed.New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}

	crds := s.Informers.Apiextensions().V1().CustomResourceDefinitions()
	if err := watchLegacyDiscovery(crds, s.GenericAPIServer.DiscoveryGroupManager); err != nil {
		return nil, err
	}

	installer := newCRDInstaller(crd)
	if err := s.GenericAPIServer.AddReadyzChecks(installer.readyzCheck()); err != nil {
		return nil, err
	}
	// A post-start hook runs once the server listens, so the loopback client
	// reaches it; the install itself runs in the background and retries,
	// because a failing hook would end the process.
	err = s.GenericAPIServer.AddPostStartHook("crdpeer-install-mpijob-crd", func(hc genericapiserver.PostStartHookContext) error {
		go installer.run(hc.Context, hc.LoopbackClientConfig)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}
