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

// Command etcd is an etcd v3.7.0 server, the version k8s.io/apiserver
// v0.37.2 (and kube-apiserver v1.37.2) requires, built from this module's
// dependencies so that tests can run etcd as separate processes (a
// multi-member cluster to kill one of, kube-apiserver's storage, the
// benchmark peers') without downloading anything. It is the one etcd program
// of every module: `make etcd` builds it into _output/bin/etcd and the test
// targets pass that path as $ETCD_BIN.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
