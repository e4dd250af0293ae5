package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartWidth = 900
	labelRight = 300 // labels end here, bars start
	barsRight  = 780 // the largest decade ends here; values go after
	rowHeight  = 20
	barHeight  = 14
	topMargin  = 50
	groupGap   = 10
)

// chart draws the median time per request of every row as a horizontal
// bar on a log scale, grouped by operation.
func chart(b *benchOutput) string {
	type bar struct {
		label string
		ns    float64
		kind  string // "tabkit", "peer" or "floor"
	}
	var groups [][]bar
	lo, hi := math.Inf(1), 0.0
	for _, op := range ops {
		var g []bar
		if r := b.find(op.name, ""); r != nil {
			g = append(g, bar{op.name, r.median(), "floor"})
		}
		for _, lib := range libs {
			if r := b.find(op.name, lib); r != nil {
				kind := "peer"
				if isTabkit(lib) {
					kind = "tabkit"
				}
				label := op.name + " · " + lib
				if fsyncs[lib] && strings.Contains(op.name, "Write") {
					label += " (fsync)"
				}
				g = append(g, bar{label, r.median(), kind})
			}
		}
		for _, x := range g {
			lo, hi = math.Min(lo, x.ns), math.Max(hi, x.ns)
		}
		if len(g) > 0 {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`
	}
	decLo, decHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if decHi == decLo {
		decHi++
	}
	x := func(ns float64) float64 {
		return labelRight + (math.Log10(ns)-decLo)/(decHi-decLo)*(barsRight-labelRight)
	}
	rows := 0
	for _, g := range groups {
		rows += len(g)
	}
	height := topMargin + rows*rowHeight + (len(groups)-1)*groupGap + 40

	var s strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&s, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", chartWidth, height, chartWidth, height)
	p(`<rect width="100%%" height="100%%" fill="#fff"/>` + "\n")
	p(`<text x="10" y="20" font-size="15" font-weight="bold">Median time per request (log scale; shorter is cheaper)</text>` + "\n")
	p(`<text x="10" y="38" fill="#555">Echo v4 in-process; 64-client rows: wall time per request with 64 in flight. Blue: tabkit. Orange: peers. Grey: Echo alone, raw bbolt.</text>` + "\n")
	bottom := height - 30
	for d := decLo; d <= decHi; d++ {
		gx := x(math.Pow(10, d))
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", gx, topMargin-4, gx, bottom)
		p(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", gx, bottom+16, decade(d))
	}
	colors := map[string]string{"tabkit": "#2b6cb0", "peer": "#dd6b20", "floor": "#888"}
	y := topMargin
	for i, g := range groups {
		if i > 0 {
			y += groupGap
		}
		for _, r := range g {
			w := math.Max(x(r.ns)-labelRight, 1)
			p(`<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelRight-6, y+barHeight-3, html.EscapeString(r.label))
			p(`<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", labelRight, y, w, barHeight, colors[r.kind])
			p(`<text x="%.1f" y="%d" fill="#222">%s</text>`+"\n", labelRight+w+4, y+barHeight-3, html.EscapeString(dur(r.ns)))
			y += rowHeight
		}
	}
	p("</svg>\n")
	return s.String()
}

// decade labels 10^d nanoseconds: "1 µs", "10 µs", "1 ms".
func decade(d float64) string {
	units := []string{"ns", "µs", "ms", "s"}
	i := min(int(d)/3, len(units)-1)
	return fmt.Sprintf("%.0f %s", math.Pow(10, d-float64(3*i)), units[i])
}
