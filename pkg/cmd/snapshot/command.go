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

// Package snapshot is the `mpijob-apiserver snapshot` command: backup and
// restore of the server's etcd in etcd's own snapshot format (the file
// `etcdctl snapshot save` writes and `etcdutl snapshot restore` reads).
package snapshot

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// NewCommand is the snapshot subcommand with save and restore.
func NewCommand(out io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Back up the server's etcd to a snapshot file and restore a data directory from one",
		Long: `Snapshot saves the etcd data of a running server to a file in etcd's own
snapshot format, and restores such a file into a new data directory that
"mpijob-apiserver --data-dir DIR" starts on.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return c.Help()
		},
	}
	cmd.AddCommand(newSaveCommand(out), newRestoreCommand(out))
	return cmd
}

// humanBytes prints a size as etcdctl does, in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
