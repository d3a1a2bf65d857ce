// Package e2e tests the built mpijob-apiserver binary as a user drives it:
// started as a subprocess on a temporary data dir, used through the real
// kubectl and curl with the admin kubeconfig the server writes.
//
// The binary is $MPIJOB_APISERVER_BIN when set (make test builds and stamps
// it); otherwise the tests build ./cmd/mpijob-apiserver once. When
// $MPIJOB_APISERVER_VERSION is set, /version and --version must report it.
// $MPIJOB_E2E_COLD_STARTS=N additionally measures N cold starts and logs
// their median.
package e2e
