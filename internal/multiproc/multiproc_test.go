package multiproc

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/internal/demoproc"
)

// TestSessionSharedAcrossProcesses signs in through one process and uses
// the session through the other: the cart, a checkout and the sign-out
// all reach both, since neither keeps anything of the session in memory,
// while a process with other signing keys cannot use the cookie.
func TestSessionSharedAcrossProcesses(t *testing.T) {
	storeURL := testDB(t, dbSharedSession)
	keys := demoproc.NewSigningKey()
	p1 := startDemo(t, "process 1", storeURL, keys)
	p2 := startDemo(t, "process 2", storeURL, keys)

	b := signIn(t, p1, "Ann")
	tab := b.At(p1.URL()).OpenTab()
	want := map[string]int{"COF-001": 2, "BAK-003": 1}
	for sku, qty := range want {
		a := b.At(p1.URL()).PostForm(fmt.Sprintf("/%d/cart/items", tab), url.Values{"sku": {sku}, "qty": {strconv.Itoa(qty)}})
		mustRedirect(t, "add "+sku+" via process 1", a, fmt.Sprintf("/%d/", tab))
	}
	for _, d := range []*demoproc.Demo{p1, p2} {
		if got := cart(t, b, d, tab); !maps.Equal(got, want) {
			t.Errorf("cart of tab %d via %s: got %v, want %v", tab, d.Name(), got, want)
		}
	}

	// The shared signing keys are what lets process 2 take process 1's
	// cookie: a process with other keys sees no session in it.
	stranger := startDemo(t, "process with other keys", storeURL, demoproc.NewSigningKey())
	if a := b.At(stranger.URL()).Get("/sales.json"); a.Status != http.StatusUnauthorized {
		t.Errorf("sales via a process with other signing keys: got %s, want 401", a)
	}

	// The checkout through process 2 empties the cart process 1 filled
	// and records a sale that process 1 lists.
	a := b.At(p2.URL()).PostForm(fmt.Sprintf("/%d/checkout", tab), nil)
	if a.Status != http.StatusSeeOther {
		t.Fatalf("checkout via process 2: got %s, want a 303 to the receipt", a)
	}
	if got := cart(t, b, p1, tab); len(got) != 0 {
		t.Errorf("cart of tab %d via process 1 after the checkout: got %v, want it empty", tab, got)
	}
	sales := b.At(p1.URL()).Get("/sales.json")
	demoproc.MustStatus(t, "sales via process 1", sales, http.StatusOK)
	var list []struct {
		Tab   int `json:"tab"`
		Items []struct {
			SKU string `json:"sku"`
			Qty int    `json:"qty"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(sales.Body), &list); err != nil {
		t.Fatalf("sales.json: %v\n%s", err, sales.Body)
	}
	if len(list) != 1 || list[0].Tab != tab {
		t.Fatalf("sales via process 1: got %s, want one sale from tab %d", sales.Body, tab)
	}
	sold := make(map[string]int)
	for _, it := range list[0].Items {
		sold[it.SKU] += it.Qty
	}
	if !maps.Equal(sold, want) {
		t.Errorf("sale via process 1: got %v, want %v", sold, want)
	}

	// Signing out through process 2 ends the session for process 1 too:
	// the record is gone from Redis, not merely from one process's view.
	// The cookie as it was before the sign-out, which the browser keeps
	// sending afterwards, as a copy of it would be.
	old, _ := b.Cookie(sessionCookie)
	a = b.At(p2.URL()).PostForm("/logout", nil)
	mustRedirect(t, "sign-out via process 2", a, "/0/")
	if c, ok := a.Cookie(sessionCookie); !ok || c.MaxAge >= 0 {
		t.Errorf("sign-out via process 2: session cookie not expired (%v)", c)
	}
	b.SetCookie(old)
	if a := b.At(p1.URL()).Get("/sales.json"); a.Status != http.StatusUnauthorized {
		t.Errorf("sales via process 1 with the old cookie after sign-out: got %s, want 401", a)
	}
	// The 401 expired the dead cookie, as for a tab left open after
	// signing out: the add is refused and sent to sign in.
	a = b.At(p1.URL()).PostForm(fmt.Sprintf("/%d/cart/items", tab), url.Values{"sku": {"COF-001"}})
	if a.Status != http.StatusSeeOther || a.Location() != "/login?next=%2F0%2F" {
		t.Errorf("add via process 1 to tab %d of the ended session: got %s, want a 303 to sign in", tab, a)
	}
	client := dbClient(t, dbSharedSession)
	left, err := client.Keys(t.Context(), "tabkit:{*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("session keys left in Redis after sign-out: %v", left)
	}
}

// TestConcurrentAddsAcrossProcesses is 32 clients of one signed-in
// session adding items to its registers through two processes at random.
// Every add acknowledged with a 303 must be in the cart exactly once: a
// lost update (two read-modify-writes of one cart from different
// processes, one overwriting the other) or a double count (an add
// retried after it had landed) shows up as a wrong quantity.
func TestConcurrentAddsAcrossProcesses(t *testing.T) {
	concurrentAdds(t, testDB(t, dbConcurrentAdd))
}

// concurrentAdds is TestConcurrentAddsAcrossProcesses on the store at
// storeURL.
func concurrentAdds(t *testing.T, storeURL string) {
	const (
		clients       = 32
		addsPerClient = 25
		tabCount      = 4
	)
	skus := []string{"COF-001", "TEA-002", "BAK-003", "SNK-004", "DRK-005", "SAN-006"}

	keys := demoproc.NewSigningKey()
	procs := []*demoproc.Demo{
		startDemo(t, "process 1", storeURL, keys),
		startDemo(t, "process 2", storeURL, keys),
	}
	b := signIn(t, procs[0], "Bea")
	var tabs []int
	for i := range tabCount {
		tabs = append(tabs, b.At(procs[i%len(procs)].URL()).OpenTab())
	}

	// acked[tab][sku] counts the adds answered with the 303 back to the
	// register, the demo's acknowledgment.
	type line struct {
		tab int
		sku string
	}
	var (
		mu    sync.Mutex
		acked = make(map[line]int)
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	start := time.Now()
	var wg sync.WaitGroup
	for client := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(client)))
			for range addsPerClient {
				if t.Failed() {
					return // one failure is enough; the rest would only repeat it
				}
				tab := tabs[rng.IntN(len(tabs))]
				sku := skus[rng.IntN(len(skus))]
				d := procs[rng.IntN(len(procs))]
				path := fmt.Sprintf("/%d/cart/items", tab)
				a, err := b.At(d.URL()).Add(tab, sku, 1)
				if err != nil {
					t.Errorf("client %d: POST %s via %s: %v", client, path, d.Name(), err)
					return
				}
				if want := fmt.Sprintf("/%d/", tab); a.Status != http.StatusSeeOther || a.Location() != want {
					t.Errorf("client %d: add %s to tab %d via %s: got %s, want a 303 to %s", client, sku, tab, d.Name(), a, want)
					return
				}
				if c, ok := a.Cookie(sessionCookie); ok {
					t.Errorf("client %d: add via %s changed the session cookie (%v)", client, d.Name(), c)
					return
				}
				mu.Lock()
				acked[line{tab, sku}]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if t.Failed() {
		t.FailNow()
	}
	total := 0
	for _, n := range acked {
		total += n
	}
	if total != clients*addsPerClient {
		t.Fatalf("acknowledged %d adds, want %d", total, clients*addsPerClient)
	}
	t.Logf("%d adds through 2 processes in %v (%.0f/s)", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())

	for _, d := range procs {
		for _, tab := range tabs {
			want := make(map[string]int)
			for l, n := range acked {
				if l.tab == tab {
					want[l.sku] = n
				}
			}
			if got := cart(t, b, d, tab); !maps.Equal(got, want) {
				t.Errorf("cart of tab %d via %s: got %v, want the acknowledged adds %v", tab, d.Name(), got, want)
			}
		}
	}

	// The registers page reads a session-wide summary each add updates
	// after its cart: the newest cart version must have won in it too.
	for _, d := range procs {
		got := registerItems(t, b, d, tabs[0])
		for _, tab := range tabs {
			want := 0
			for l, n := range acked {
				if l.tab == tab {
					want += n
				}
			}
			if got[tab] != want {
				t.Errorf("registers page via %s: tab %d shows %d items, want %d", d.Name(), tab, got[tab], want)
			}
		}
		if extra := slices.DeleteFunc(slices.Collect(maps.Keys(got)), func(n int) bool { return n == 0 || slices.Contains(tabs, n) }); len(extra) > 0 {
			t.Errorf("registers page via %s lists registers never opened: %v", d.Name(), extra)
		}
	}
}

// registerCard finds each register's number and item count on the
// registers page.
var registerCard = regexp.MustCompile(`(?s)data-tab="(\d+)".*?class="register-items">(\d+) item`)

// registerItems reads the registers page from tab through d, as tab
// number → items in its cart.
func registerItems(t *testing.T, b *demoproc.Browser, d *demoproc.Demo, tab int) map[int]int {
	t.Helper()
	a := b.At(d.URL()).Get(fmt.Sprintf("/%d/registers", tab))
	demoproc.MustStatus(t, "registers page via "+d.Name(), a, http.StatusOK)
	got := make(map[int]int)
	for _, m := range registerCard.FindAllStringSubmatch(a.Body, -1) {
		n, _ := strconv.Atoi(m[1])
		items, _ := strconv.Atoi(m[2])
		got[n] = items
	}
	if len(got) == 0 {
		t.Fatalf("registers page via %s lists no register\n%s", d.Name(), a.Body)
	}
	return got
}
