package kittest

import (
	"context"
	"flag"
	"fmt"
	"github.com/tabkit/tabkit/kit"
	"maps"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// RunModel drives the kit over HTTP with random rounds of requests from
// several browsers and tabs, some released at once, and checks every
// answer and, after every step, the store against a reference model (see
// model_state_test.go): every acknowledged write is visible where it
// should be, no read crosses a tab or a browser, no dead token answers,
// no tab table holds more than MaxTabs open tabs. A failure prints its
// seed and a shrunk sequence of steps.
//
//	go test -race -run TestModel ./kit/ -model.ops=100000 -model.seed=42
//
// Each store's own tests call RunModel with a function that opens a
// fresh store (see Opener).
//
// Known failures can be relaxed with -model.relax (or the environment
// variable TABKIT_MODEL_RELAX, for go test ./...), one name each, so a
// run looks past them for others; the model then expects what the kit
// does instead:
//
//	regen-race    a request racing a sign-in in the same browser, which
//	              loads after the move, answers with a Set-Cookie (a new
//	              session, or removing the cookie); processed last, it
//	              leaves the browser without its signed-in session
//	fork-ttl      a forked tab's copy of a value set with a time to live
//	              has no deadline
//	fork-parent   a fork may evict the tab it forks (its own request's
//	              tab), whose data is then lost and not copied
//	stale-revive  a request naming an idled-out tab is refused (409) or
//	              redirected, yet touches that tab, which is open again
//	              with its data
//	reuse-stale   a bare or stale visit may land in an idled-out tab,
//	              handing out its number again
//	evict-stale   idled-out tabs count towards MaxTabs when a tab opens,
//	              so an open tab may be evicted needlessly
//	stale-listed  Session.Tabs lists idled-out tabs
//	flash-twice   two requests taking the flashes at once both show them
var (
	modelSeed   = flag.Uint64("model.seed", 0, "model test: seed of the first sequence (0: random)")
	modelOps    = flag.Int("model.ops", 10_000, "model test: operations per store")
	modelLen    = flag.Int("model.len", 300, "model test: operations per sequence (a fresh app and store each)")
	modelShrink = flag.Duration("model.shrink", 90*time.Second, "model test: time to spend shrinking a failure")
	modelRelax  = flag.String("model.relax", "", "model test: comma-separated known failures to relax, to look past them (see TestModel)")
)

// mSetup opens a fresh store for one run of the model.
type mSetup struct {
	name string
	// open returns a new, empty store on clock, and how to dispose of it.
	open func(t *testing.T, clock *storetest.Clock) (store.Store, func())
}

func runModel(t *testing.T, setup mSetup) {
	base := *modelSeed
	if base == 0 {
		base = mrand.Uint64() >> 1
	}
	total, per := *modelOps, *modelLen
	if testing.Short() {
		total = min(total, 2000)
	}
	relax := mRelaxed()
	t.Logf("seed %d (rerun with -model.seed=%d)", base, base)
	start := time.Now()
	ops, runs := 0, 0
	stats := make(map[string]int)
	for seed := base; ops < total; seed++ {
		r := newMRun(t, setup, seed, relax)
		res := r.exec(newMGen(seed), min(per, total-ops), nil)
		ops += res.ops
		runs++
		for k, v := range res.stats {
			stats[k] += v
		}
		if res.fail != nil {
			r.report(res, min(per, total-ops+res.ops))
			return
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d ops in %d sequences in %v: %.0f ops/s", ops, runs, elapsed.Round(time.Millisecond), float64(ops)/elapsed.Seconds())
	if testing.Verbose() {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(stats)) {
			fmt.Fprintf(&b, "\n\t%6d  %s", stats[k], k)
		}
		t.Logf("what ran:%s", b.String())
	}
}

// mRelaxed returns the known failures relaxed by -model.relax and
// TABKIT_MODEL_RELAX.
func mRelaxed() map[string]bool {
	relax := make(map[string]bool)
	for _, r := range strings.Split(*modelRelax+","+os.Getenv("TABKIT_MODEL_RELAX"), ",") {
		if r != "" {
			relax[r] = true
		}
	}
	return relax
}

// mRun runs sequences of one seed's configuration.
type mRun struct {
	t     *testing.T
	setup mSetup
	seed  uint64
	a     adapter
	fork  kit.ForkPolicy
	relax map[string]bool
}

func newMRun(t *testing.T, setup mSetup, seed uint64, relax map[string]bool) *mRun {
	r := &mRun{t: t, setup: setup, seed: seed, relax: relax, a: echoAdapter, fork: kit.ForkCopy}
	if seed%2 == 1 {
		r.a = httpAdapter
	}
	if seed/2%2 == 1 {
		r.fork = kit.ForkEmpty
	}
	return r
}

func (r *mRun) String() string {
	fork := "copy"
	if r.fork == kit.ForkEmpty {
		fork = "empty"
	}
	return fmt.Sprintf("store %s, adapter %s, fork %s", r.setup.name, r.a, fork)
}

// mResult is what a run did.
type mResult struct {
	steps   []mStep
	fail    *mFail
	at      int // the failing step
	ops     int
	trace   []string
	invalid error
	stats   map[string]int
}

// exec runs a fresh app and store: n ops from gen, or the steps of
// replay. It stops at the first broken invariant.
func (r *mRun) exec(gen *mGen, n int, replay []mStep) (res mResult) {
	clock := storetest.NewClock(mStart)
	st, dispose := r.setup.open(r.t, clock)
	defer dispose()
	app, err := newMApp(r.t, st, clock, r.a, r.fork)
	if err != nil {
		r.t.Fatal(err)
	}
	defer app.close()
	m := newMModel(r.a, r.fork, r.relax)
	defer func() { res.stats = m.stats }()
	ctx := context.Background()
	fail := func(i int, f *mFail) mResult {
		res.fail, res.at = f, i
		return res
	}
	for i := 0; ; i++ {
		var step mStep
		if gen != nil {
			if res.ops >= n {
				return res
			}
			step = gen.step(m)
		} else {
			if i >= len(replay) {
				return res
			}
			step = replay[i]
		}
		res.steps = append(res.steps, step)
		m.expire()
		m.use = nil
		if step[0].Kind == mAdvance {
			clock.Advance(step[0].Adv)
			m.now = clock.Now()
			m.expire()
			res.ops++
			res.trace = append(res.trace, fmt.Sprintf("%3d %s → %s", i, step[0], m.now.Format("15:04:05")))
			if f := m.check(ctx, st); f != nil {
				return fail(i, f)
			}
			continue
		}
		items := make([]*mItem, len(step))
		byBrowser := make(map[int][]*mItem)
		for j, op := range step {
			eff, tab := m.classify(op)
			items[j] = &mItem{op: op, eff: eff, tab: tab}
			items[j].req = m.request(items[j])
			byBrowser[op.B] = append(byBrowser[op.B], items[j])
		}
		for _, list := range byBrowser {
			if err := m.validate(list); err != nil {
				if gen != nil {
					r.t.Fatalf("model: the generator made an invalid step %v: %v", step, err)
				}
				res.invalid = err
				return res
			}
		}
		reqs := make([]mRequest, len(items))
		for j, it := range items {
			reqs[j] = it.req
		}
		for j, resp := range app.do(ctx, reqs) {
			items[j].resp = resp
		}
		res.ops += len(step)
		for _, it := range items {
			res.trace = append(res.trace, fmt.Sprintf("%3d %s", i, it))
		}
		if f := m.apply(items); f != nil {
			return fail(i, f)
		}
		if f := m.check(ctx, st); f != nil {
			return fail(i, f)
		}
	}
}

// report shrinks a failure and prints it.
func (r *mRun) report(res mResult, n int) {
	t := r.t
	t.Errorf("model: seed %d (%s): step %d of %d broke %q:\n\t%s\nrerun: go test -race -run 'TestModel/%s$' ./kit/ -model.seed=%d -model.ops=%d",
		r.seed, r, res.at+1, len(res.steps), res.fail.inv, res.fail.msg, r.setup.name, r.seed, n)
	steps, shrunk := r.shrink(res, *modelShrink)
	var b strings.Builder
	fmt.Fprintf(&b, "shrunk to %d steps (from %d), %s:\n", len(steps), res.at+1, r)
	for i, s := range steps {
		fmt.Fprintf(&b, "\t%3d  %s\n", i, s)
	}
	b.WriteString("the shrunk run:\n")
	for _, line := range shrunk.trace {
		fmt.Fprintf(&b, "\t%s\n", line)
	}
	fmt.Fprintf(&b, "broke %q: %s", shrunk.fail.inv, shrunk.fail.msg)
	t.Log(b.String())
}

// shrink removes chunks of steps, then single ops, while the same
// invariant still breaks. Races make failures flaky, so each candidate
// gets several tries.
func (r *mRun) shrink(res mResult, budget time.Duration) ([]mStep, mResult) {
	deadline := time.Now().Add(budget)
	inv := res.fail.inv
	best, bestRes := res.steps[:res.at+1], res
	try := func(cand []mStep) bool {
		if len(cand) == 0 {
			return false
		}
		for range 4 {
			out := r.exec(nil, 0, cand)
			if out.fail != nil && out.fail.inv == inv {
				best, bestRes = out.steps[:out.at+1], out
				return true
			}
			if out.invalid != nil {
				return false
			}
		}
		return false
	}
	for progress := true; progress && time.Now().Before(deadline); {
		progress = false
		for chunk := max(len(best)/2, 1); chunk >= 1; chunk /= 2 {
			for start := 0; start < len(best) && time.Now().Before(deadline); {
				cand := append(slices.Clone(best[:start]), best[min(start+chunk, len(best)):]...)
				if try(cand) {
					progress = true
					continue
				}
				start += chunk
			}
		}
		for i := 0; i < len(best) && time.Now().Before(deadline); i++ {
			for j := 0; len(best[i]) > 1 && j < len(best[i]) && time.Now().Before(deadline); {
				cand := slices.Clone(best)
				cand[i] = slices.Delete(slices.Clone(best[i]), j, j+1)
				if try(cand) {
					progress = true
					continue
				}
				j++
			}
		}
	}
	if time.Now().After(deadline) {
		r.t.Logf("shrinking stopped after %v (-model.shrink)", budget)
	}
	return best, bestRes
}

// mGen makes random steps that the model can judge, from a seed.
type mGen struct {
	rng *mrand.Rand
	id  int
	// advanced says the last step moved the clock: idled-out tabs are
	// still in their tables until a request of their session comes.
	advanced bool
}

func newMGen(seed uint64) *mGen {
	return &mGen{rng: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *mGen) intn(n int) int { return g.rng.IntN(n) }

// pick returns an index with probability proportional to its weight.
func (g *mGen) pick(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := g.intn(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (g *mGen) nextID() int {
	g.id++
	return g.id
}

func (g *mGen) step(m *mModel) mStep {
	after := g.advanced
	g.advanced = false
	if g.intn(100) < 7 {
		g.advanced = true
		return mStep{{Kind: mAdvance, Adv: g.advance()}}
	}
	if after && g.intn(100) < 35 {
		// The first request after a jump meets the idled-out tabs.
		b := g.intn(mBrowsers)
		kind := []mKind{mNewTab, mFork, mBare, mForged}[g.intn(4)]
		op := g.op(kind, b, g.page(m, b, pageOpen))
		op.Q = g.intn(mPages)
		if op.P == op.Q {
			op.Q = (op.Q + 1) % mPages
		}
		return mStep{op}
	}
	n := 1
	if g.intn(10) >= 6 {
		n++
	}
	if g.intn(10) >= 8 {
		n++
	}
	var step mStep
	for _, b := range g.rng.Perm(mBrowsers)[:n] {
		step = append(step, g.browserOps(m, b)...)
	}
	if g.intn(100) < 3 {
		step = append(step, mOp{Kind: mReplay, B: g.intn(mBrowsers), Forge: g.intn(3), ID: g.nextID()})
	}
	return step
}

func (g *mGen) advance() time.Duration {
	sec := func(lo, hi int) time.Duration { return time.Duration(lo+g.intn(hi-lo+1)) * time.Second }
	switch g.pick(55, 30, 11, 4) {
	case 0:
		return sec(5, 120)
	case 1:
		return sec(120, 720)
	case 2:
		return sec(20*60, 40*60)
	}
	return sec(60*60, 180*60)
}

// browserOps makes the ops of browser b in a round, retrying until the
// model can judge them; a single op it always can.
func (g *mGen) browserOps(m *mModel, b int) []mOp {
	for range 30 {
		ops := g.compose(m, b)
		items := make([]*mItem, len(ops))
		for i, op := range ops {
			eff, tab := m.classify(op)
			items[i] = &mItem{op: op, eff: eff, tab: tab}
		}
		if len(ops) > 0 && m.validate(items) == nil {
			return ops
		}
	}
	return []mOp{g.dataOp(b, g.page(m, b, pageAny))}
}

type pageKind int

const (
	pageAny pageKind = iota
	pageOpen
	pageStale
	pageTab0
	pageOpenTab // open, and not tab 0 when there is another
)

// page picks a page of browser b of the kind asked for, or any page.
func (g *mGen) page(m *mModel, b int, kind pageKind) int {
	s := m.live(b)
	var fit []int
	for p, n := range m.browsers[b].pages {
		open := n == 0 || s != nil && s.tabOpen(n, m.now)
		switch kind {
		case pageOpen:
			if open {
				fit = append(fit, p)
			}
		case pageStale:
			if !open {
				fit = append(fit, p)
			}
		case pageTab0:
			if n == 0 {
				fit = append(fit, p)
			}
		case pageOpenTab:
			if open && n != 0 {
				fit = append(fit, p)
			}
		}
	}
	if kind == pageOpenTab && len(fit) == 0 {
		return g.page(m, b, pageOpen)
	}
	if len(fit) == 0 {
		return g.intn(mPages)
	}
	return fit[g.intn(len(fit))]
}

var mKeys = []string{"a", "b", "c"}

func (g *mGen) dataOp(b, p int) mOp {
	kinds := []mKind{mGet, mNaive, mUpdate, mSet, mSetTTL, mDelete, mFlash, mFlashes, mFailOp}
	op := mOp{Kind: kinds[g.pick(22, 16, 18, 7, 6, 6, 12, 10, 3)], B: b, P: p, Scope: 's', Key: mKeys[g.intn(len(mKeys))], ID: g.nextID()}
	if op.Kind == mFailOp {
		op.Forge = g.intn(2)
	}
	if g.intn(100) < 60 {
		op.Scope = 't'
	}
	if op.Kind == mSetTTL {
		op.TTL = []time.Duration{20 * time.Second, time.Minute, 5 * time.Minute}[g.intn(3)]
	}
	return op
}

func (g *mGen) writeOp(b, p int) mOp {
	for {
		if op := g.dataOp(b, p); op.Kind != mGet && op.Kind != mFlashes {
			return op
		}
	}
}

func (g *mGen) op(kind mKind, b, p int) mOp {
	return mOp{Kind: kind, B: b, P: p, ID: g.nextID()}
}

func (g *mGen) data(m *mModel, b, n int) []mOp {
	ops := make([]mOp, n)
	for i := range ops {
		ops[i] = g.dataOp(b, g.page(m, b, pageOpen))
	}
	return ops
}

// compose makes a candidate set of ops for browser b.
func (g *mGen) compose(m *mModel, b int) []mOp {
	s := m.live(b)
	if s == nil || s.stale(0, m.now) {
		switch g.pick(50, 12, 12, 8, 6, 6, 6) {
		case 0:
			return []mOp{g.writeOp(b, g.page(m, b, pageTab0))}
		case 1:
			return []mOp{g.op(mRegen, b, g.page(m, b, pageOpen))}
		case 2:
			return []mOp{g.dataOp(b, g.page(m, b, pageOpen))}
		case 3:
			return []mOp{g.op([]mKind{mNewTab, mBare}[g.intn(2)], b, g.intn(mPages))}
		case 4:
			op := g.op(mForged, b, g.intn(mPages))
			op.Forge = g.intn(4) - 1
			return []mOp{op}
		case 5:
			return []mOp{g.op(mDestroy, b, g.page(m, b, pageOpen))}
		}
		return []mOp{g.dataOp(b, g.intn(mPages))}
	}
	switch g.pick(42, 10, 4, 3, 8, 18, 5, 4, 3) {
	case 0:
		return g.data(m, b, 1+g.intn(4))
	case 1:
		return append([]mOp{g.op(mRegen, b, g.page(m, b, pageOpen))}, g.data(m, b, g.intn(4))...)
	case 2:
		return append([]mOp{g.op(mDestroy, b, g.page(m, b, pageOpen))}, g.data(m, b, g.intn(3))...)
	case 3:
		return []mOp{g.op(mRegen, b, g.page(m, b, pageOpen)), g.op(mDestroy, b, g.page(m, b, pageOpen))}
	case 4:
		kind := pageOpenTab
		if g.intn(5) == 0 {
			kind = pageOpen
		}
		return append([]mOp{g.op(mClose, b, g.page(m, b, kind))}, g.data(m, b, g.intn(3))...)
	case 5:
		var op mOp
		switch g.pick(25, 30, 15, 20, 10) {
		case 0:
			op = g.op(mNewTab, b, g.intn(mPages))
		case 1:
			op = g.op(mFork, b, g.page(m, b, pageOpen))
			op.Q = g.intn(mPages)
		case 2:
			op = g.op(mBare, b, g.intn(mPages))
		case 3:
			op = g.op(mForged, b, g.intn(mPages))
			op.Forge = g.intn(4) - 1
		default:
			op = g.op(mGet, b, g.page(m, b, pageStale))
			op.Scope, op.Key = 't', "a"
		}
		ops := []mOp{op}
		for range g.intn(3) {
			c := g.dataOp(b, g.page(m, b, pageTab0))
			c.Scope = 's'
			ops = append(ops, c)
		}
		return ops
	case 6:
		return append([]mOp{g.op(mTabsOp, b, g.page(m, b, pageOpen))}, g.data(m, b, g.intn(3))...)
	case 7:
		return append([]mOp{g.writeOp(b, g.page(m, b, pageStale))}, g.data(m, b, g.intn(3))...)
	}
	return []mOp{{Kind: mReplay, B: b, Forge: g.intn(3), ID: g.nextID()}}
}

// Opener opens a fresh, empty store that takes its time from clock, for
// one run of the model, and returns how to dispose of it.
type Opener func(t *testing.T, clock *storetest.Clock) (store.Store, func())

// RunModel runs the model on the stores open makes: -model.ops
// operations in sequences of -model.len, from -model.seed.
func RunModel(t *testing.T, name string, open Opener) {
	t.Helper()
	runModel(t, mSetup{name: name, open: open})
}

// Start is where every run's clock starts.
var Start = mStart
