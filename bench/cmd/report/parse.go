package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tabkit/tabkit/bench"
)

// row is one benchmark's runs.
type row struct {
	op, lib        string // "Read", "tabkit-bolt"; lib is "" for single rows
	ns, bytes, alc []float64
}

func (r *row) median() float64 { return median(r.ns) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchOutput is what go test -bench printed.
type benchOutput struct {
	cpu  string
	rows []*row
}

func (b *benchOutput) find(op, lib string) *row {
	for _, r := range b.rows {
		if r.op == op && r.lib == lib {
			return r
		}
	}
	return nil
}

// procSuffix is the -GOMAXPROCS suffix go test adds to names.
var procSuffix = regexp.MustCompile(`-\d+$`)

func parseBench(path string) (*benchOutput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := &benchOutput{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if cpu, ok := strings.CutPrefix(line, "cpu: "); ok {
			out.cpu = cpu
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
		op, lib, _ := strings.Cut(name, "/")
		r := out.find(op, lib)
		if r == nil {
			r = &row{op: op, lib: lib}
			out.rows = append(out.rows, r)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", path, line, err)
			}
			switch fields[i+1] {
			case "ns/op":
				r.ns = append(r.ns, v)
			case "B/op":
				r.bytes = append(r.bytes, v)
			case "allocs/op":
				r.alc = append(r.alc, v)
			}
		}
	}
	return out, sc.Err()
}

func parseCorrectness(path string) (bench.Correctness, error) {
	var c bench.Correctness
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

// wrkResult is the summary of one wrk run.
type wrkResult struct {
	name, command       string
	rps                 string
	avg, stdev, max     string
	p50, p75, p90, p99  string
	requests, duration  string
	non2xx3xx, sockerrs string
	ok                  bool
}

var (
	wrkLatency   = regexp.MustCompile(`^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)`)
	wrkPercent   = regexp.MustCompile(`^\s*(50|75|90|99)%\s+(\S+)`)
	wrkRequests  = regexp.MustCompile(`^\s*(\d+) requests in (\S+),`)
	wrkRPS       = regexp.MustCompile(`^Requests/sec:\s+(\S+)`)
	wrkNon       = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocketErr = regexp.MustCompile(`Socket errors:\s+(.*)`)
)

func parseWrk(path, name string) wrkResult {
	w := wrkResult{name: name, non2xx3xx: "0", sockerrs: "none"}
	b, err := os.ReadFile(path)
	if err != nil {
		return w
	}
	for _, line := range strings.Split(string(b), "\n") {
		if m := wrkLatency.FindStringSubmatch(line); m != nil {
			w.avg, w.stdev, w.max = m[1], m[2], m[3]
		} else if m := wrkPercent.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case "50":
				w.p50 = m[2]
			case "75":
				w.p75 = m[2]
			case "90":
				w.p90 = m[2]
			case "99":
				w.p99 = m[2]
			}
		} else if m := wrkRequests.FindStringSubmatch(line); m != nil {
			w.requests, w.duration = m[1], m[2]
		} else if m := wrkRPS.FindStringSubmatch(line); m != nil {
			w.rps, w.ok = m[1], true
		} else if m := wrkNon.FindStringSubmatch(line); m != nil {
			w.non2xx3xx = m[1]
		} else if m := wrkSocketErr.FindStringSubmatch(line); m != nil {
			w.sockerrs = strings.TrimSpace(m[1])
		} else if cmd, ok := strings.CutPrefix(line, "# command: "); ok {
			w.command = cmd
		}
	}
	return w
}

// parseMeta reads "key: value" lines in order.
func parseMeta(path string) ([][2]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok {
			out = append(out, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return out, nil
}
