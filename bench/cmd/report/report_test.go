package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"odd", []float64{5, 1, 3}, 3},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDur(t *testing.T) {
	tests := []struct {
		ns   float64
		want string
	}{
		{850, "850 ns"},
		{8670, "8.67 µs"},
		{25300, "25.3 µs"},
		{132000, "132 µs"},
		{1963000, "1.96 ms"},
		{16500000, "16.5 ms"},
	}
	for _, tt := range tests {
		if got := dur(tt.ns); got != tt.want {
			t.Errorf("dur(%v): got %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestParseBench(t *testing.T) {
	out := `goos: linux
cpu: Test CPU
BenchmarkBaseline-2      	  144412	      7685 ns/op	    6121 B/op	      19 allocs/op
BenchmarkRead/tabkit-bolt-2	   1000	     25300 ns/op	   10115 B/op	      68 allocs/op
BenchmarkBaseline-2      	  144412	      9685 ns/op	    6121 B/op	      19 allocs/op
BenchmarkBoltBatch64-2   	   5000	    211000 ns/op
PASS
`
	path := filepath.Join(t.TempDir(), "bench.txt")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := parseBench(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.cpu != "Test CPU" {
		t.Errorf("cpu: got %q, want %q", b.cpu, "Test CPU")
	}
	tests := []struct {
		op, lib    string
		runs       int
		wantMedian float64
	}{
		{"Baseline", "", 2, 8685},
		{"Read", "tabkit-bolt", 1, 25300},
		{"BoltBatch64", "", 1, 211000},
	}
	for _, tt := range tests {
		r := b.find(tt.op, tt.lib)
		if r == nil {
			t.Errorf("%s/%s: missing", tt.op, tt.lib)
			continue
		}
		if len(r.ns) != tt.runs || r.median() != tt.wantMedian {
			t.Errorf("%s/%s: got %d runs, median %v; want %d, %v", tt.op, tt.lib, len(r.ns), r.median(), tt.runs, tt.wantMedian)
		}
	}
	if svg := chart(b); !strings.Contains(svg, "Read · tabkit-bolt") {
		t.Errorf("chart lacks the Read · tabkit-bolt bar")
	}
}
