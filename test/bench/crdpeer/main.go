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

// Command crdpeer serves MPIJob kubeflow.org/v1alpha2 as a CustomResourceDefinition
// through k8s.io/apiextensions-apiserver, the code kube-apiserver uses for
// CRDs, so that benchmarks can compare mpijob-apiserver with "the same type
// served as a CRD" on the same machine and etcd.
//
// It is a standalone server: bearer tokens from --token-auth-file, every
// authenticated user allowed, no admission plugins, no API Priority and
// Fairness and no core Kubernetes client. At startup it installs the MPIJob
// CRD from the embedded mpijob-crd.yaml (or the CRD that --crd-file names,
// such as mpi-operator's kubeflow.org/v2beta1 one) and reports ready on
// /readyz only once its resources are served.
//
//	cd test/bench && go build -o crdpeer ./crdpeer
//	crdpeer --etcd-servers=http://127.0.0.1:2379 --secure-port=8444 \
//	    --cert-dir=DIR --token-auth-file=tokens.csv
//
// --etcd-prefix defaults to /registry-crdpeer so that the peer can share an
// etcd with mpijob-apiserver (/registry) without touching its keys.
package main

import (
	"errors"
	"os"

	"github.com/spf13/pflag"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/klog/v2"
)

func main() {
	// The first SIGTERM or SIGINT cancels the context (the server drains and
	// run returns); a second one exits at once.
	ctx := genericapiserver.SetupSignalContext()
	err := run(ctx, os.Args[1:])
	if errors.Is(err, pflag.ErrHelp) {
		err = nil
	}
	if err != nil {
		klog.ErrorS(err, "crdpeer failed")
	}
	klog.Flush()
	if err != nil {
		os.Exit(1)
	}
}
