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

package snapshot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"
	etcdutlsnapshot "go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
	"github.com/mpijob/mpijob-apiserver/pkg/embeddedetcd"
)

type restoreOptions struct {
	dataDir      string
	bumpRevision uint64
}

// helpDir is the data directory as the help text calls it.
var helpDir = datadir.New("DIR")

func newRestoreCommand(out io.Writer) *cobra.Command {
	o := &restoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore FILE --data-dir DIR",
		Short: "Restore a snapshot FILE into a new data directory DIR",
		Long: fmt.Sprintf(`Restore verifies FILE (made by "snapshot save" or "etcdctl snapshot save") and
writes the embedded etcd's data from it into %s, as the single member that
"mpijob-apiserver --data-dir DIR" runs.

DIR must not exist or be empty: restore never overwrites data, and refuses a
directory a running server holds. The restored directory has no admin token,
serving certificate or %s: the server generates new ones when it
first starts on DIR, so clients need the new %s.`,
			helpDir.EtcdDir(), filepath.Base(helpDir.AdminKubeconfig()), helpDir.AdminKubeconfig()),
		Example: "  mpijob-apiserver snapshot restore backup.db --data-dir _restored\n" +
			"  mpijob-apiserver --data-dir _restored",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(_ *cobra.Command, args []string) error {
			return o.run(args[0], out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", "", "New data directory to restore into; it must not exist or be empty.")
	f.Uint64Var(&o.bumpRevision, "bump-revision", 0,
		"Raise etcd's revision by this much and mark it compacted, so that clients holding a resourceVersion "+
			"from the old server get 410 Gone and relist instead of waiting for it (etcdutl's --bump-revision --mark-compacted).")
	_ = cmd.MarkFlagRequired("data-dir")
	return cmd
}

func (o *restoreOptions) run(file string, out io.Writer) (err error) {
	if o.dataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	start := time.Now()
	// Check the file before touching DIR, so that a bad file leaves nothing behind.
	st, err := verify(file)
	if err != nil {
		return fmt.Errorf("refusing to restore: %w", err)
	}
	m, err := embeddedetcd.MemberOf(o.dataDir)
	if err != nil {
		return err
	}
	dir := m.Layout.Dir
	_, statErr := os.Stat(dir)
	created := errors.Is(statErr, os.ErrNotExist)

	// A used dir is refused before the lock is taken, so that a refusal
	// leaves no lock file behind; only an existing lock file is tried, to
	// tell a running server's dir.
	if !created {
		if err := checkEmpty(m.Layout); err != nil {
			if _, serr := os.Stat(m.Layout.LockFile()); serr == nil {
				lock, lerr := embeddedetcd.Lock(dir)
				if lerr != nil {
					return lockError(dir, lerr)
				}
				_ = lock.Unlock()
			}
			return err
		}
	}
	// Hold the lock a server takes, so that none starts on DIR while it is
	// being written, and none is running on it now.
	lock, err := embeddedetcd.Lock(dir)
	if err != nil {
		return lockError(dir, err)
	}
	defer func() {
		_ = lock.Unlock()
		if err != nil && created {
			_ = os.RemoveAll(dir)
		}
	}()
	// Again under the lock: something may have been written meanwhile.
	if err := checkEmpty(m.Layout); err != nil {
		return err
	}

	// Restore beside the final place, then rename: DIR/etcd appears whole or not at all.
	tmp := filepath.Join(dir, ".etcd-restoring")
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	err = etcdutlsnapshot.NewV3(zap.NewNop()).Restore(etcdutlsnapshot.RestoreConfig{
		SnapshotPath:        file,
		Name:                m.Name,
		OutputDataDir:       tmp,
		PeerURLs:            []string{m.PeerURL.String()},
		InitialCluster:      m.InitialCluster(),
		InitialClusterToken: m.Name,
		RevisionBump:        o.bumpRevision,
		MarkCompacted:       o.bumpRevision > 0,
	})
	if err != nil {
		return fmt.Errorf("restoring %s into %s: %w", file, m.Dir, err)
	}
	if err := os.Chmod(tmp, 0o700); err != nil {
		return err
	}
	if err := os.Rename(tmp, m.Dir); err != nil {
		return fmt.Errorf("restoring %s into %s: %w", file, m.Dir, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("restoring %s into %s: %w", file, m.Dir, err)
	}
	bumped := ""
	if o.bumpRevision > 0 {
		bumped = fmt.Sprintf(" (revision bumped by %d and marked compacted)", o.bumpRevision)
	}
	fmt.Fprintf(out, "Restored %s into %s in %s: %s%s\n", file, m.Dir, time.Since(start).Round(time.Millisecond), st, bumped)
	fmt.Fprintf(out, "Start the server with: mpijob-apiserver --data-dir %s\n"+
		"It generates a new admin token, serving certificate and %s on first start.\n",
		dir, m.Layout.AdminKubeconfig())
	return nil
}

func lockError(dir string, err error) error {
	if errors.Is(err, embeddedetcd.ErrLocked) {
		return fmt.Errorf("refusing to restore into %s: a running server holds it: %w", dir, err)
	}
	return err
}

// checkEmpty refuses a data dir that holds anything but the lock file.
func checkEmpty(layout datadir.Layout) error {
	dir, etcdDir := layout.Dir, layout.EtcdDir()
	if _, err := os.Stat(etcdDir); err == nil {
		return fmt.Errorf("refusing to restore into %s: it already holds etcd data (%s); restore never overwrites data, choose a new directory", dir, etcdDir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if filepath.Join(dir, e.Name()) != layout.LockFile() {
			names = append(names, e.Name())
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		return fmt.Errorf("refusing to restore into %s: it is not empty (%v); restore never overwrites data, choose a new or empty directory", dir, names)
	}
	return nil
}
