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
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/mpijob/mpijob-apiserver/test/harness"
)

// Operator is an upstream mpi-operator release that test/operators builds.
type Operator struct {
	// Version is the release, and the directory of its build module under
	// test/operators.
	Version string
	// Namespace is where its upstream manifests deploy its ServiceAccount;
	// the operator's leader-election lock lives there too.
	Namespace string
	// BinEnv names the variable that gives its binary's path.
	BinEnv string
	// ExtraArgs are flags it needs besides the kubeconfig, namespace and lock.
	ExtraArgs []string
}

var (
	// OperatorV070 serves v2beta1 (manifests/base of v0.7.0).
	OperatorV070 = Operator{Version: "v0.7.0", Namespace: "kubeflow", BinEnv: "MPI_OPERATOR_V070_BIN"}
	// OperatorV030 serves v1alpha2 (deploy/v1alpha2/mpi-operator.yaml of
	// v0.3.0).
	OperatorV030 = Operator{Version: "v0.3.0", Namespace: "mpi-operator", BinEnv: "MPI_OPERATOR_V030_BIN",
		ExtraArgs: []string{"--kubectl-delivery-image=mpioperator/kubectl-delivery:v0.3.0"}}
)

// User is the operator's ServiceAccount as a static-token user (add it to
// Options.Users), so that the upstream RBAC binding the ServiceAccount
// applies to it.
func (o Operator) User() User {
	return User{Name: "system:serviceaccount:" + o.Namespace + ":mpi-operator", UID: "uid-mpi-operator-" + o.Version,
		Token:  "token-mpi-operator-" + o.Version,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + o.Namespace}}
}

// UsersWithOperators is DefaultUsers plus the users of OperatorV070 and
// OperatorV030.
func UsersWithOperators() []User {
	return append(DefaultUsers(), OperatorV070.User(), OperatorV030.User())
}

// Bin is the operator's binary: $BinEnv, else
// _output/operators/bin/mpi-operator-<version> (test/operators/build.sh).
func (o Operator) Bin() (string, error) {
	bin := os.Getenv(o.BinEnv)
	if bin == "" {
		var err error
		if bin, err = harness.RepoPath("_output", "operators", "bin", "mpi-operator-"+o.Version); err != nil {
			return "", err
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("cluster: mpi-operator %s: %w (run make aggregated-bins, or set $%s)", o.Version, err, o.BinEnv)
	}
	return bin, nil
}

// ModuleDir is the directory of the github.com/kubeflow/mpi-operator module
// that test/operators/<version> pins, in the module cache (go mod download):
// its manifests and examples are read from there.
func (o Operator) ModuleDir(ctx context.Context) (string, error) {
	dir, err := harness.RepoPath("test", "operators", o.Version)
	if err != nil {
		return "", err
	}
	return harness.ModuleDir(ctx, dir, "github.com/kubeflow/mpi-operator")
}

// ApplyOperatorRBAC creates o.Namespace and applies the Namespace,
// ServiceAccount and RBAC objects of the operator's upstream manifests,
// rendered from modDir (ModuleDir), and returns them as
// "Kind/[namespace/]name".
func (c *Cluster) ApplyOperatorRBAC(ctx context.Context, o Operator, modDir string) ([]string, error) {
	var data []byte
	switch o.Version {
	case OperatorV070.Version:
		out, err := c.kubectlOK(ctx, Admin, "", "kustomize", filepath.Join(modDir, "manifests", "base"))
		if err != nil {
			return nil, err
		}
		data = []byte(out)
	case OperatorV030.Version:
		var err error
		if data, err = os.ReadFile(filepath.Join(modDir, "deploy", "v1alpha2", "mpi-operator.yaml")); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("cluster: no manifests known for mpi-operator %s", o.Version)
	}
	objs, err := DecodeObjects(data)
	if err != nil {
		return nil, err
	}
	if err := c.CreateNamespace(ctx, o.Namespace); err != nil {
		return nil, err
	}
	// Not the CRD (our server serves the resource) nor the Deployment
	// (StartOperator runs the binary).
	return c.applyRBAC(ctx, objs, "mpi-operator "+o.Version+"'s manifests")
}

// StartOperator runs the operator's binary as its ServiceAccount's user
// (which Options.Users must hold), watching namespace, with its
// leader-election lock in o.Namespace, logging to Dir/logs/mpi-operator-<version>.log.
// Its health endpoint is :8080 whatever the flags: run one operator at a
// time. Stop it with the returned process's Stop or Teardown.
func (c *Cluster) StartOperator(o Operator, namespace string, extraArgs ...string) (*harness.Process, error) {
	bin, err := o.Bin()
	if err != nil {
		return nil, err
	}
	// The operator exits at once when :8080 is taken, which a test would
	// only notice at its timeout.
	l, err := net.Listen("tcp", ":8080")
	if err != nil {
		return nil, fmt.Errorf("cluster: mpi-operator %s serves its health check on :8080, which another process holds (another operator?): %w", o.Version, err)
	}
	_ = l.Close()
	args := append([]string{
		"--kubeConfig=" + c.Kubeconfig(o.User().Name),
		"--namespace=" + namespace,
		"--lock-namespace=" + o.Namespace,
		"--v=4",
	}, o.ExtraArgs...)
	args = append(args, extraArgs...)
	// $KUBECONFIG would override --kubeConfig.
	return harness.StartProcess("mpi-operator-"+o.Version, bin,
		filepath.Join(c.Dir, "logs", "mpi-operator-"+o.Version+".log"), args, []string{"KUBECONFIG="})
}
