package soak

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tabkit/tabkit/internal/demoproc"
)

// The crash test's shape: crashBrowsers signed-in browsers with
// crashTabs registers each, so 32 registers add at once, and registers
// of one browser share a session: their adds race on the session's
// record as well as on the file.
const (
	crashRounds   = 5
	crashBrowsers = 4
	crashTabs     = 8
	// The demo is killed once this many adds (plus a random part up to
	// the same again) have been acknowledged.
	crashMinAcks = 200
	// maxAddsPerRound bounds each register's loop, should the kill never
	// come; it also keeps every cart line far below the demo's 999.
	maxAddsPerRound = 300
)

// register is one browser tab adding to its cart, with its own record
// of what the demo acknowledged.
type register struct {
	b    *demoproc.Browser
	name string
	tab  int
	// skus are the products this register adds, in turn.
	skus []string

	// Set by the register's own goroutine while it adds; read after.
	acked cart // adds answered 303 back to the register
	// unanswered are adds sent without an answer: the kill came while
	// they were in flight, so they may or may not have landed. A
	// register waits for each answer, so it holds one at most.
	unanswered cart
	// unexpected lists answers that were neither an acknowledgement nor
	// missing.
	unexpected []string

	// want is the cart as read back after the crash; later rounds
	// check it stays so.
	want cart
}

// TestKillDuringAddsLosesNoAcknowledgedAdd kills the demo with SIGKILL
// while 32 registers add items, restarts it on the same file, and checks
// that every acknowledged add is in its cart. A cart may hold one more
// of a product than was acknowledged when that add was in flight at the
// kill: it committed, but the answer never left. It repeats on the same
// file, so later rounds also show earlier carts survive later crashes.
func TestKillDuringAddsLosesNoAcknowledgedAdd(t *testing.T) {
	key := demoproc.NewSigningKey()
	db := filepath.Join(t.TempDir(), "pos.db")
	tr := demoproc.NewTransport(t, 2*crashBrowsers*crashTabs)
	var earlier []*register
	for round := 1; round <= crashRounds; round++ {
		d := startDemo(t, demoConfig{db: db, signingKey: key})
		checkCartsKept(t, d.URL(), earlier)
		regs := openRegisters(t, tr, d.URL(), round)

		threshold := crashMinAcks + rand.IntN(crashMinAcks+1)
		acked, inFlight := addUntilKilled(t, d, regs, threshold)
		// The file as the kill left it, before a restart can touch it.
		checkDB(t, db)

		d = startDemo(t, demoConfig{db: db, signingKey: key})
		landed := checkAcknowledgedAdds(t, d.URL(), regs)
		d.Stop()
		checkDB(t, db)
		stats, listed := storedSessions(t, db)
		if want := int64(round * crashBrowsers); stats.Sessions != want || int64(listed) != want {
			t.Errorf("round %d: %d sessions counted, %d listed; want %d", round, stats.Sessions, listed, want)
		}
		t.Logf("round %d: killed after %d acks (threshold %d); %d adds in flight, %d of them landed",
			round, acked, threshold, inFlight, landed)
		if t.Failed() {
			return
		}
		earlier = append(earlier, regs...)
	}
}

// openRegisters signs in crashBrowsers browsers and opens crashTabs
// registers in each.
func openRegisters(t *testing.T, tr *http.Transport, base string, round int) []*register {
	t.Helper()
	var regs []*register
	for i := range crashBrowsers {
		b := newBrowser(t, tr, base)
		b.SignIn(testPIN, fmt.Sprintf("Cashier %d.%d", round, i))
		tabs := []int{0}
		for range crashTabs - 1 {
			tabs = append(tabs, b.OpenTab())
		}
		for _, tab := range tabs {
			n := len(regs)
			regs = append(regs, &register{
				b:          b,
				name:       fmt.Sprintf("round %d browser %d tab %d", round, i, tab),
				tab:        tab,
				skus:       []string{skus[n%len(skus)], skus[(n+1)%len(skus)], skus[(n+5)%len(skus)]},
				acked:      cart{},
				unanswered: cart{},
			})
		}
	}
	return regs
}

// addUntilKilled runs every register's adds at once and SIGKILLs the
// demo once threshold adds are acknowledged. It returns the adds
// acknowledged and the adds left without an answer.
func addUntilKilled(t *testing.T, d *demoproc.Demo, regs []*register, threshold int) (acked, inFlight int) {
	t.Helper()
	var acks atomic.Int64
	reached := make(chan struct{})
	var wg sync.WaitGroup
	for _, r := range regs {
		wg.Go(func() {
			for i := range maxAddsPerRound {
				sku := r.skus[i%len(r.skus)]
				got, err := r.b.Add(r.tab, sku, 1)
				if err != nil {
					r.unanswered[sku]++
					return
				}
				if !isAck(got, r.tab) {
					r.unanswered[sku]++
					r.unexpected = append(r.unexpected, fmt.Sprintf("add %d: status %d to %q", i, got.Status, got.Location()))
					return
				}
				r.acked[sku]++
				if acks.Add(1) == int64(threshold) {
					close(reached)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-reached:
	case <-done:
		t.Errorf("every register finished its %d adds before %d were acknowledged", maxAddsPerRound, threshold)
	}
	d.Kill()
	// Every register stops at its first unanswered request; the kill
	// makes those fail at once.
	<-done
	for _, r := range regs {
		for _, u := range r.unexpected {
			t.Errorf("%s: %s", r.name, u)
		}
		for _, n := range r.acked {
			acked += n
		}
		for _, n := range r.unanswered {
			inFlight += n
		}
	}
	return acked, inFlight
}

// checkAcknowledgedAdds reads every register's cart from the restarted
// demo and compares it with what was acknowledged: each product at least
// as often as acknowledged, and at most once more if an add of it was
// unanswered. It returns how many unanswered adds landed.
func checkAcknowledgedAdds(t *testing.T, base string, regs []*register) (landed int) {
	t.Helper()
	for _, r := range regs {
		r.b = r.b.At(base)
		got := r.b.Cart(r.tab)
		products := slices.Sorted(maps.Keys(got))
		for sku := range r.acked {
			if !slices.Contains(products, sku) {
				products = append(products, sku)
			}
		}
		for _, sku := range products {
			lo, hi := r.acked[sku], r.acked[sku]+r.unanswered[sku]
			switch n := got[sku]; {
			case n < lo:
				t.Errorf("%s: %s × %d in the cart, but %d adds were acknowledged: acknowledged adds lost", r.name, sku, n, lo)
			case n > hi:
				t.Errorf("%s: %s × %d in the cart, want at most %d (%d acknowledged, %d unanswered)", r.name, sku, n, hi, lo, r.unanswered[sku])
			default:
				landed += n - lo
			}
		}
		r.want = got
	}
	return landed
}

// checkCartsKept checks that the registers of earlier rounds still hold
// the carts read back after their crash.
func checkCartsKept(t *testing.T, base string, regs []*register) {
	t.Helper()
	for _, r := range regs {
		r.b = r.b.At(base)
		if got := r.b.Cart(r.tab); !maps.Equal(got, r.want) {
			t.Errorf("%s: cart %v after a later round, want %v", r.name, got, r.want)
		}
	}
}
