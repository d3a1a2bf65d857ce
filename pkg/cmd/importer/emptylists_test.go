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

package importer_test

import (
	"encoding/json"
	"testing"

	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestImportKeepsEmptyLists: an exported `conditions: []` and
// `replicaStatuses: {}` read back as written, not as null (the import speaks
// JSON; protobuf has no empty list apart from an absent one).
func TestImportKeepsEmptyLists(t *testing.T) {
	s := inprocess.Start(t)
	job := exported(t, "imp", "empty")
	job["status"] = map[string]any{
		"conditions":      []any{},
		"replicaStatuses": map[string]any{},
		"startTime":       "2019-07-29T03:05:59Z",
	}
	file := writeFile(t, "export.json", toJSON(t, vList(job)))
	if r := runImport(t, "", "--kubeconfig", kubeconfig(s), "-f", file); r.err != nil {
		t.Fatal(r.err)
	}
	raw, err := s.Client.KubeflowV1alpha2().RESTClient().Get().
		AbsPath("/apis/kubeflow.org/v1alpha2/namespaces/imp/mpijobs/empty").
		SetHeader("Accept", "application/json").DoRaw(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Status map[string]json.RawMessage `json:"status"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]string{"conditions": "[]", "replicaStatuses": "{}"} {
		if string(got.Status[field]) != want {
			t.Errorf("status.%s = %s, want %s", field, got.Status[field], want)
		}
	}
}
