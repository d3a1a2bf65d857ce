// Command mpijob-apiserver serves the Kubeflow MPIJob API.
package main

import (
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
)

func main() {
	setGCPercent()
	// The first SIGTERM or SIGINT drains the server; a second one exits.
	ctx := genericapiserver.SetupSignalContext()
	os.Exit(cli.Run(server.NewCommand(ctx, os.Stdout)))
}
