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

package api

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/mpijob/mpijob-apiserver/test/harness"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestRestart: a restart on the same data dir keeps every object and the
// admin token.
func TestRestart(t *testing.T) {
	s1 := inprocess.Start(t)
	e1 := newEnv(t, s1)
	const ns = "restart-ns"
	names := []string{"one", "two", "three"}
	for i, n := range names {
		o := harness.SeedJobForTest(t, ns, n)
		set(t, o, obj{"idx": strconv.Itoa(i)}, "metadata", "labels")
		e1.create(t, o)
	}
	e1.create(t, harness.SeedJobForTest(t, "restart-other", "four"))
	cur := e1.read(t, ns, "two")
	cur["status"] = seedStatus(t)
	harness.ExpectCode(t, e1.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "two") + "/status", Body: cur}), http.StatusOK)

	before := map[string]obj{}
	for _, n := range names {
		before[n] = e1.read(t, ns, n)
	}
	beforeFour := e1.read(t, "restart-other", "four")
	r := e1.do(t, harness.Request{Method: "GET", URL: nsPath(ns)})
	harness.ExpectCode(t, r, http.StatusOK)
	listRV, _ := strconv.ParseInt(metaString(t, r.Object(t), "resourceVersion"), 10, 64)
	_ = e1.etcd.Close()
	s1.Stop()

	s2 := inprocess.StartOn(t, s1.DataDir)
	if s2.Admin.Token != s1.Admin.Token {
		t.Errorf("admin token changed across the restart")
	}
	e2 := newEnv(t, s2)
	// The old token works against the new server.
	r = e2.do(t, harness.Request{Method: "GET", URL: nsPath(ns), Token: s1.Admin.Token})
	harness.ExpectCode(t, r, http.StatusOK)
	if n := len(r.Object(t)["items"].([]interface{})); n != len(names) {
		t.Errorf("list after restart has %d items, want %d", n, len(names))
	}
	for _, n := range names {
		if d := diff(before[n], e2.read(t, ns, n)); d != "" {
			t.Errorf("%s changed across the restart (-before +after):\n%s", n, d)
		}
	}
	if d := diff(beforeFour, e2.read(t, "restart-other", "four")); d != "" {
		t.Errorf("four changed across the restart (-before +after):\n%s", d)
	}
	// The store goes on: new writes get later resourceVersions.
	created := e2.create(t, harness.SeedJobForTest(t, ns, "five"))
	rv, _ := strconv.ParseInt(metaString(t, created, "resourceVersion"), 10, 64)
	if rv <= listRV {
		t.Errorf("resourceVersion after restart %d is not after %d", rv, listRV)
	}
	// And the objects are still writable with their old resourceVersion.
	old := before["one"]
	set(t, old, float64(3), "spec", "slotsPerWorker")
	harness.ExpectCode(t, e2.do(t, harness.Request{Method: "PUT", URL: objPath(ns, "one"), Body: old}), http.StatusOK)
}
