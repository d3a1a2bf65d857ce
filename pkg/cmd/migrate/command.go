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

// Package migrate is the `mpijob-apiserver migrate-storage` command: it
// rewrites every MPIJob once through the API, so that the server stores it
// in its current --storage-version.
package migrate

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
)

// FieldManager names the migration's writes.
const FieldManager = "mpijob-migrate-storage"

type options struct {
	kubeconfig string
	context    string
}

// NewCommand is the migrate-storage subcommand; its report goes to out.
func NewCommand(out io.Writer) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "migrate-storage",
		Short: "Rewrite every MPIJob so that etcd holds it in the server's current --storage-version",
		Long: `migrate-storage reads every MPIJob and writes it back unchanged (a GET and a PUT
with the same resourceVersion, in the group's preferred version), so the server
encodes it again in the version it now stores. A job changed by someone else in
between is read again and written again. What the preferred version cannot
express is kept by the server, so nothing of a job is lost or changed; only its
resourceVersion moves when its bytes in etcd change. A job already stored in the
current version is not written at all.

The server reads objects of every stored version, so a change of storage version
needs no downtime. To move from v1alpha2 to v2beta1 storage:

  1. restart every replica of the server with --storage-version=v2beta1 (all of
     them: a replica still on v1alpha2 would write v1alpha2 again);
  2. run migrate-storage once against any replica.

Until step 2, jobs written before step 1 stay v1alpha2 in etcd and keep being
served as before. Moving back is the same with --storage-version=v1alpha2, and
the command may be run again at any time: it then rewrites nothing.`,
		Example: "  mpijob-apiserver migrate-storage --kubeconfig " + datadir.New(datadir.DefaultDir).AdminKubeconfig(),
		Args:    cobra.NoArgs,
		// Errors are about the server or the credentials, not the flags.
		SilenceUsage: true,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.run(c.Context(), out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "",
		"Kubeconfig of the server (default: $KUBECONFIG or ~/.kube/config; a standalone server writes "+
			datadir.New("<data-dir>").AdminKubeconfig()+").")
	f.StringVar(&o.context, "context", "", "Kubeconfig context to use (default: its current context).")
	return cmd
}

func (o *options) run(ctx context.Context, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: o.context}).ClientConfig()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	// One request at a time; the server's own limits protect it.
	cfg.QPS, cfg.Burst = -1, 0
	m, err := newMigrator(cfg)
	if err != nil {
		return err
	}
	return m.run(ctx, out)
}
