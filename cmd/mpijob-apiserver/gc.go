package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// The server is a cache: its live heap is the watch cache, and Go's default
// (100) lets the heap grow to twice that before collecting. At 50 the
// benchmark's 10,000 objects take a fifth less memory for a cost in CPU
// that docs/BENCHMARKS.md records. GOGC in the environment still wins.
const defaultGCPercent = 50

func setGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
