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
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// Object is a JSON object as it is on the wire.
type Object = map[string]any

// SeedJob is the seed's MPIJob (artifacts/mpijobs/mpi-test.yaml, the job of
// the original API page) as a JSON object, a fresh copy on every call.
func SeedJob() (Object, error) {
	path, err := RepoPath("artifacts", "mpijobs", "mpi-test.yaml")
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("harness: %s: %w", path, err)
	}
	var o Object
	return o, json.Unmarshal(j, &o)
}

// SeedList is the seed's example list response
// (test/testdata/mpijob-list-response.json).
func SeedList() (Object, error) {
	path, err := RepoPath("test", "testdata", "mpijob-list-response.json")
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var o Object
	return o, json.Unmarshal(data, &o)
}
