// Package faults holds the heavy fault-injection tests of docs/RELIABILITY.md:
// crash safety of the embedded etcd under kill -9, and overload (max-in-flight
// limits, slow watch readers). They start the built binary and need the
// `faults` build tag, so plain `go test ./...` skips them; run them with
// `make test-faults`.
package faults
