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

package embeddedetcd

import (
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
)

// Member is the identity of the embedded etcd member of a data directory:
// what Start runs, and what `snapshot restore` must write so that Start runs
// on restored data.
type Member struct {
	// Layout is the data dir's, with its path made absolute.
	Layout datadir.Layout
	// Name is the member name; it is also the initial cluster token.
	Name string
	// Dir is etcd's own data directory in the data dir.
	Dir string
	// ClientURL is the client endpoint, a unix socket in the data dir.
	ClientURL url.URL
	// PeerURL is the advertised peer URL, a unix socket in the data dir.
	PeerURL url.URL
}

// MemberOf returns the member of dataDir (made absolute), or an error when
// the socket paths would be too long.
func MemberOf(dataDir string) (Member, error) {
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return Member{}, err
	}
	layout := datadir.New(dataDir)
	clientPath, peerPath := layout.EtcdClientSocket(), layout.EtcdPeerSocket()
	if len(clientPath) > maxSocketPath || len(peerPath) > maxSocketPath {
		return Member{}, fmt.Errorf("data directory path %q is too long for a unix socket path (at most %d bytes with the socket name); use a shorter --data-dir", dataDir, maxSocketPath)
	}
	return Member{
		Layout:    layout,
		Name:      memberName,
		Dir:       layout.EtcdDir(),
		ClientURL: url.URL{Scheme: "unix", Path: clientPath},
		PeerURL:   url.URL{Scheme: "unix", Path: peerPath},
	}, nil
}

// InitialCluster is the member's --initial-cluster value.
func (m Member) InitialCluster() string { return m.Name + "=" + m.PeerURL.String() }
