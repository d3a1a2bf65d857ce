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
	"context"
	"fmt"
	"sync"
)

// counts are the outcomes of the objects seen so far.
type counts struct {
	created, unchanged, refused, differ, statusWritten int
}

// report prints the object's warnings to errOut, then its outcome line to
// out, and counts it.
func (im *importer) report(o object, counter *int, outcome, detail string) {
	im.flushWarnings(o)
	*counter++
	line := outcome + " " + o.key
	if detail != "" {
		line += ": " + detail
	}
	fmt.Fprintln(im.out, line+im.dryRunSuffix())
}

// flushWarnings prints the decoder's warnings and the server's Warning
// headers collected while importing this object, as kubectl prints warnings.
func (im *importer) flushWarnings(o object) {
	for _, w := range append(o.warnings, im.warnings.drain()...) {
		fmt.Fprintf(im.errOut, "Warning: %s: %s\n", o.key, w)
	}
}

func (im *importer) printSummary() {
	c := im.counts
	fmt.Fprintf(im.out, "%d created, %d unchanged, %d refused, %d differ, %d status written%s\n",
		c.created, c.unchanged, c.refused, c.differ, c.statusWritten, im.dryRunSuffix())
}

// result fails the command when the server does not now hold every object
// of the input: a refused object is missing, and one that differs holds
// something else than the export says. Scripts can rely on the exit code.
func (im *importer) result() error {
	c := im.counts
	if c.refused == 0 && c.differ == 0 {
		return nil
	}
	return fmt.Errorf("import incomplete: %d refused, %d differ (see the lines above)", c.refused, c.differ)
}

func (im *importer) dryRunSuffix() string {
	if im.dryRun {
		return " (server dry run)"
	}
	return ""
}

// warningCollector keeps the server's Warning headers (code 299, as
// client-go's own handlers) until the current object's outcome is printed.
type warningCollector struct {
	mu    sync.Mutex
	texts []string
}

func (w *warningCollector) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.texts = append(w.texts, text)
}

func (w *warningCollector) drain() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	texts := w.texts
	w.texts = nil
	return texts
}
