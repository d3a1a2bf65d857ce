package apiserver

import (
	"bytes"
	"encoding/json"
	"net/http"
)

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

// bufferedResponse holds a response until the filter decides whether to
// send it or to try again.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
