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

// Package datadir is the one place that knows the layout of a standalone
// server's data directory. The server, `snapshot`, `import` and the tests ask
// it for paths instead of spelling file names themselves, so that the layout
// can change in one place.
//
//	<data-dir>/
//	  lock               flock held by the running server (its pid inside)
//	  etcd/              the embedded etcd member's own data (WAL, snapshots)
//	  etcd-client.sock   the embedded etcd's client socket (0600)
//	  etcd-peer.sock     the embedded etcd's peer socket (0600)
//	  admin-token.csv    the admin's bearer token, in token-file format
//	  admin.kubeconfig   a kubeconfig for that token, rewritten on every start
//	  certs/             the generated self-signed serving certificate
package datadir

import (
	"net/url"
	"path/filepath"
)

// Layout is a data directory; its methods name the files in it.
type Layout struct {
	// Dir is the data directory itself.
	Dir string
}

// DefaultDir is the data directory of a server started without --data-dir,
// and where the commands that work on one look by default.
const DefaultDir = "_data"

// New is the layout of dir.
func New(dir string) Layout { return Layout{Dir: dir} }

// LockFile is held (flock) by the server that runs on the directory.
func (l Layout) LockFile() string { return l.path("lock") }

// EtcdDir is the embedded etcd member's data directory.
func (l Layout) EtcdDir() string { return l.path("etcd") }

// EtcdClientSocket is the embedded etcd's client endpoint, a unix socket.
func (l Layout) EtcdClientSocket() string { return l.path("etcd-client.sock") }

// EtcdClientURL is EtcdClientSocket as an etcd client endpoint, escaped as
// the embedded etcd advertises it.
func (l Layout) EtcdClientURL() string {
	return (&url.URL{Scheme: "unix", Path: l.EtcdClientSocket()}).String()
}

// EtcdPeerSocket is the embedded etcd's peer endpoint, a unix socket.
func (l Layout) EtcdPeerSocket() string { return l.path("etcd-peer.sock") }

// AdminTokenFile holds the admin's token, generated on the first start.
func (l Layout) AdminTokenFile() string { return l.path("admin-token.csv") }

// AdminKubeconfig is the admin's kubeconfig, written before the server
// answers so that a client that sees /readyz succeed can use it at once.
func (l Layout) AdminKubeconfig() string { return l.path("admin.kubeconfig") }

// CertDir holds the generated self-signed serving certificate.
func (l Layout) CertDir() string { return l.path("certs") }

func (l Layout) path(name string) string { return filepath.Join(l.Dir, name) }
