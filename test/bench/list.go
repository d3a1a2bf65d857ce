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

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"
)

// listVariant is one way a client LISTs a namespace.
type listVariant struct {
	label string
	rv    string // "" (a consistent read) or "0" (any cached state)
	limit int    // 0: whole; else pages of this size, following continue
	// protobuf asks for application/vnd.kubernetes.protobuf (whole lists
	// only: the continue token is not looked for in protobuf).
	protobuf bool
}

var listVariants = []listVariant{
	{label: `RV=""`, rv: ""},
	{label: `RV=0`, rv: "0"},
	{label: `RV="", limit=500`, rv: "", limit: 500},
	{label: `RV=0, limit=500`, rv: "0", limit: 500},
}

// listOnce reads a whole LIST (every page) and returns the time and the
// bytes received.
func listOnce(ctx context.Context, p *peer, path string, v listVariant) (time.Duration, int64, error) {
	start := time.Now()
	total := int64(0)
	cont := ""
	for {
		q := url.Values{}
		if v.rv != "" {
			q.Set("resourceVersion", v.rv)
		}
		if v.limit > 0 {
			q.Set("limit", fmt.Sprint(v.limit))
		}
		if cont != "" {
			q.Set("continue", cont)
			// A continued list carries its own resourceVersion.
			q.Del("resourceVersion")
		}
		accept := "application/json"
		if v.protobuf {
			accept = "application/vnd.kubernetes.protobuf"
		}
		resp, err := p.doAccept(ctx, nil, "GET", path+"?"+q.Encode(), "", accept, nil)
		if err != nil {
			return 0, 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, 0, err
		}
		if resp.StatusCode != 200 {
			return 0, 0, fmt.Errorf("LIST %s on %s: %d: %.300s", path, p.name, resp.StatusCode, b)
		}
		total += int64(len(b))
		cont = continueToken(b)
		if v.limit == 0 || cont == "" {
			return time.Since(start), total, nil
		}
	}
}

// continueToken finds metadata.continue without decoding the page, so that
// the client's own cost stays out of the timing. The seed-shaped objects hold
// no such key, so the only match is the list's own.
func continueToken(page []byte) string {
	const key = `"continue":"`
	i := bytes.LastIndex(page, []byte(key))
	if i < 0 {
		return ""
	}
	rest := page[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// countItems LISTs once and counts the items, to prove a peer holds what the
// benchmark loaded before timing it.
func countItems(ctx context.Context, p *peer, path string) (int, error) {
	b, err := p.call(ctx, "GET", path, nil, 200)
	if err != nil {
		return 0, err
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}
