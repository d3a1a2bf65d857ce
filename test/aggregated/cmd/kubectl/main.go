// Command kubectl is kubectl v1.37.2 built from the k8s.io/kubectl module, so
// that tests drive kube-apiserver v1.37.2 within kubectl's version skew (a
// kubectl installed on the machine may be several minor versions older). Its
// body is k8s.io/kubernetes's cmd/kubectl/kubectl.go at v1.37.2.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// Import to initialize client auth plugins.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	// The verbosity is parsed by hand first so that klog works while the
	// command is constructed (plugins, .kuberc), as upstream does. A bad -v
	// value is ignored here: the flag parsing that follows reports it.
	_, _ = logs.GlogSetter(cmd.GetLogVerbosity(os.Args))
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		// Pretty-print the error and exit with an error.
		util.CheckErr(err)
	}
}
