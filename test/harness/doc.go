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

// Package harness starts what the tests run as separate processes — the
// mpijob-apiserver binary, etcd members and clusters — and gives every test
// layer the same tools around them: the repository root, free ports, a
// throw-away PKI, the admin kubeconfig, kubectl, raw HTTP requests that
// check the Status on the wire, and the seed's MPIJob.
//
// It is imported by the root module's tests and by the separate test
// modules (test/aggregated, test/bench), so it depends on client-go,
// apimachinery, the etcd client and the API types only: never on the
// server's own packages (an in-process server is test/inprocess).
//
// Functions that start something take a context and return an error, for
// harnesses that build on them (a cluster behind kube-apiserver, a
// benchmark); their ForTest variants fail the test instead and stop what
// they started when the test ends.
package harness
