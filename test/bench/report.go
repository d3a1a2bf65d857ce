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

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// row is one measurement of the table.
type row struct {
	metric      string
	unit        string
	ours        summary
	peer        *summary // the CRD peer, when it is measured too
	floor       *summary // the physical floor, when there is one
	lowerBetter bool
	// Goals, zero when none: ours/peer, ours/floor, and an absolute bound.
	goalPeer, goalFloor, goalAbs float64
	// peerName is what the peer column holds when it is not the CRD peer,
	// for the goal's text.
	peerName string
}

func (r *results) add(x row) { r.rows = append(r.rows, x) }

func (x row) peerRatio() (float64, bool) {
	if x.peer == nil || x.peer.median == 0 {
		return 0, false
	}
	return x.ours.median / x.peer.median, true
}

func (x row) floorRatio() (float64, bool) {
	if x.floor == nil || x.floor.median == 0 {
		return 0, false
	}
	return x.ours.median / x.floor.median, true
}

// met says whether ratio v reaches goal g in the row's direction.
func (x row) met(v, g float64) bool {
	if x.lowerBetter {
		return v <= g
	}
	return v >= g
}

func (x row) goalText() string {
	cmp := "≥"
	if x.lowerBetter {
		cmp = "≤"
	}
	var parts []string
	if x.goalPeer > 0 {
		name := x.peerName
		if name == "" {
			name = "CRD"
		}
		parts = append(parts, fmt.Sprintf("%s %g× %s", cmp, x.goalPeer, name))
	}
	if x.goalFloor > 0 {
		parts = append(parts, fmt.Sprintf("%s %g× floor", cmp, x.goalFloor))
	}
	if x.goalAbs > 0 {
		parts = append(parts, fmt.Sprintf("%s %g %s", cmp, x.goalAbs, x.unit))
	}
	return strings.Join(parts, ", ")
}

// verdict is "met", "missed" or "" against every goal of the row.
func (x row) verdict() string {
	checked, ok := false, true
	if v, has := x.peerRatio(); has && x.goalPeer > 0 {
		checked, ok = true, ok && x.met(v, x.goalPeer)
	}
	if v, has := x.floorRatio(); has && x.goalFloor > 0 {
		checked, ok = true, ok && x.met(v, x.goalFloor)
	}
	if x.goalAbs > 0 {
		checked, ok = true, ok && x.met(x.ours.median, x.goalAbs)
	}
	switch {
	case !checked:
		return ""
	case ok:
		return "met"
	default:
		return "missed"
	}
}

func fmtValue(s summary) string {
	num := func(v float64) string {
		switch {
		case v >= 100:
			return fmt.Sprintf("%.0f", v)
		case v >= 10:
			return fmt.Sprintf("%.1f", v)
		default:
			return fmt.Sprintf("%.2f", v)
		}
	}
	if s.n <= 1 || s.min == s.max {
		return num(s.median)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.median), num(s.min), num(s.max))
}

func ratioText(v float64, ok bool) string {
	if !ok {
		return ""
	}
	return fmt.Sprintf("%.2f×", v)
}

func (x row) cells() []string {
	peer, floor := "", ""
	if x.peer != nil {
		peer = fmtValue(*x.peer)
	}
	if x.floor != nil {
		floor = fmtValue(*x.floor)
	}
	pr, pok := x.peerRatio()
	fr, fok := x.floorRatio()
	return []string{x.metric, x.unit, fmtValue(x.ours), peer, ratioText(pr, pok), floor, ratioText(fr, fok), x.goalText(), x.verdict()}
}

var header = []string{"measure", "unit", "mpijob-apiserver", "CRD peer", "ours/CRD", "floor", "ours/floor", "goal", ""}

func (r *results) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, x := range r.rows {
		fmt.Fprintln(tw, strings.Join(x.cells(), "\t"))
	}
	_ = tw.Flush()
	for _, f := range r.failures {
		fmt.Fprintf(w, "FAILED: %s\n", f)
	}
	fmt.Fprintf(w, "\nload rate: %s %.0f objects/s, %s %.0f objects/s; values are medians (min–max) of %d rounds\n",
		ourName, r.loadRate[ourName], peerName, r.loadRate[peerName], r.cfg.rounds)
}

const (
	beginMarker = "<!-- bench:begin (written by test/bench; edits between the markers are lost) -->"
	endMarker   = "<!-- bench:end -->"
)

// writeMarkdown replaces the part of the file between the bench markers
// with this run's machine, table and chart, keeping the rest of the file.
func (r *results) writeMarkdown(path, svgPath string) error {
	var b bytes.Buffer
	fmt.Fprintln(&b, beginMarker)
	fmt.Fprintf(&b, "\n**Machine:** %s\n\n", r.machine)
	fmt.Fprintf(&b, "**Run:** `%s`, %d objects (corpus: %s) over %d namespaces, %d rounds, %d LISTs of each kind per round, %d creates per round, %d watchers at %d writes/s for %d s per round.\n\n",
		r.cfg.command(), r.cfg.objects, r.cfg.corpus, r.cfg.namespaces, r.cfg.rounds, r.cfg.listSamples, r.cfg.creates, r.cfg.watchers, r.cfg.watchRate, r.cfg.watchSeconds)
	fmt.Fprintln(&b, "| "+strings.Join(header[:len(header)-1], " | ")+" | verdict |")
	fmt.Fprintln(&b, "|"+strings.Repeat("---|", len(header)))
	for _, x := range r.rows {
		fmt.Fprintln(&b, "| "+strings.Join(x.cells(), " | ")+" |")
	}
	fmt.Fprintf(&b, "\nValues are medians with (min–max) over all samples; the watch p50 is over every event every watcher saw, and the p99 rows are the median (min–max) of the rounds' own p99s. Loading ran at %.0f objects/s into %s and %.0f objects/s into the CRD peer.\n",
		r.loadRate[ourName], ourName, r.loadRate[peerName])
	for _, f := range r.failures {
		fmt.Fprintf(&b, "\n**Failed:** %s\n", f)
	}
	if svgPath != "" {
		rel, err := filepath.Rel(filepath.Dir(path), svgPath)
		if err != nil {
			rel = svgPath
		}
		fmt.Fprintf(&b, "\n![ours/CRD ratios](%s)\n", rel)
	}
	fmt.Fprintln(&b, "\n"+endMarker)

	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(old)
	i, j := strings.Index(doc, beginMarker), strings.Index(doc, endMarker)
	if i < 0 || j < i {
		doc = "# Benchmarks\n\n" + b.String()
	} else {
		doc = doc[:i] + b.String() + doc[j+len(endMarker)+1:]
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

// command is the invocation that reproduces this run.
func (c *config) command() string {
	if c.quick {
		return "make bench BENCH_ARGS=--quick"
	}
	args := []string{}
	if c.objects != 10000 {
		args = append(args, fmt.Sprintf("--objects=%d", c.objects))
	}
	if c.namespaces != 10 {
		args = append(args, fmt.Sprintf("--namespaces=%d", c.namespaces))
	}
	if c.watchers != 200 {
		args = append(args, fmt.Sprintf("--watchers=%d", c.watchers))
	}
	if len(args) == 0 {
		return "make bench"
	}
	return fmt.Sprintf("make bench BENCH_ARGS='%s'", strings.Join(args, " "))
}
