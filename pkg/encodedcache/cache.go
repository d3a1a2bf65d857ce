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

// Package encodedcache keeps each MPIJob's encoded bytes, so that a LIST
// writes stored bytes instead of encoding every object again. A LIST of
// 1,000 MPIJobs spends most of its time in encoding/json; the objects it
// returns change far less often than they are listed.
package encodedcache

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// Format is the wire format the bytes are in.
type Format uint8

const (
	JSON Format = iota
	Protobuf
)

// Cache maps an object, identified by namespace, name, UID and
// resourceVersion, to its encoding in one format and API version. An object stored at a
// resourceVersion never changes, so an entry is valid exactly while the
// object's resourceVersion is the same; a newer version replaces it.
//
// The cache holds at most limit bytes of encodings. Past that it drops
// entries at random (Go's map order): objects deleted from the store leave
// the cache that way, and a working set larger than the limit still mostly
// hits.
type Cache struct {
	limit int64

	mu      sync.RWMutex
	entries map[key]entry
	bytes   int64
}

type key struct {
	format          Format
	version         string
	namespace, name string
}

type entry struct {
	uid             types.UID
	resourceVersion string
	data            []byte
}

// New returns a cache that holds up to limit bytes; limit <= 0 disables it.
func New(limit int64) *Cache {
	return &Cache{limit: limit, entries: map[key]entry{}}
}

// Get returns the stored encoding of the object at this resourceVersion in
// format f and apiVersion version.
func (c *Cache) Get(f Format, version, namespace, name string, uid types.UID, resourceVersion string) ([]byte, bool) {
	if c == nil || c.limit <= 0 || resourceVersion == "" {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[key{f, version, namespace, name}]
	c.mu.RUnlock()
	if !ok || e.uid != uid || e.resourceVersion != resourceVersion {
		return nil, false
	}
	return e.data, true
}

// Put stores the encoding of the object at this resourceVersion in format f
// and apiVersion version. The cache keeps data; the caller must not change
// it afterwards.
func (c *Cache) Put(f Format, version, namespace, name string, uid types.UID, resourceVersion string, data []byte) {
	size := int64(len(data))
	if c == nil || resourceVersion == "" || size > c.limit/16 {
		return
	}
	k := key{f, version, namespace, name}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[k]; ok {
		c.bytes -= int64(len(old.data))
	}
	c.entries[k] = entry{uid: uid, resourceVersion: resourceVersion, data: data}
	c.bytes += size
	if c.bytes > c.limit {
		// Evict to 90% so that the next puts do not evict one by one.
		for ek, e := range c.entries {
			if c.bytes <= c.limit*9/10 {
				break
			}
			if ek == k {
				continue
			}
			delete(c.entries, ek)
			c.bytes -= int64(len(e.data))
		}
	}
}

// Size is the number of bytes of encodings held.
func (c *Cache) Size() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}

// Len is the number of encodings held.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
