// Package deploy tests the deployment artifacts as a cluster operator would
// use them: it renders artifacts/deploy and artifacts/deploy/cert-manager with
// the real `kubectl kustomize`, checks the rendered objects (kinds, names,
// the APIService, probes, security, RBAC, etcd, audit policy) and that they
// fit together, and runs hack/gen-certs.sh and checks its certificates and
// Secrets with crypto/x509 and crypto/tls against those manifests.
//
// It needs kubectl ($KUBECTL_BIN or the one on PATH; v1.32 with its built-in
// kustomize is enough) and, for the certificate tests, openssl on PATH: a
// missing tool fails the tests, it does not skip them. No cluster.
package deploy
