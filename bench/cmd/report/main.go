// Command report turns the outputs of bench/run — go test -bench text,
// the correctness JSON, wrk's summaries and a few facts about the
// machine — into docs/BENCHMARKS.md and the bar chart
// docs/bench-chart.svg.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/tabkit/tabkit/bench"
)

func main() {
	benchPath := flag.String("bench", "bench.txt", "go test -bench output")
	corrPath := flag.String("correctness", "correctness.json", "output of cmd/correctness")
	wrkRead := flag.String("wrk-read", "", "wrk output of the read page")
	wrkAdd := flag.String("wrk-add", "", "wrk output of the add-to-cart POST")
	metaPath := flag.String("meta", "meta.txt", "\"key: value\" facts about the run")
	mdPath := flag.String("md", "../docs/BENCHMARKS.md", "Markdown to write")
	svgPath := flag.String("svg", "../docs/bench-chart.svg", "SVG chart to write")
	flag.Parse()
	if err := run(*benchPath, *corrPath, *wrkRead, *wrkAdd, *metaPath, *mdPath, *svgPath); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(benchPath, corrPath, wrkRead, wrkAdd, metaPath, mdPath, svgPath string) error {
	b, err := parseBench(benchPath)
	if err != nil {
		return err
	}
	if b.find("Baseline", "") == nil {
		return fmt.Errorf("%s: no BenchmarkBaseline", benchPath)
	}
	corr, err := parseCorrectness(corrPath)
	if err != nil {
		return err
	}
	meta, err := parseMeta(metaPath)
	if err != nil {
		return err
	}
	var wrk []wrkResult
	if wrkRead != "" {
		wrk = append(wrk, parseWrk(wrkRead, "register page (GET /0/)"))
	}
	if wrkAdd != "" {
		wrk = append(wrk, parseWrk(wrkAdd, "add to cart (POST /0/cart/items)"))
	}
	if err := os.WriteFile(svgPath, []byte(chart(b)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(mdPath, []byte(markdown(b, corr, wrk, meta)), 0o644)
}

// ops are the benchmark families in the order they are shown.
var ops = []struct{ name, what string }{
	{"Baseline", "Echo alone, no session middleware"},
	{"NoTouch", "middleware on, the handler ignores the session, no cookie"},
	{"Read", "read one value of an existing session"},
	{"Write", "write one value, one client"},
	{"Write64", "write one value, 64 clients at once, one session each"},
	{"TabWrite64", "the same through c.Session().Tab() (tabkit only)"},
	{"BoltUpdate", "raw bbolt: one db.Update of a 100-byte value"},
	{"BoltBatch64", "raw bbolt: db.Batch from 64 goroutines"},
}

// singleClient ops are compared over the baseline: the cost a library
// adds to one request. Parallel ops report wall time per request with
// 64 in flight (the inverse of throughput), compared as they are.
var singleClient = map[string]bool{"NoTouch": true, "Read": true, "Write": true}

// libs are the libraries in the order they are shown.
var libs = []string{"tabkit-memory", "tabkit-bolt", "tabkit-redis", "tabkit-redis-cluster", "tabkit-redis-cluster-wait", "tabkit-postgres", "scs-memstore", "scs-boltstore", "scs-pgxstore", "gorilla-cookie", "gorilla-filesystem"}

// fsyncs marks the libraries whose writes are on disk when answered.
var fsyncs = map[string]bool{"tabkit-bolt": true, "scs-boltstore": true, "tabkit-postgres": true, "scs-pgxstore": true}

var storage = map[string]string{
	"tabkit-memory":             "process memory",
	"tabkit-bolt":               "bbolt, fsync per commit (group commit)",
	"tabkit-redis":              "Redis 7 on loopback, no persistence",
	"tabkit-postgres":           "PostgreSQL on loopback, a row per value, WAL flushed at commit",
	"scs-pgxstore":              "PostgreSQL on loopback, one row per session, WAL flushed at commit",
	"scs-memstore":              "process memory",
	"scs-boltstore":             "bbolt, fsync per commit (db.Update)",
	"gorilla-cookie":            "the cookie (signed)",
	"gorilla-filesystem":        "one file per session, no fsync",
	"tabkit-redis-cluster":      "Redis 7 Cluster on loopback, 3 masters + 3 replicas, no persistence",
	"tabkit-redis-cluster-wait": "the same cluster, each write acknowledged by its replica (WaitReplicas 1)",
}

func isTabkit(lib string) bool { return strings.HasPrefix(lib, "tabkit") }

func dur(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e4:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	case ns < 1e5:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case ns < 1e6:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	case ns < 1e7:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	default:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	}
}

// overBaseline shows a row's cost over the baseline; a median at or
// under the baseline's is noise, not a saving.
func overBaseline(ns float64) string {
	if ns <= 0 {
		return "≈0 (noise)"
	}
	return "+" + dur(ns)
}

// costRatio is peer/tabkit, or a dash when either is lost in the noise
// of the baseline.
func costRatio(peer, tabkit float64) string {
	if peer <= 0 || tabkit <= 0 {
		return "—"
	}
	return ratio(peer / tabkit)
}

func ratio(x float64) string {
	switch {
	case math.IsInf(x, 0) || math.IsNaN(x):
		return "—"
	case x >= 100:
		return fmt.Sprintf("%.0f×", x)
	case x >= 10:
		return fmt.Sprintf("%.1f×", x)
	default:
		return fmt.Sprintf("%.2f×", x)
	}
}

// cost is what a row is compared by: over the baseline for one client,
// the whole time for parallel rows and floors.
func cost(b *benchOutput, r *row) float64 {
	if singleClient[r.op] {
		return r.median() - b.find("Baseline", "").median()
	}
	return r.median()
}

func markdown(b *benchOutput, corr bench.Correctness, wrk []wrkResult, meta [][2]string) string {
	var s strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&s, format, args...) }
	base := b.find("Baseline", "").median()

	p("# Benchmarks\n\n")
	p("Cost and correctness of tabkit next to the session libraries Go Echo apps\n")
	p("usually pick, measured in one run on one machine. Generated by `bench/run`;\n")
	p("do not edit by hand — rerun it.\n\n")
	p("![Median time per request, log scale](bench-chart.svg)\n\n")

	p("## Reproduce\n\n```sh\nbench/run            # about 10–15 minutes; rewrites this file and the chart\n```\n\n")
	p("It runs `go test -run '^$' -bench .` in `bench/` (a module of its own, so\n")
	p("tabkit never depends on the libraries compared) six times, each round\n")
	p("visiting every row so that load from elsewhere falls on all of them alike\n")
	p("(`benchstat bench/results/bench.txt` reads the rounds as a `-count 6` run),\n")
	p("then the correctness\n")
	p("program `bench/cmd/correctness`, and wrk against the demo. Every benchmark\n")
	p("row drives Echo v4 in-process through `httptest` with the same routes for\n")
	p("every library (`bench/apps.go`), so it measures middleware and store, not\n")
	p("a network. Figures are medians of the runs, with min–max.\n\n")

	p("## Machine and run\n\n")
	for _, kv := range meta {
		p("- **%s**: %s\n", kv[0], kv[1])
	}
	if b.cpu != "" {
		p("- **cpu (go test)**: %s\n", b.cpu)
	}
	p("\nThe machine is shared: the load averages above say how busy it was, and\n")
	p("absolute numbers move with it. Ratios within one run are steadier.\n\n")

	targets(&s, b, corr)

	p("## Cost per request\n\n")
	p("Median of the runs (min–max). \"Over baseline\" is what the library adds to\n")
	p("Echo's own %s for the same route; for the 64-client rows the time is wall\n", dur(base))
	p("time per request with 64 in flight on the machine's cores (the inverse of\n")
	p("throughput), so it is compared as it is.\n\n")
	for _, op := range ops {
		var rows []*row
		if r := b.find(op.name, ""); r != nil {
			rows = append(rows, r)
		}
		for _, lib := range libs {
			if r := b.find(op.name, lib); r != nil {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		p("### %s — %s\n\n", op.name, op.what)
		if singleClient[op.name] {
			p("| library | median | min–max | over baseline | × baseline | B/op | allocs/op |\n|---|--:|--:|--:|--:|--:|--:|\n")
		} else {
			p("| library | median | min–max | requests/s | × baseline | B/op | allocs/op |\n|---|--:|--:|--:|--:|--:|--:|\n")
		}
		for _, r := range rows {
			name := r.lib
			if name == "" {
				name = op.name
			}
			if isTabkit(name) {
				name = "**" + name + "**"
			}
			m := r.median()
			third := fmt.Sprintf("%.0f", 1e9/m)
			if singleClient[op.name] {
				third = overBaseline(m - base)
			}
			bytes, allocs := "—", "—"
			if len(r.bytes) > 0 {
				bytes, allocs = fmt.Sprintf("%.0f", median(r.bytes)), fmt.Sprintf("%.0f", median(r.alc))
			}
			p("| %s | %s | %s–%s | %s | %s | %s | %s |\n", name, dur(m), dur(slices.Min(r.ns)), dur(slices.Max(r.ns)), third, ratio(m/base), bytes, allocs)
		}
		p("\n")
	}

	p("## tabkit against each peer\n\n")
	p("How many times cheaper tabkit is: the peer's cost divided by tabkit's, by\n")
	p("cost over baseline for one client and by whole time for 64 clients.\n")
	p("Above 1× tabkit is cheaper; below, the peer is.\n\n")
	var peers []string
	for _, lib := range libs {
		if !isTabkit(lib) && b.find("Read", lib) != nil {
			peers = append(peers, lib)
		}
	}
	p("| operation | tabkit | %s |\n|---|---|%s\n", strings.Join(peers, " | "), strings.Repeat("--:|", len(peers)))
	for _, op := range []string{"NoTouch", "Read", "Write", "Write64"} {
		for _, lib := range libs {
			t := b.find(op, lib)
			if !isTabkit(lib) || t == nil {
				continue
			}
			p("| %s | %s |", op, lib)
			for _, peer := range peers {
				if r := b.find(op, peer); r != nil {
					p(" %s |", costRatio(cost(b, r), cost(b, t)))
				} else {
					p(" — |")
				}
			}
			p("\n")
		}
	}
	p("\nNo-touch rows add little to the baseline in any library; at that size\n")
	p("their ratios mostly show noise. Compare durable with durable: tabkit-bolt,\n")
	p("scs-boltstore, tabkit-postgres and scs-pgxstore are on disk when they\n")
	p("answer a write; the memory stores, the cookie store,\n")
	p("Redis without persistence and gorilla's files (written without fsync) do\n")
	p("not.\n\n")
	p("| library | where the session lives |\n|---|---|\n")
	for _, lib := range libs {
		if b.find("Read", lib) != nil {
			p("| %s | %s |\n", lib, storage[lib])
		}
	}
	p("\n")

	correctness(&s, corr)
	wrkSection(&s, wrk)
	notes(&s)
	return s.String()
}

func targets(s *strings.Builder, b *benchOutput, corr bench.Correctness) {
	p := func(format string, args ...any) { fmt.Fprintf(s, format, args...) }
	p("## Targets\n\n")
	p("Goals tabkit is measured against (not tests: a miss is reported, not hidden).\n\n")
	p("Time ratios move with the machine's load; for the read targets the\n")
	p("allocations each library adds to the baseline's request, which do not,\n")
	p("are shown beside them.\n\n")
	p("| target | measured | allocations over baseline | met |\n|---|--:|--:|:-:|\n")
	allocs := "—"
	check := func(name string, got, want float64, ok bool) {
		defer func() { allocs = "—" }()
		if !ok {
			p("| %s | not measured | — | — |\n", name)
			return
		}
		if got <= 0 || math.IsInf(got, 0) || math.IsNaN(got) {
			p("| %s | not measurable: a cost at or under the baseline (noise) | %s | — |\n", name, allocs)
			return
		}
		met := "no"
		if got >= want {
			met = "yes"
		}
		p("| %s | %s | %s | %s |\n", name, ratio(got), allocs, met)
	}
	baseAllocs := median(b.find("Baseline", "").alc)
	allocRatio := func(a, c string) string {
		ra, rc := b.find("Read", a), b.find("Read", c)
		if ra == nil || rc == nil || len(ra.alc) == 0 || len(rc.alc) == 0 {
			return "—"
		}
		x, y := median(ra.alc)-baseAllocs, median(rc.alc)-baseAllocs
		if x <= 0 {
			return "—"
		}
		return fmt.Sprintf("%.0f vs %.0f: %s", x, y, ratio(y/x))
	}
	over := func(op, a, c string) (float64, bool) {
		ra, rc := b.find(op, a), b.find(op, c)
		if ra == nil || rc == nil {
			return 0, false
		}
		if cost(b, ra) <= 0 || cost(b, rc) <= 0 {
			return math.NaN(), true
		}
		return cost(b, rc) / cost(b, ra), true
	}
	got, ok := over("Read", "tabkit-memory", "scs-memstore")
	allocs = allocRatio("tabkit-memory", "scs-memstore")
	check("tabkit-memory read ≥ 10× cheaper than scs-memstore, over baseline", got, 10, ok)
	got, ok = over("Read", "tabkit-bolt", "scs-memstore")
	allocs = allocRatio("tabkit-bolt", "scs-memstore")
	check("tabkit-bolt read ≥ 10× cheaper than scs-memstore, over baseline", got, 10, ok)
	if t, f := b.find("Write64", "tabkit-bolt"), b.find("BoltBatch64", ""); t != nil && f != nil {
		check("tabkit-bolt 64-client durable write ≥ 4× cheaper than raw db.Batch", f.median()/t.median(), 4, true)
	} else {
		check("tabkit-bolt 64-client durable write ≥ 4× cheaper than raw db.Batch", 0, 4, false)
	}
	got, ok = over("Write64", "tabkit-bolt", "scs-boltstore")
	check("tabkit-bolt 64-client durable write ≥ 10× cheaper than scs-boltstore", got, 10, ok)
	lost, n := 0, 0
	for _, r := range corr.Lost {
		if isTabkit(r.Library) {
			lost += r.Lost()
			n++
		}
	}
	met := "yes"
	if lost != 0 || n == 0 {
		met = "no"
	}
	p("| 0 acknowledged writes lost (tabkit, every pattern; %d experiments) | %d lost | — | %s |\n\n", n, lost, met)
}

func correctness(s *strings.Builder, c bench.Correctness) {
	p := func(format string, args ...any) { fmt.Fprintf(s, format, args...) }
	p("## Correctness\n\n### Lost updates\n\n")
	p("N concurrent requests carry the same session cookie; each appends one item\n")
	p("to a list in the session. *naive* is how session code is usually written:\n")
	p("get the list, append, set it back. A barrier in the handler, identical for\n")
	p("every library, holds each request after its read until all N have read,\n")
	p("so the requests really overlap (\"overlapped\" says the barrier was met\n")
	p("rather than timed out). *own-key* has each request set a key of its own\n")
	p("after loading the session — two tabs each changing their own data, as\n")
	p("the peers would have to model tabs. For tabkit, *update* is the append\n")
	p("through `Session().Update` (the barrier before the call: all N in flight\n")
	p("at once), and *per-tab* is the naive code with each request in a tab of\n")
	p("its own (`/N/...`, `Session().Tab()`). Kept is what a final read finds; for\n")
	p("the cookie store, with the cookie of the response that finished last, as\n")
	p("a browser would keep it. *Acknowledged* counts 200 answers, *refused* 409s;\n")
	p("*lost* is acknowledged minus kept: writes a client was told had landed\n")
	p("and that are gone.\n\n")
	p("| library | pattern | requests | acknowledged | refused (409) | kept | lost | overlapped | other non-200 |\n|---|---|--:|--:|--:|--:|--:|:-:|--:|\n")
	for _, r := range c.Lost {
		lost := fmt.Sprint(r.Lost())
		if r.Lost() == 0 {
			lost = "**0**"
		}
		p("| %s | %s | %d | %d | %d | %d | %s | %v | %d |\n", r.Library, r.Pattern, r.Clients, r.Acknowledged, r.Refused, r.Kept, lost, yesNo(r.Overlapped), r.Failed)
	}
	p("\nThe naive pattern cannot keep every write in any library: requests that\n")
	p("read, then set the same key, race. The peers answer them all 200 and keep\n")
	p("one, silently losing the rest. tabkit checks, inside the store's\n")
	p("transaction, that a key a request read still holds what it read: one\n")
	p("lands, the others are refused with 409 and the client knows to retry, so\n")
	p("none is acknowledged and lost. `Update` runs the read-modify-write inside\n")
	p("the store's transaction and keeps them all, and tab-scoped keys keep tabs\n")
	p("off each other's data. scs and gorilla write the whole session back, so\n")
	p("even requests that change *different* keys undo each other (*own-key*),\n")
	p("while tabkit commits only the keys a request changed.\n\n")

	p("### A flood of cookieless requests\n\n")
	p("Requests without a cookie to a handler that writes one value, each of\n")
	p("which makes a new session; tabkit's bbolt and Redis stores run with a\n")
	p("session quota (Refuse policy: 503 once full).\n\n")
	p("| library | requests | quota | sessions stored | statuses | note |\n|---|--:|---|--:|---|---|\n")
	for _, r := range c.Flood {
		var st []string
		for _, code := range sortedKeys(r.Status) {
			st = append(st, fmt.Sprintf("%d × %d", r.Status[code], code))
		}
		p("| %s | %d | %s | %d | %s | %s |\n", r.Library, r.Requests, r.Quota, r.Stored, strings.Join(st, ", "), r.Note)
	}
	p("\nA request that does not write stores nothing in any of these libraries;\n")
	p("the difference is what a flood of writing requests can make the server\n")
	p("hold. The cookie store holds nothing but sends every client its whole\n")
	p("session, capped by the 4 KB cookie limit.\n\n")

	if len(c.Probe) > 0 {
		p("### scs's bbolt store as published\n\n")
		p("16 clients read one session while 16 others create sessions, so the\n")
		p("bbolt file grows and bbolt re-maps it. A bad read is a wrong value or an\n")
		p("error status; a fault is a memory fault (bbolt's unmapped pages), caught\n")
		p("with `debug.SetPanicOnFault` so the run survives to count it — in an\n")
		p("application it ends the process.\n\n")
		p("| store | seconds | reads | bad reads | memory faults |\n|---|--:|--:|--:|--:|\n")
		for _, r := range c.Probe {
			p("| %s | %.0f | %d | %d | %d |\n", r.Store, r.Seconds, r.Reads, r.BadReads, r.Faults)
		}
		p("\n")
	}
}

func wrkSection(s *strings.Builder, wrk []wrkResult) {
	p := func(format string, args ...any) { fmt.Fprintf(s, format, args...) }
	p("## Load test: wrk against the demo\n\n")
	if len(wrk) == 0 {
		p("Not run.\n\n")
		return
	}
	p("The point-of-sale demo (`cmd/pos-demo`, bbolt store, request logging to a\n")
	p("file, as shipped) on loopback, with sessions signed in through its real\n")
	p("sign-in form (`bench/cmd/wrksetup`); wrk's Lua scripts rotate through them,\n")
	p("the add-to-cart POST with each session's CSRF token. Every add is an\n")
	p("`Update` of the tab's cart, durable before the redirect is sent. wrk runs\n")
	p("on the same cores as the server.\n\n")
	p("| request | requests/s | latency avg | p50 | p90 | p99 | max | requests | non-2xx/3xx | socket errors |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, w := range wrk {
		if !w.ok {
			p("| %s | failed | | | | | | | | |\n", w.name)
			continue
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s in %s | %s | %s |\n", w.name, w.rps, w.avg, w.p50, w.p90, w.p99, w.max, w.requests, w.duration, w.non2xx3xx, w.sockerrs)
	}
	for _, w := range wrk {
		if w.command != "" {
			p("\n`%s`", w.command)
		}
	}
	p("\n\n")
}

func notes(s *strings.Builder) {
	s.WriteString(`## Notes on method

- **scs's bbolt store.** As published, its ` + "`Find`" + ` returns a slice of the
  value bbolt handed out inside a read transaction after the transaction has
  ended. bbolt only promises that memory until the transaction closes; when a
  concurrent write grows the file, bbolt re-maps it, and the session bytes
  scs then decodes are garbage or unmapped (see the probe above). The
  benchmarks wrap it (` + "`bench/scsbolt.go`" + `): ` + "`Commit`" + ` and ` + "`Delete`" + ` are
  upstream's own — one ` + "`db.Update`" + ` and one fsync per request, which is what
  decides its cost — and so are the bucket and the value layout; only ` + "`Find`" + `
  is replaced by the same lookup copying the value before the transaction
  ends. The copy is a few hundred bytes. The module is
  ` + "`github.com/alexedwards/scs/boltstore`" + ` at the pseudo-version the Go
  proxy serves (it has no tagged release), built against bbolt v1.5.0.
- **scs with Echo**: ` + "`echo.WrapMiddleware(sessionManager.LoadAndSave)`" + `.
  **gorilla/sessions** through labstack echo-contrib's ` + "`session`" + ` middleware;
  the cookie store signed with one 32-byte key and not encrypted, as its
  documentation shows it; the filesystem store in a temporary directory.
- **Same work everywhere.** Each library's handlers do what its
  documentation shows: scs ` + "`GetString`/`Put`" + `, gorilla ` + "`Values` + `Save`" + `,
  tabkit ` + "`Get`/`Set`" + `. Background cleanup goroutines are off or idle. tabkit
  routes live under a tab number (` + "`/0/read`" + `); tab 0 needs no storage.
- **Parallel rows** start exactly 64 goroutines (` + "`SetParallelism`" + `), each with
  its own session made before the timer starts.
- **Durable single-client writes** cost one or two fsyncs, and on a shared
  disk fsync latency swings between rounds: the min–max of the raw
  ` + "`BoltUpdate`" + ` floor shows by how much during this run. tabkit-bolt and
  scs-boltstore move with it, so their one-client medians differ within that
  noise; the 64-client rows, where fsyncs are shared, are steadier.
- **Raw floors** are bbolt alone: the least a durable write can cost on this
  disk, one at a time (` + "`db.Update`" + `) and from 64 goroutines (` + "`db.Batch`" + `, which
  waits up to its 10 ms MaxBatchDelay to fill a batch).
`)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func sortedKeys(m map[int]int) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
