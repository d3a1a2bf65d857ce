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
	"strings"
	"testing"
)

// SizedSeedJobForTest is SeedJobForTest grown to about size bytes of JSON
// (±1 KiB) with as many 1000-byte args of the Worker's first container as
// it takes: a valid object of a chosen size, for the request and storage
// size limits.
func SizedSeedJobForTest(t testing.TB, namespace, name string, size int) Object {
	t.Helper()
	o := SeedJobForTest(t, namespace, name)
	base, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 1000
	arg := strings.Repeat("a", chunk)
	// Each arg costs its bytes, two quotes and a comma.
	n := (size - len(base)) / (chunk + 3)
	args := make([]any, 0, n)
	for range n {
		args = append(args, arg)
	}
	worker := o["spec"].(Object)["mpiReplicaSpecs"].(Object)["Worker"].(Object)
	container := worker["template"].(Object)["spec"].(Object)["containers"].([]any)[0].(Object)
	container["args"] = args
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if d := len(data) - size; d > 1024 || d < -1024 {
		t.Fatalf("SizedSeedJobForTest: %d bytes, want %d", len(data), size)
	}
	return o
}
