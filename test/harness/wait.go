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

package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Poll calls check every interval until it returns true, the process p (if
// any) exits, or ctx ends; the error then says what was awaited, carries
// check's last error and the tail of p's log.
func Poll(ctx context.Context, what string, p *Process, interval time.Duration, check func(context.Context) (bool, error)) error {
	var last error
	for {
		ok, err := check(ctx)
		if ok {
			return nil
		}
		last = err
		if p != nil {
			if exited, err := p.Exited(); exited {
				return fmt.Errorf("harness: %s exited (%v) while waiting for %s; log %s:\n%s", p.Name, err, what, p.LogFile, p.LogTail(30))
			}
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("harness: timed out waiting for %s (last error: %v)", what, last)
			if p != nil {
				msg += fmt.Sprintf("; log %s:\n%s", p.LogFile, p.LogTail(30))
			}
			return errors.New(msg)
		case <-time.After(interval):
		}
	}
}

// WaitHTTPOK polls url (a /readyz, /healthz or /health) with hc every
// interval until it answers 200, the process p (if any) exits, or ctx ends.
// The error carries the failing checks of a verbose health answer.
func WaitHTTPOK(ctx context.Context, what string, p *Process, hc *http.Client, url string, interval time.Duration) error {
	return Poll(ctx, what, p, interval, func(ctx context.Context) (bool, error) {
		r, err := Send(ctx, hc, Request{URL: url})
		if err != nil {
			return false, err
		}
		if r.Code != http.StatusOK {
			return false, fmt.Errorf("%d: %s", r.Code, failedChecks(string(r.Body)))
		}
		return true, nil
	})
}

// failedChecks keeps the failing lines ("[-]...") of a verbose health answer.
func failedChecks(body string) string {
	var failed []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "[-]") {
			failed = append(failed, l)
		}
	}
	if len(failed) == 0 {
		return strings.TrimSpace(body)
	}
	return strings.Join(failed, "; ")
}
