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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Request is one raw HTTP request, so that tests see the code, headers and
// body exactly as they are on the wire.
type Request struct {
	Method string // GET when empty
	URL    string
	// Body is sent as is when it is a []byte or a string, as JSON otherwise;
	// nil sends none.
	Body        any
	ContentType string // application/json when empty and there is a body
	Accept      string // application/json when empty
	// Token is sent as a bearer token unless empty.
	Token  string
	Header map[string]string
}

// Response is what came back.
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
	// Status is the body decoded when it is a metav1.Status.
	Status *metav1.Status
	// Request is "METHOD URL", for messages.
	Request string
}

// String is the request, the code and the body (cut at 2000 bytes), for
// messages.
func (r Response) String() string {
	body := strings.TrimSpace(string(r.Body))
	if len(body) > 2000 {
		body = body[:2000] + "...(truncated)"
	}
	return fmt.Sprintf("%s -> %d %s", r.Request, r.Code, body)
}

// Send sends r with hc and reads the whole answer.
func Send(ctx context.Context, hc *http.Client, r Request) (Response, error) {
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		body = bytes.NewReader(data)
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", orDefault(r.ContentType, "application/json"))
	}
	req.Header.Set("Accept", orDefault(r.Accept, "application/json"))
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, r.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: reading the body: %w", method, r.URL, err)
	}
	out := Response{Code: resp.StatusCode, Header: resp.Header, Body: data, Request: method + " " + r.URL}
	var probe struct{ Kind, APIVersion string }
	if json.Unmarshal(data, &probe) == nil && probe.Kind == "Status" && probe.APIVersion == "v1" {
		var st metav1.Status
		if json.Unmarshal(data, &st) == nil {
			out.Status = &st
		}
	}
	return out, nil
}

// SendForTest is Send that fails t on a transport error.
func SendForTest(t testing.TB, hc *http.Client, r Request) Response {
	t.Helper()
	resp, err := Send(context.Background(), hc, r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ExpectCode fails the test now unless the response has the code.
func ExpectCode(t testing.TB, r Response, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want HTTP %d, got %s", code, r)
	}
}

// ExpectStatus checks that the response has the code and is a v1 Status of
// that code with status Failure and the reason, and that its message
// contains each of contains. A wrong code or a body that is no Status stops
// the test; the rest are reported together.
func ExpectStatus(t testing.TB, r Response, code int, reason metav1.StatusReason, contains ...string) metav1.Status {
	t.Helper()
	ExpectCode(t, r, code)
	if r.Status == nil {
		t.Fatalf("%s: want a v1 Status body, got %s", r.Request, r)
	}
	s := *r.Status
	if s.Status != metav1.StatusFailure {
		t.Errorf("%s: want status Failure, got %q", r.Request, s.Status)
	}
	if int(s.Code) != code {
		t.Errorf("%s: Status.code %d, want %d", r.Request, s.Code, code)
	}
	if s.Reason != reason {
		t.Errorf("%s: want reason %q, got %q (message %q)", r.Request, reason, s.Reason, s.Message)
	}
	for _, c := range contains {
		if !strings.Contains(s.Message, c) {
			t.Errorf("%s: message %q does not contain %q", r.Request, s.Message, c)
		}
	}
	return s
}

// ExpectInvalid checks a 422 Invalid whose message names field (and contains
// each of contains) and whose details have a cause for field.
func ExpectInvalid(t testing.TB, r Response, field string, contains ...string) metav1.Status {
	t.Helper()
	s := ExpectStatus(t, r, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, append([]string{field}, contains...)...)
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			if c.Field == field {
				return s
			}
		}
	}
	t.Errorf("%s: no cause for field %s: %+v", r.Request, field, s.Details)
	return s
}
