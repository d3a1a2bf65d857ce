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

package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
)

// document is one object of the input, as JSON, with where it came from so
// that messages about an object without a usable name can still point at it.
type document struct {
	source string
	raw    json.RawMessage
}

// readInputs reads every file ("-" is stdin) into single objects.
func readInputs(filenames []string, stdin io.Reader) ([]document, error) {
	var docs []document
	usedStdin := false
	for _, name := range filenames {
		var r io.Reader
		source := name
		if name == "-" {
			if usedStdin {
				return nil, errors.New("-f - given twice: standard input can be read once")
			}
			usedStdin = true
			r, source = stdin, "stdin"
		} else {
			f, err := os.Open(name)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			r = f
		}
		d, err := readStream(source, r)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	return docs, nil
}

// readStream splits a YAML stream (documents separated by ---) or a JSON
// stream (concatenated values), the two shapes kubectl prints, into objects.
func readStream(source string, r io.Reader) ([]document, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var docs []document
	for n := 1; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, fmt.Errorf("%s: document %d: %w", source, n, err)
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
			continue // an empty YAML document, e.g. after a trailing ---
		}
		items, err := expand(fmt.Sprintf("%s: document %d", source, n), raw)
		if err != nil {
			return nil, err
		}
		docs = append(docs, items...)
	}
}

// header is what decides whether a document is a list.
type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

// expand turns a list (kubectl's v1 List or a typed MPIJobList, as the API
// returns it) into its items, and a single object into itself.
func expand(source string, raw json.RawMessage) ([]document, error) {
	var h header
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &h); err != nil {
		return nil, fmt.Errorf("%s: not an object: %w", source, err)
	}
	if !strings.HasSuffix(h.Kind, "List") || h.Items == nil {
		return []document{{source: source, raw: raw}}, nil
	}
	var docs []document
	for i, item := range h.Items {
		itemSource := fmt.Sprintf("%s, item %d", source, i+1)
		// The items of a typed list as the API serves them may omit their
		// type; they are of the list's version and of its kind minus "List".
		// A v1 List's items always carry their own (kubectl sets them).
		if h.Kind != "List" {
			var err error
			if item, err = withDefaultType(item, h.APIVersion, strings.TrimSuffix(h.Kind, "List")); err != nil {
				return nil, fmt.Errorf("%s: not an object: %w", itemSource, err)
			}
		}
		sub, err := expand(itemSource, item)
		if err != nil {
			return nil, err
		}
		docs = append(docs, sub...)
	}
	return docs, nil
}

// withDefaultType sets apiVersion and kind on an item that has none.
func withDefaultType(item json.RawMessage, apiVersion, kind string) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := kjson.UnmarshalCaseSensitivePreserveInts(item, &fields); err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, errors.New("null")
	}
	changed := false
	for key, value := range map[string]string{"apiVersion": apiVersion, "kind": kind} {
		if _, ok := fields[key]; !ok {
			fields[key], _ = json.Marshal(value)
			changed = true
		}
	}
	if !changed {
		return item, nil
	}
	return json.Marshal(fields)
}
