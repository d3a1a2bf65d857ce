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

// Package deploy tests the deployment artifacts as a cluster operator would
// use them: it renders artifacts/deploy, artifacts/deploy/cert-manager and
// artifacts/mpi-operator with the real `kubectl kustomize`, checks the
// rendered objects (kinds, names, the APIService, probes, security, RBAC,
// etcd, audit policy) and that they fit together, compares the mpi-operator
// overlay with upstream v0.7.0's own manifests, and runs hack/gen-certs.sh
// and checks its certificates and Secrets with crypto/x509 and crypto/tls
// against those manifests.
//
// It needs kubectl ($KUBECTL_BIN or the one on PATH; v1.32 with its built-in
// kustomize is enough), for the certificate tests openssl on PATH, and for
// the mpi-operator tests go on PATH and the module github.com/kubeflow/mpi-operator
// v0.7.0 in the module cache or from the module proxy (`go mod download` in
// test/operators/v0.7.0): a missing tool fails the tests, it does not skip
// them. No cluster.
package deploy
