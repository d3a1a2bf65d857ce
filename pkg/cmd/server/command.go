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

package server

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	baseversion "k8s.io/component-base/version"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/importer"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/migrate"
	"github.com/mpijob/mpijob-apiserver/pkg/cmd/snapshot"
)

// NewCommand is the mpijob-apiserver command line.
func NewCommand(ctx context.Context, out io.Writer) *cobra.Command {
	o := NewOptions(out)
	var printVersion bool
	cmd := &cobra.Command{
		Use:   "mpijob-apiserver",
		Short: "Serves the Kubeflow MPIJob API (kubeflow.org/v1alpha2) from etcd",
		Long: "mpijob-apiserver serves kubeflow.org/v1alpha2 MPIJobs with everything kube-apiserver gives a " +
			"built-in type. Standalone mode runs its own etcd in --data-dir and writes an admin kubeconfig there.",
		SilenceUsage: true,
		RunE: func(c *cobra.Command, _ []string) error {
			if printVersion {
				fmt.Fprintf(out, "mpijob-apiserver %s\n", baseversion.Get().GitVersion)
				return nil
			}
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	cmd.SetContext(ctx)
	cmd.Flags().BoolVar(&printVersion, "version", false, "Print the version and exit.")
	o.AddFlags(cmd.Flags())
	cmd.AddCommand(importer.NewCommand(out, os.Stderr))
	cmd.AddCommand(snapshot.NewCommand(out))
	cmd.AddCommand(migrate.NewCommand(out))
	return cmd
}
