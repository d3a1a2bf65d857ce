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
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	clientsnapshot "go.etcd.io/etcd/client/v3/snapshot"
	"go.uber.org/zap"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
	"github.com/mpijob/mpijob-apiserver/pkg/embeddedetcd"
)

type saveOptions struct {
	dataDir     string
	etcdServers []string
	caFile      string
	certFile    string
	keyFile     string
	dialTimeout time.Duration
}

func newSaveCommand(out io.Writer) *cobra.Command {
	o := &saveOptions{dataDir: datadir.DefaultDir, dialTimeout: 10 * time.Second}
	cmd := &cobra.Command{
		Use:   "save FILE",
		Short: "Save the etcd data of a running server to FILE",
		Long: `Save streams a snapshot of etcd from a running server - its embedded etcd,
through the unix socket in --data-dir (only the data dir's owner can open it), or
the external etcd of --etcd-servers - into FILE, in etcd's own snapshot format.

The snapshot is written to a temporary file next to FILE, verified (the sha256
etcd appends to it, and the database's own consistency check) and only then
renamed to FILE, so FILE is either the old file or a whole, verified snapshot.
It holds every write the server acknowledged before the command started.`,
		Example: "  mpijob-apiserver snapshot save --data-dir " + datadir.DefaultDir + " backup.db\n" +
			"  mpijob-apiserver snapshot save --etcd-servers https://10.0.0.1:2379 --etcd-cafile ca.crt \\\n" +
			"      --etcd-certfile client.crt --etcd-keyfile client.key backup.db",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			if len(o.etcdServers) > 0 && c.Flags().Changed("data-dir") {
				return errors.New("give either --data-dir (a server's embedded etcd) or --etcd-servers (an external etcd), not both")
			}
			ctx := c.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return o.run(ctx, args[0], out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", o.dataDir,
		"Data directory of the running standalone server whose embedded etcd to save.")
	f.StringSliceVar(&o.etcdServers, "etcd-servers", nil,
		"Client URLs of an external etcd to save instead of the embedded one; they are tried in turn until one gives a snapshot.")
	f.StringVar(&o.caFile, "etcd-cafile", "", "SSL Certificate Authority file used to secure etcd communication.")
	f.StringVar(&o.certFile, "etcd-certfile", "", "SSL certification file used to secure etcd communication.")
	f.StringVar(&o.keyFile, "etcd-keyfile", "", "SSL key file used to secure etcd communication.")
	f.DurationVar(&o.dialTimeout, "dial-timeout", o.dialTimeout, "How long to wait for the connection to etcd.")
	return cmd
}

func (o *saveOptions) run(ctx context.Context, file string, out io.Writer) error {
	path, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s exists and is not a regular file", path)
	}

	// Keepalives end a save whose etcd goes away mid-stream.
	cfg := clientv3.Config{DialTimeout: o.dialTimeout, DialKeepAliveTime: 30 * time.Second, DialKeepAliveTimeout: 10 * time.Second}
	endpoints := o.etcdServers
	if len(endpoints) == 0 {
		m, err := embeddedetcd.MemberOf(o.dataDir)
		if err != nil {
			return err
		}
		if _, err := os.Stat(m.ClientURL.Path); err != nil {
			return fmt.Errorf("no server with an embedded etcd runs on data dir %s (%w); start it, or give --etcd-servers for an external etcd", m.Layout.Dir, err)
		}
		endpoints = []string{m.ClientURL.String()}
	} else if o.caFile != "" || o.certFile != "" || o.keyFile != "" {
		tlsInfo := transport.TLSInfo{TrustedCAFile: o.caFile, CertFile: o.certFile, KeyFile: o.keyFile}
		if cfg.TLS, err = tlsInfo.ClientConfig(); err != nil {
			return fmt.Errorf("loading the etcd TLS files: %w", err)
		}
	}

	// The temporary file is in FILE's directory, so that the rename is
	// atomic; SaveWithVersion writes it through its own ".part" file.
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".saving-"+strconv.Itoa(os.Getpid()))
	defer os.Remove(tmp)

	start := time.Now()
	var version string
	var errs []error
	for _, ep := range endpoints {
		c := cfg
		c.Endpoints = []string{ep}
		// The snapshot stream has no deadline (a large one takes long), and
		// the client does not wait for the connection before it starts: reach
		// the endpoint first, within the dial timeout.
		if err = probe(ctx, c); err == nil {
			version, err = clientsnapshot.SaveWithVersion(ctx, zap.NewNop(), c, tmp)
		}
		if err == nil {
			break
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep, err))
	}
	if err != nil {
		return fmt.Errorf("saving a snapshot to %s: %w", path, errors.Join(errs...))
	}
	fetched := time.Since(start)

	st, err := verify(tmp)
	if err != nil {
		return fmt.Errorf("the snapshot etcd sent failed verification, %s is unchanged: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("saving a snapshot to %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("saving a snapshot to %s: %w", path, err)
	}
	fmt.Fprintf(out, "Saved snapshot %s: %s, etcd %s; fetched in %s, verified in %s\n", path, st,
		version, fetched.Round(time.Millisecond), (time.Since(start) - fetched).Round(time.Millisecond))
	return nil
}

// probe checks that the one endpoint of cfg answers within the dial timeout.
func probe(ctx context.Context, cfg clientv3.Config) error {
	cfg.Logger = zap.NewNop()
	c, err := clientv3.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if _, err := c.Status(ctx, cfg.Endpoints[0]); err != nil {
		return fmt.Errorf("etcd does not answer: %w", err)
	}
	return nil
}

// syncDir makes a rename or creation in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
