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
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	etcdutlsnapshot "go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// status is what a verified snapshot file holds.
type status struct {
	etcdutlsnapshot.Status
	// FileSize is the size of the file, the sha256 included.
	FileSize int64
}

// verify checks a snapshot file as restore will: the sha256 etcd appends to
// the stream must match the database before it, and the bolt database must
// pass its own consistency check. It returns the revision, live keys and
// size that etcd's snapshot status reports.
func verify(path string) (st status, err error) {
	f, err := os.Open(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return st, err
	}
	if !fi.Mode().IsRegular() {
		return st, fmt.Errorf("%s is not a regular file", path)
	}
	st.FileSize = fi.Size()
	// etcd appends a sha256 to the database it streams; a database is whole
	// pages, so only a file with the hash has this remainder (etcd's own test).
	if st.FileSize%512 != sha256.Size {
		return st, fmt.Errorf("%s is not an etcd snapshot with its integrity hash (size %d): truncated, or not made by snapshot save", path, st.FileSize)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, f, st.FileSize-sha256.Size); err != nil {
		return st, fmt.Errorf("reading %s: %w", path, err)
	}
	want := make([]byte, sha256.Size)
	if _, err := io.ReadFull(f, want); err != nil {
		return st, fmt.Errorf("reading %s: %w", path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return st, fmt.Errorf("%s is corrupted: its sha256 is %x, the hash recorded in it is %x", path, got, want)
	}
	// A damaged database can make bolt panic rather than return an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s is corrupted: %v", path, r)
		}
	}()
	s, err := etcdutlsnapshot.NewV3(zap.NewNop()).Status(path)
	if err != nil {
		return st, fmt.Errorf("%s is corrupted: %w", path, err)
	}
	st.Status = s
	return st, nil
}

func (st status) String() string {
	return fmt.Sprintf("revision %d, %d keys, %s (%d bytes), hash %08x", st.Revision, st.TotalKey,
		humanBytes(st.FileSize), st.FileSize, st.Hash)
}
