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
	"encoding/json"
	"testing"
)

// Object decodes the body as a JSON object; it fails the test now when the
// body is none.
func (r Response) Object(t testing.TB) Object {
	t.Helper()
	var o Object
	if err := json.Unmarshal(r.Body, &o); err != nil {
		t.Fatalf("%s: the body is not a JSON object: %v: %s", r.Request, err, r)
	}
	return o
}

// ExpectObject fails the test now unless the response has the code and a
// JSON object body, which it returns.
func ExpectObject(t testing.TB, r Response, code int) Object {
	t.Helper()
	ExpectCode(t, r, code)
	return r.Object(t)
}
