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
