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
	"html"
	"math"
)

// svgChart draws ours/CRD for every row with a peer as a bar on a log scale
// from 0.01× to 10×: left of the 1× line we use less (or, for throughput,
// the CRD does more), with each row's goal as a tick.
func (r *results) svgChart() []byte {
	type bar struct {
		label      string
		ratio      float64
		goal       float64
		better, ok bool
	}
	var bars []bar
	for _, x := range r.rows {
		v, ok := x.peerRatio()
		if !ok {
			continue
		}
		// Throughput is better when higher: chart its inverse so that
		// every bar reads "shorter is better".
		shown, goal := v, x.goalPeer
		label := x.metric
		if !x.lowerBetter {
			shown = 1 / v
			if goal > 0 {
				goal = 1 / goal
			}
			label += " (CRD/ours)"
		}
		bars = append(bars, bar{label: label, ratio: shown, goal: goal, better: shown < 1, ok: x.goalPeer == 0 || x.met(v, x.goalPeer)})
	}
	const (
		width, rowH, top = 420.0, 26.0, 40.0
		lo, hi           = 0.01, 10.0
		// charWidth is roughly a 12px sans-serif character, to leave room
		// for the longest label left of the bars.
		charWidth = 6.6
	)
	left := 200.0
	for _, br := range bars {
		left = math.Max(left, charWidth*float64(len([]rune(br.label)))+20)
	}
	pos := func(v float64) float64 {
		v = math.Max(lo, math.Min(hi, v))
		return left + width*(math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
	}
	h := top + rowH*float64(len(bars)) + 40
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", left+width+70, h)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14">mpijob-apiserver / CRD peer (log scale; shorter is better; ticks are goals)</text>`+"\n")
	for _, t := range []float64{0.01, 0.1, 1, 10} {
		x := pos(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#bbb"/>`+"\n", x, top-8, x, h-30)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%g×</text>`+"\n", x, h-14, t)
	}
	for i, br := range bars {
		y := top + rowH*float64(i)
		color := "#2e7d32"
		if !br.ok {
			color = "#e65100"
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%s</text>`+"\n", left-8, y+14, html.EscapeString(br.label))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="16" fill="%s"/>`+"\n", left, y+2, pos(br.ratio)-left, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f">%.2f×</text>`+"\n", pos(br.ratio)+4, y+14, br.ratio)
		if br.goal > 0 {
			gx := pos(br.goal)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#000" stroke-width="2"/>`+"\n", gx, y, gx, y+20)
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}
