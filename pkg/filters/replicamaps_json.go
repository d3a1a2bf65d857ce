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
	"bytes"
	"encoding/json"
)

// The filter works on patches and objects as decoded JSON (nested maps);
// these walk, change and encode them.

func nestedMap(obj map[string]interface{}, path ...string) (map[string]interface{}, bool) {
	cur := obj
	for _, p := range path {
		next, ok := cur[p].(map[string]interface{})
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

func nestedString(obj map[string]interface{}, path ...string) (string, bool, error) {
	parent, ok := nestedMap(obj, path[:len(path)-1]...)
	if !ok {
		return "", false, nil
	}
	s, ok := parent[path[len(path)-1]].(string)
	return s, ok && s != "", nil
}

// setNested sets obj[path...] = value, creating the maps on the way.
func setNested(obj map[string]interface{}, value interface{}, path ...string) {
	cur := obj
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			cur[p] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = value
}

// kjsonMarshal encodes without HTML escaping, so the rewritten patch keeps
// the client's strings byte for byte.
func kjsonMarshal(v interface{}) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
