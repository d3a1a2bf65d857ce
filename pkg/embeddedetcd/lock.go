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
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/mpijob/mpijob-apiserver/pkg/datadir"
)

// ErrLocked is returned by Lock when another process holds the data directory.
var ErrLocked = errors.New("data directory is in use by another process")

// DirLock is an exclusive hold on a data directory.
type DirLock struct{ f *os.File }

// Lock takes an exclusive, non-blocking flock on the data dir's lock file, so that a
// second server on the same directory fails at once with a clear message
// instead of waiting on etcd's own WAL lock. The kernel drops the lock when
// the process dies, even by kill -9, so a crash never leaves it stale.
func Lock(dataDir string) (*DirLock, error) {
	if err := os.MkdirAll(dataDir, privateDirMode); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	path := datadir.New(dataDir).LockFile()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "unknown"
			}
			return nil, fmt.Errorf("%w: %s is locked by process %s; stop that server or choose another --data-dir", ErrLocked, dataDir, pid)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DirLock{f: f}, nil
}

// Unlock releases the directory.
func (l *DirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
