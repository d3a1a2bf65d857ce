// Command etcd is an etcd v3.7.0 server (the version k8s.io/apiserver v0.37.2
// and kube-apiserver v1.37.2 require) for the aggregated-mode tests; the
// machine's packaged etcd is too old.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
