// Package e2e tests the built mpijob-apiserver binary as a user drives it:
// started as a subprocess on a temporary data dir, used through the real
// kubectl and curl with the admin kubeconfig the server writes.
//
// test/harness starts the binary: $MPIJOB_APISERVER_BIN when set (make test
// builds and stamps it), otherwise one it builds once; kubectl is
// $KUBECTL_BIN or the one on PATH. When $MPIJOB_APISERVER_VERSION is set,
// /version and --version must report it. (Cold starts are measured by
// hack/coldstart.sh.)
package e2e
