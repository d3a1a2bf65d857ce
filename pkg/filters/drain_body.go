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

package filters

import (
	"io"
	"net/http"
	"sync/atomic"
)

// maxUnreadBodyDrain bounds how much of an unread request body is read and
// thrown away; net/http's HTTP/1 server uses the same bound before reusing a
// connection.
const maxUnreadBodyDrain = 256 << 10

// withUnreadBodyDrained reads what is left of a small request body that the
// chain refused without reading (a 401, 403 or 429). Over HTTP/2 the Go server
// otherwise ends such a stream with RST_STREAM right after the response, and
// clients such as curl then report the complete answer as a partial transfer
// instead of showing the Status.
func withUnreadBodyDrained(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || r.ContentLength > maxUnreadBodyDrain {
			next.ServeHTTP(w, r)
			return
		}
		body := &readTracker{ReadCloser: r.Body}
		r.Body = body
		next.ServeHTTP(w, r)
		// A handler that read any of the body owns it, even if it has not
		// finished (a timed-out request may still be reading it).
		if body.read.Load() == 0 {
			_, _ = io.CopyN(io.Discard, body.ReadCloser, maxUnreadBodyDrain)
		}
	})
}

type readTracker struct {
	io.ReadCloser
	read atomic.Int64
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	t.read.Add(int64(n))
	return n, err
}
