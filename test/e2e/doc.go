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
