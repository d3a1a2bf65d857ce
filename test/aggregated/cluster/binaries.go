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

package cluster

import (
	"fmt"
	"os"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// Binaries are the Kubernetes programs a cluster runs. etcd and our server
// are the harness's (harness.EtcdBinary, harness.ServerBinary).
type Binaries struct {
	KubeAPIServer         string // kube-apiserver v1.37.2
	KubeControllerManager string // kube-controller-manager v1.37.2 (optional)
	Kubectl               string // kubectl v1.37.2
}

// FindBinaries locates the binaries: $KUBE_APISERVER_BIN,
// $KUBE_CONTROLLER_MANAGER_BIN and $KUBECTL_BIN when set, else
// _output/aggregated/bin/{kube-apiserver,kube-controller-manager,kubectl}
// (test/aggregated/build.sh) under the repository root. It fails when
// kube-apiserver or kubectl is missing; kube-controller-manager is checked
// when it is started (StartControllerManager).
func FindBinaries() (Binaries, error) {
	pick := func(env, name string) (string, error) {
		if v := os.Getenv(env); v != "" {
			return v, nil
		}
		return harness.RepoPath("_output", "aggregated", "bin", name)
	}
	var b Binaries
	var err error
	if b.KubeAPIServer, err = pick("KUBE_APISERVER_BIN", "kube-apiserver"); err != nil {
		return b, err
	}
	if b.KubeControllerManager, err = pick("KUBE_CONTROLLER_MANAGER_BIN", "kube-controller-manager"); err != nil {
		return b, err
	}
	if b.Kubectl, err = pick("KUBECTL_BIN", "kubectl"); err != nil {
		return b, err
	}
	for _, p := range []string{b.KubeAPIServer, b.Kubectl} {
		if _, err := os.Stat(p); err != nil {
			return b, fmt.Errorf("cluster: %w (run test/aggregated/build.sh first)", err)
		}
	}
	return b, nil
}
