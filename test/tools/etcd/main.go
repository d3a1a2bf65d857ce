// Command etcd is an etcd v3.7.0 server, the version k8s.io/apiserver
// v0.37.2 requires, built from this module's dependencies so that the fault
// tests can run a multi-member cluster of separate processes (to kill one)
// without downloading anything.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
