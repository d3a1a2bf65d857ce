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

// Package importer is the `mpijob-apiserver import` command: it loads MPIJobs
// exported from a cluster that served them as a CRD - kubeflow.org/v1alpha2,
// or mpi-operator v2's kubeflow.org/v2beta1 - into this server, spec and
// status, each in the version it was exported in.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
	clientset "github.com/mpijob/mpijob-apiserver/pkg/generated/clientset/versioned"
)

// DefaultFieldManager owns the fields the import writes.
const DefaultFieldManager = "mpijob-import"

type options struct {
	filenames    []string
	kubeconfig   string
	context      string
	dryRun       bool
	fieldManager string
}

// NewCommand is the import subcommand. Results go to out, one line per
// object and a summary; warnings go to errOut, as kubectl prints them.
func NewCommand(out, errOut io.Writer) *cobra.Command {
	o := &options{fieldManager: DefaultFieldManager}
	cmd := &cobra.Command{
		Use:   "import -f FILE",
		Short: "Import MPIJobs exported from a cluster that served kubeflow.org/v1alpha2 or v2beta1 as a CRD",
		Long: `Import creates each MPIJob of the input - what "kubectl get mpijobs -A -o yaml"
(or -o json) prints on a cluster that served the kubeflow.org/v1alpha2 CRD, or
"kubectl get mpijobs.v2beta1.kubeflow.org -A -o yaml" on one running mpi-operator
v2: a List, single objects, or a multi-document YAML stream, which may mix both
versions - and then writes its status through the status subresource.

Each object is created and its status written in its own apiVersion, so the
server applies that version's defaults and validation as for any client of it.
Other versions of kubeflow.org MPIJobs are refused, naming their apiVersion.

Server-populated metadata (uid, resourceVersion, creationTimestamp, generation,
managedFields, selfLink, deletion fields) is dropped; name, namespace, labels,
annotations, owner references and finalizers are kept. Objects without a namespace
go to the kubeconfig context's namespace. Fields this server's type does not have
are dropped with a warning.

An object that already exists is never overwritten: it is reported "unchanged" when
it equals the input, else "exists, differs"; one that equals the input but has no
status yet gets its status. Running the import again is safe. The command exits
non-zero when any object was refused or differs.`,
		Example: "  kubectl get mpijobs -A -o yaml > mpijobs.yaml\n" +
			"  kubectl get mpijobs.v2beta1.kubeflow.org -A -o yaml > mpijobs-v2beta1.yaml\n" +
			"  mpijob-apiserver import --kubeconfig " + datadir.New(datadir.DefaultDir).AdminKubeconfig() + " -f mpijobs.yaml -f mpijobs-v2beta1.yaml\n" +
			"  kubectl get mpijobs -A -o json | mpijob-apiserver import -f - --dry-run",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.run(c.Context(), c.InOrStdin(), out, errOut)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.filenames, "filename", "f", nil,
		"File with the exported MPIJobs, or - for standard input; repeatable.")
	f.StringVar(&o.kubeconfig, "kubeconfig", "",
		"Kubeconfig of the target server (default: $KUBECONFIG or ~/.kube/config; a standalone server writes "+
			datadir.New("<data-dir>").AdminKubeconfig()+").")
	f.StringVar(&o.context, "context", "", "Kubeconfig context to use (default: its current context).")
	f.BoolVar(&o.dryRun, "dry-run", false,
		"Server-side dry run: the server validates every object and stores nothing.")
	f.StringVar(&o.fieldManager, "field-manager", o.fieldManager, "Field manager of the import's writes.")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

func (o *options) run(ctx context.Context, stdin io.Reader, out, errOut io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.fieldManager == "" {
		return errors.New("--field-manager must not be empty")
	}
	// Read and parse all input before the first write, so that a syntax error
	// anywhere imports nothing rather than half a file.
	docs, err := readInputs(o.filenames, stdin)
	if err != nil {
		return err
	}

	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	kc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: o.context})
	cfg, err := kc.ClientConfig()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	// Objects that name no namespace go where kubectl would put them: the
	// context's namespace, else "default".
	namespace, _, err := kc.Namespace()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	// The import sends one request at a time; the server's own in-flight
	// limits protect it, so client-side throttling would only slow a large
	// import down.
	cfg.QPS, cfg.Burst = -1, 0
	// JSON, not the clientset's default protobuf: protobuf would send an
	// exported `conditions: []` or `replicaStatuses: {}` as absent, stored as
	// null; and JSON also works with servers that predate protobuf.
	cfg.ContentType = runtime.ContentTypeJSON
	warnings := &warningCollector{}
	cfg.WarningHandlerWithContext = warnings
	client, err := clientset.NewForConfig(cfg)
	if err != nil {
		return err
	}

	im := &importer{
		client:       client,
		out:          out,
		errOut:       errOut,
		dryRun:       o.dryRun,
		fieldManager: o.fieldManager,
		warnings:     warnings,
	}
	for _, d := range docs {
		if err := im.importOne(ctx, prepare(d, namespace)); err != nil {
			im.printSummary()
			return err
		}
	}
	im.printSummary()
	return im.result()
}
