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

package listwatch

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The dimensions of the list-options matrix.
const (
	unset = "" // a parameter that is not sent

	contValid   = "valid"   // a limit=2 token from a list after all writes
	contGarbage = "garbage" // not a token at all
	contExpired = "expired" // a limit=2 token from a list at a compacted revision

	rvZero      = "0"
	rvCurrent   = "current"
	rvCompacted = "compacted"
	rvFuture    = "future"
	rvGarbage   = "garbage"

	matchGarbage = "garbage"
)

var (
	limits    = []string{unset, "2"}
	continues = []string{unset, contValid, contGarbage, contExpired}
	rvs       = []string{unset, rvZero, rvCurrent, rvCompacted, rvFuture, rvGarbage}
	matches   = []string{unset, string(metav1.ResourceVersionMatchNotOlderThan), string(metav1.ResourceVersionMatchExact), matchGarbage}
)

// Messages kube-apiserver gives, from k8s.io/apiserver v0.37.2.
const (
	// storage/etcd3/errors.go
	msgListTooOld            = "The resourceVersion for the provided list is too old."
	msgInconsistentContinue  = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
	msgWatchTooOld           = "The resourceVersion for the provided watch is too old."
	garbageContinueToken     = "garbage!"
	msgGarbageContinue       = "invalid continue token: continue key is not valid: illegal base64 data at input byte 7"
	msgRVWithContinue        = "specifying resource version is not allowed when using continue"
	msgGarbageRV             = `invalid resource version: resourceVersion: Invalid value: "garbage": strconv.ParseUint: parsing "garbage": invalid syntax`
	msgMatchWithoutRV        = "resourceVersionMatch is forbidden unless resourceVersion is provided"
	msgMatchWithContinue     = "resourceVersionMatch is forbidden when continue is provided"
	msgMatchUnsupported      = `Unsupported value: "garbage": supported values: "Exact", "NotOlderThan", ""`
	msgExactZero             = `resourceVersionMatch "exact" is forbidden for resourceVersion "0"`
	watchCacheBlockTimeout   = 3 * time.Second // storage/cacher/watch_cache.go blockTimeout
	compactionNoticeDeadline = 45 * time.Second
)

var tooLargeRV = regexp.MustCompile(`^Timeout: Too large resource version: ` + futureRV + `, current: [0-9]+$`)

type cell struct {
	limit, cont, rv, match string
}

func (c cell) name() string {
	v := func(s string) string {
		if s == unset {
			return "unset"
		}
		return s
	}
	return fmt.Sprintf("limit=%s/continue=%s/rv=%s/match=%s", v(c.limit), v(c.cont), v(c.rv), v(c.match))
}

// want is the answer kube-apiserver gives to one cell.
type want struct {
	code   int
	reason metav1.StatusReason
	// message: exact; messageRE: when it holds a number we cannot know.
	message   string
	messageRE *regexp.Regexp
	causes    []metav1.StatusCause // 422 only: exactly these

	// 504: Retry-After, and how long the server may take.
	retryAfter  int32
	minDuration time.Duration
	maxDuration time.Duration

	// 410 on a continue: the fresh token's start key (RV -1).
	freshTokenStart string

	// 200
	items     []string
	more      bool   // a continue token
	remaining int64  // remainingItemCount when more
	rvExact   string // the list's resourceVersion must be exactly this
	rvAtLeast string // or at least this
}

// expect derives kube-apiserver's answer for a cell (k8s.io/apiserver v0.37.2):
//
//  1. endpoints/handlers/get.go listOpts -> internalversion/validation.ValidateListOptions: 422 for a
//     resourceVersionMatch without a resourceVersion, with a continue, not Exact/NotOlderThan, or Exact with "0".
//  2. storage.ValidateListOptions (etcd3 store and cache delegator alike): 400 for a continue token that does
//     not decode, for a resourceVersion other than "" or "0" next to a continue, for a resourceVersion that is
//     not a number.
//  3. Continue: read at the token's RV from its key on. At a compacted RV, etcd says ErrCompacted and the list
//     fails 410 "inconsistent continue" with a fresh token (RV -1) in the Status's metadata.continue.
//  4. Exact (resourceVersionMatch=Exact, or the legacy limit>0 with resourceVersion not ""/"0"): a read at that
//     RV: 410 when compacted, 504 Timeout when ahead (etcd's ErrFutureRev at once; the watch cache waits 3 s,
//     then Retry-After 1).
//  5. NotOlderThan (or no match and no limit): the latest state, 504 when it is older than the RV asked for.
//     resourceVersion "" is a consistent read of the latest state.
//  6. The watch cache ignores the limit of a list with resourceVersion "0" (cacher.computeListLimit) and serves
//     all items without a continue token; etcd honours it.
func (e *env) expect(c cell) want {
	// 1. list-options validation.
	if c.match != unset {
		var causes []metav1.StatusCause
		forbidden := func(msg string) metav1.StatusCause {
			return metav1.StatusCause{Type: metav1.CauseTypeForbidden, Message: "Forbidden: " + msg, Field: "resourceVersionMatch"}
		}
		if c.rv == unset {
			causes = append(causes, forbidden(msgMatchWithoutRV))
		}
		if c.cont != unset {
			causes = append(causes, forbidden(msgMatchWithContinue))
		}
		if c.match == matchGarbage {
			causes = append(causes, metav1.StatusCause{Type: metav1.CauseTypeFieldValueNotSupported, Message: msgMatchUnsupported, Field: "resourceVersionMatch"})
		}
		if c.match == string(metav1.ResourceVersionMatchExact) && c.rv == rvZero {
			causes = append(causes, forbidden(msgExactZero))
		}
		if len(causes) > 0 {
			msgs := make([]string, len(causes))
			for i, cause := range causes {
				msgs[i] = cause.Field + ": " + cause.Message
			}
			msg := `ListOptions.meta.k8s.io "" is invalid: ` + msgs[0]
			if len(msgs) > 1 {
				msg = `ListOptions.meta.k8s.io "" is invalid: [` + strings.Join(msgs, ", ") + "]"
			}
			return want{code: http.StatusUnprocessableEntity, reason: metav1.StatusReasonInvalid, message: msg, causes: causes}
		}
	}

	// 2. storage-side validation.
	if c.cont != unset {
		if c.cont == contGarbage {
			return badRequest(msgGarbageContinue)
		}
		if c.rv != unset && c.rv != rvZero {
			return badRequest(msgRVWithContinue)
		}
	} else if c.rv == rvGarbage {
		return badRequest(msgGarbageRV)
	}

	limited := c.limit != unset
	// The watch cache ignores the limit when resourceVersion is "0".
	honoursLimit := limited && (!e.cache || c.rv != rvZero)
	page := func(all []string, rv want) want {
		rv.code = http.StatusOK
		if honoursLimit && len(all) > 2 {
			rv.items, rv.more, rv.remaining = all[:2], true, int64(len(all)-2)
		} else {
			rv.items = all
		}
		return rv
	}

	// 3. continue (match is unset here, rv is "" or "0").
	switch c.cont {
	case contValid:
		return page([]string{"job-d", "job-e", "job-f"}, want{rvExact: e.validTokenRV})
	case contExpired:
		return want{code: http.StatusGone, reason: metav1.StatusReasonExpired, message: msgInconsistentContinue, freshTokenStart: "job-b\x00"}
	}

	exact := c.match == string(metav1.ResourceVersionMatchExact) ||
		(c.match == unset && limited && c.rv != unset && c.rv != rvZero)
	switch c.rv {
	case unset: // a consistent read
		return page(e.items, want{rvAtLeast: e.current})
	case rvZero: // any state; ours is the current one
		return page(e.items, want{})
	case rvCurrent:
		if exact {
			return page(e.items, want{rvExact: e.current})
		}
		return page(e.items, want{rvAtLeast: e.current})
	case rvCompacted:
		if exact {
			return want{code: http.StatusGone, reason: metav1.StatusReasonExpired, message: msgListTooOld}
		}
		// NotOlderThan a compacted RV: the latest state.
		return page(e.items, want{rvAtLeast: e.current})
	case rvFuture:
		w := want{code: http.StatusGatewayTimeout, reason: metav1.StatusReasonTimeout, messageRE: tooLargeRV}
		if e.cache {
			// waitUntilFreshLocked blocks blockTimeout, then asks to retry in 1 s.
			w.retryAfter, w.minDuration = 1, watchCacheBlockTimeout
		} else {
			// etcd answers at once (ErrFutureRev, or a newer-than-read check).
			w.maxDuration = watchCacheBlockTimeout
		}
		return w
	}
	panic("unreachable: " + c.name())
}

func badRequest(msg string) want {
	return want{code: http.StatusBadRequest, reason: metav1.StatusReasonBadRequest, message: msg}
}

func (e *env) query(c cell) url.Values {
	q := url.Values{}
	if c.limit != unset {
		q.Set("limit", c.limit)
	}
	switch c.cont {
	case contValid:
		q.Set("continue", e.validToken)
	case contGarbage:
		q.Set("continue", garbageContinueToken)
	case contExpired:
		q.Set("continue", e.expiredToken)
	}
	switch c.rv {
	case rvZero:
		q.Set("resourceVersion", "0")
	case rvCurrent:
		q.Set("resourceVersion", e.current)
	case rvCompacted:
		q.Set("resourceVersion", e.rvOld)
	case rvFuture:
		q.Set("resourceVersion", futureRV)
	case rvGarbage:
		q.Set("resourceVersion", "garbage")
	}
	if c.match != unset {
		q.Set("resourceVersionMatch", c.match)
	}
	return q
}

func (e *env) testListMatrix(t *testing.T) {
	if e.cache {
		e.waitForCacheToNoticeCompaction(t)
	}
	var cells []cell
	for _, l := range limits {
		for _, c := range continues {
			for _, rv := range rvs {
				for _, m := range matches {
					cells = append(cells, cell{limit: l, cont: c, rv: rv, match: m})
				}
			}
		}
	}
	// One store and one set of continue tokens serve both versions: every
	// cell answers alike in each.
	for _, version := range []string{"v1alpha2", "v2beta1"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			for _, c := range cells {
				t.Run(c.name(), func(t *testing.T) {
					t.Parallel()
					w := e.expect(c)
					r := e.listIn(t, version, matrixNS, e.query(c))
					e.check(t, c, w, r)
				})
			}
		})
	}
}

func (e *env) check(t *testing.T, c cell, w want, r rawResponse) {
	t.Helper()
	if r.Code != w.code {
		t.Fatalf("HTTP %d, want %d (%s): %s", r.Code, w.code, w.reason, r)
	}
	if w.code == http.StatusOK {
		l := r.list(t)
		if got := names(l.Items); !equal(got, w.items) {
			t.Errorf("items %v, want %v: %s", got, w.items, r)
		}
		if w.more {
			if l.Continue == "" {
				t.Errorf("no continue token, want one: %s", r)
			}
			if l.RemainingItemCount == nil || *l.RemainingItemCount != w.remaining {
				t.Errorf("remainingItemCount %v, want %d: %s", l.RemainingItemCount, w.remaining, r)
			}
		} else {
			if l.Continue != "" || l.RemainingItemCount != nil {
				t.Errorf("continue %q, remainingItemCount %v; want neither: %s", l.Continue, l.RemainingItemCount, r)
			}
		}
		if l.ResourceVersion == "" {
			t.Errorf("the list has no resourceVersion: %s", r)
		}
		if w.rvExact != "" && l.ResourceVersion != w.rvExact {
			t.Errorf("list resourceVersion %s, want exactly %s: %s", l.ResourceVersion, w.rvExact, r)
		}
		if w.rvAtLeast != "" && mustParseRV(t, l.ResourceVersion) < mustParseRV(t, w.rvAtLeast) {
			t.Errorf("list resourceVersion %s, want at least %s: %s", l.ResourceVersion, w.rvAtLeast, r)
		}
		return
	}

	s := r.status(t)
	if s.Status != metav1.StatusFailure || s.Code != int32(w.code) || s.Reason != w.reason {
		t.Errorf("Status %s/%d/%s, want Failure/%d/%s: %s", s.Status, s.Code, s.Reason, w.code, w.reason, r)
	}
	if w.message != "" && s.Message != w.message {
		t.Errorf("message\n  %q\nwant\n  %q", s.Message, w.message)
	}
	if w.messageRE != nil && !w.messageRE.MatchString(s.Message) {
		t.Errorf("message %q does not match %s", s.Message, w.messageRE)
	}
	switch w.code {
	case http.StatusUnprocessableEntity:
		if s.Details == nil || s.Details.Group != "meta.k8s.io" || s.Details.Kind != "ListOptions" {
			t.Errorf("details %+v, want group meta.k8s.io kind ListOptions", s.Details)
		} else if !equalCauses(s.Details.Causes, w.causes) {
			t.Errorf("causes\n  %+v\nwant\n  %+v", s.Details.Causes, w.causes)
		}
	case http.StatusGatewayTimeout:
		wantCauses := []metav1.StatusCause{{Type: metav1.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}}
		if s.Details == nil || !equalCauses(s.Details.Causes, wantCauses) || s.Details.RetryAfterSeconds != w.retryAfter {
			t.Errorf("details %+v, want causes %+v and retryAfterSeconds %d", s.Details, wantCauses, w.retryAfter)
		}
		wantHeader := ""
		if w.retryAfter > 0 {
			wantHeader = fmt.Sprint(w.retryAfter)
		}
		if got := r.Header.Get("Retry-After"); got != wantHeader {
			t.Errorf("Retry-After %q, want %q", got, wantHeader)
		}
		if w.minDuration > 0 && r.elapsed < w.minDuration {
			t.Errorf("answered in %v; the watch cache waits %v for a resourceVersion ahead of it", r.elapsed, w.minDuration)
		}
		if w.maxDuration > 0 && r.elapsed >= w.maxDuration {
			t.Errorf("answered in %v; without the watch cache etcd refuses a future revision at once", r.elapsed)
		}
	case http.StatusGone:
		if w.freshTokenStart == "" {
			if s.Continue != "" {
				t.Errorf("the Status has a continue token %q, want none", s.Continue)
			}
			break
		}
		tok := decodeToken(t, s.Continue)
		if tok.ResourceVersion != -1 || tok.StartKey != w.freshTokenStart || tok.APIVersion != "meta.k8s.io/v1" {
			t.Errorf("fresh continue token %+v, want {v: meta.k8s.io/v1, rv: -1, start: %q}", tok, w.freshTokenStart)
		}
	}
}

func equalCauses(a, b []metav1.StatusCause) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// continueToken is storage.continueToken, the JSON inside a continue token.
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	StartKey        string `json:"start"`
}

func decodeToken(t testing.TB, token string) continueToken {
	t.Helper()
	if token == "" {
		t.Fatalf("no continue token")
	}
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("continue token %q: %v", token, err)
	}
	var c continueToken
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("continue token %q: %v", token, err)
	}
	return c
}

// waitForCacheToNoticeCompaction waits until the watch cache has pruned its
// snapshots below the compacted revision (TOOLCHAIN.md trap 10): the API
// server learns of a compaction through compact_rev_key at once, but the
// cacher's compactor polls it only every 15 s (cacher/compactor.go). Until
// then an exact list at a compacted revision is served from the cache's
// snapshot of that revision; afterwards the cache delegates it to etcd,
// which answers 410. The matrix asserts the steady state, as kube-apiserver
// gives it a poll period after a compaction.
func (e *env) waitForCacheToNoticeCompaction(t *testing.T) {
	t.Helper()
	start := time.Now()
	q := url.Values{"resourceVersion": {e.rvOld}, "resourceVersionMatch": {"Exact"}}
	first := true
	for {
		r := e.list(t, matrixNS, q)
		switch r.Code {
		case http.StatusGone:
			t.Logf("the watch cache noticed the compaction after %v", time.Since(start).Round(time.Millisecond))
			return
		case http.StatusOK:
			// Before the cache notices, it serves the exact revision from its
			// snapshot: the items at rvOld, at exactly rvOld.
			l := r.list(t)
			if got := names(l.Items); !equal(got, e.oldItems) || l.ResourceVersion != e.rvOld {
				t.Fatalf("before the cache noticed the compaction: items %v at %s, want %v at %s", got, l.ResourceVersion, e.oldItems, e.rvOld)
			}
			if first {
				t.Logf("the watch cache still serves compacted revision %s from its snapshot: %v", e.rvOld, names(l.Items))
				first = false
			}
		default:
			t.Fatalf("exact list at the compacted revision: %s", r)
		}
		if time.Since(start) > compactionNoticeDeadline {
			t.Fatalf("the watch cache did not notice the compaction at %d within %v", e.compactedAt, compactionNoticeDeadline)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// testExpiredContinueResumes follows the fresh token of a 410 "inconsistent
// continue": it lists the rest from the old token's key at the latest state.
func (e *env) testExpiredContinueResumes(t *testing.T) {
	if e.cache {
		e.waitForCacheToNoticeCompaction(t)
	}
	r := e.list(t, matrixNS, url.Values{"limit": {"2"}, "continue": {e.expiredToken}})
	if r.Code != http.StatusGone {
		t.Fatalf("expired continue: %s", r)
	}
	s := r.status(t)
	r = e.list(t, matrixNS, url.Values{"limit": {"2"}, "continue": {s.Continue}})
	if r.Code != http.StatusOK {
		t.Fatalf("the fresh token: %s", r)
	}
	l := r.list(t)
	if got := names(l.Items); !equal(got, []string{"job-d", "job-e"}) || l.Continue == "" {
		t.Fatalf("the fresh token lists %v (continue %q), want [job-d job-e] and a continue token", got, l.Continue)
	}
	if mustParseRV(t, l.ResourceVersion) < mustParseRV(t, e.current) {
		t.Errorf("the fresh token lists at %s, want the latest state (>= %s)", l.ResourceVersion, e.current)
	}
	r = e.list(t, matrixNS, url.Values{"limit": {"2"}, "continue": {l.Continue}})
	if r.Code != http.StatusOK {
		t.Fatalf("the next page: %s", r)
	}
	if l2 := r.list(t); !equal(names(l2.Items), []string{"job-f"}) || l2.Continue != "" || l2.ResourceVersion != l.ResourceVersion {
		t.Fatalf("the next page: %v continue %q at %s, want [job-f], no continue, at %s", names(l2.Items), l2.Continue, l2.ResourceVersion, l.ResourceVersion)
	}
}
