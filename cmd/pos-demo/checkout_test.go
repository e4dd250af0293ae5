package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var checkoutKeyInput = regexp.MustCompile(`name="key" value="([^"]+)"`)

// checkoutKeyOf reads the checkout form's key from a register page.
func checkoutKeyOf(t *testing.T, page answer) string {
	t.Helper()
	m := checkoutKeyInput.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("the register page has no checkout key:\n%s", page.body)
	}
	return m[1]
}

// filledCart signs b in and puts two products in tab 0's cart; it
// returns the key the register page then shows.
func filledCart(t *testing.T, b *browser) string {
	t.Helper()
	b.signIn("Ann")
	mustStatus(t, "add", b.post("/0/cart/items", url.Values{"sku": {"COF-004"}, "qty": {"2"}}), http.StatusSeeOther)
	mustStatus(t, "add", b.post("/0/cart/items", url.Values{"sku": {"BAK-001"}}), http.StatusSeeOther)
	return checkoutKeyOf(t, b.get("/0/"))
}

// TestDuplicateCheckoutsRingOneSale sends one checkout form many times at
// once, as a double click or a retrying client does: one sale is rung
// up, and every answer leads to its receipt.
func TestDuplicateCheckoutsRingOneSale(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	key := filledCart(t, b)
	const posts = 16
	locations := make([]string, posts)
	var wg sync.WaitGroup
	for i := range posts {
		wg.Go(func() {
			form := url.Values{"csrf": {b.csrf}, "key": {key}}
			res, err := b.http.PostForm(b.base.String()+"/0/checkout", form)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				t.Errorf("post %d: status %d, want 303", i, res.StatusCode)
			}
			locations[i] = res.Header.Get("Location")
		})
	}
	wg.Wait()
	sales := readSales(t, b)
	if len(sales) != 1 {
		t.Fatalf("%d posts of one checkout form rang up %d sales, want 1", posts, len(sales))
	}
	want := "/0/sales/" + sales[0].ID
	for i, got := range locations {
		if got != want {
			t.Errorf("post %d went to %q, want the receipt %q", i, got, want)
		}
	}
	if sales[0].TotalCents != 2*380+290 {
		t.Errorf("the sale: got %d cents, want %d", sales[0].TotalCents, 2*380+290)
	}
}

func TestCheckoutForms(t *testing.T) {
	tests := []struct {
		name string
		// post sends the checkout under test; key is the page's.
		post         func(b *browser, key string) answer
		wantSales    int
		wantLocation string // "receipt" for the first sale's
		wantOnPage   string // on the page the answer leads to
		wantCart     int    // lines left in the cart
	}{
		{
			name:      "the page's key",
			post:      func(b *browser, key string) answer { return b.post("/0/checkout", url.Values{"key": {key}}) },
			wantSales: 1, wantLocation: "receipt", wantOnPage: "Sale complete",
		},
		{
			name: "Back and resubmit: the same key again",
			post: func(b *browser, key string) answer {
				b.post("/0/checkout", url.Values{"key": {key}})
				return b.post("/0/checkout", url.Values{"key": {key}})
			},
			wantSales: 1, wantLocation: "receipt", wantOnPage: "Already checked out",
		},
		{
			name: "the same key after the register has a new cart",
			post: func(b *browser, key string) answer {
				b.post("/0/checkout", url.Values{"key": {key}})
				b.post("/0/cart/items", url.Values{"sku": {"TEA-001"}})
				return b.post("/0/checkout", url.Values{"key": {key}})
			},
			wantSales: 1, wantLocation: "receipt", wantOnPage: "Already checked out", wantCart: 1,
		},
		{
			name: "a key from before the cart changed",
			post: func(b *browser, key string) answer {
				b.post("/0/cart/items", url.Values{"sku": {"TEA-001"}})
				return b.post("/0/checkout", url.Values{"key": {key}})
			},
			wantSales: 0, wantLocation: "/0/", wantOnPage: "The cart changed", wantCart: 3,
		},
		{
			name:      "no key, as scripts post",
			post:      func(b *browser, key string) answer { return b.post("/0/checkout", nil) },
			wantSales: 1, wantLocation: "receipt", wantOnPage: "Sale complete",
		},
		{
			name:      "a key no form made",
			post:      func(b *browser, key string) answer { return b.post("/0/checkout", url.Values{"key": {"x.1"}}) },
			wantSales: 0, wantLocation: "/0/", wantOnPage: "did not come from this till", wantCart: 2,
		},
		{
			name: "another cart's key",
			post: func(b *browser, key string) answer {
				other := "AAAAAAAAAAAAAAAAAAAAAA" + key[strings.IndexByte(key, '.'):]
				return b.post("/0/checkout", url.Values{"key": {other}})
			},
			wantSales: 0, wantLocation: "/0/", wantOnPage: "The cart changed", wantCart: 2,
		},
		{
			name: "boosted by htmx",
			post: func(b *browser, key string) answer {
				req := formRequest(t, b, "/0/checkout", url.Values{"key": {key}, "csrf": {b.csrf}})
				req.Header.Set("HX-Request", "true")
				req.Header.Set("HX-Boosted", "true")
				return b.do(req)
			},
			wantSales: 1, wantLocation: "receipt", wantOnPage: "Sale complete",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, newTestServer(t))
			key := filledCart(t, b)
			got := tt.post(b, key)
			mustStatus(t, "checkout", got, http.StatusSeeOther)
			sales := readSales(t, b)
			if len(sales) != tt.wantSales {
				t.Fatalf("got %d sales, want %d", len(sales), tt.wantSales)
			}
			want := tt.wantLocation
			if want == "receipt" {
				want = "/0/sales/" + sales[0].ID
			}
			if got.location() != want {
				t.Errorf("Location: got %q, want %q", got.location(), want)
			}
			if page := b.get(got.location()); !strings.Contains(page.body, tt.wantOnPage) {
				t.Errorf("the page after the checkout does not say %q:\n%s", tt.wantOnPage, page.body)
			}
			if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != tt.wantCart {
				t.Errorf("cart after: got %+v, want %d lines", cart.Items, tt.wantCart)
			}
		})
	}
}

func formRequest(t *testing.T, b *browser, path string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base.String()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// failingLedger fails Record: before storing (lost), or after storing
// with the answer lost on the way back (landed).
type failingLedger struct {
	Ledger
	// mu guards the fields below: the test flips them between requests.
	mu     sync.Mutex
	fail   bool
	landed bool
}

func (l *failingLedger) set(fail, landed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail, l.landed = fail, landed
}

var errLedgerDown = errors.New("ledger down")

func (l *failingLedger) Record(ctx context.Context, s Sale) (Sale, bool, error) {
	l.mu.Lock()
	fail, landed := l.fail, l.landed
	l.mu.Unlock()
	if !fail {
		return l.Ledger.Record(ctx, s)
	}
	if landed {
		_, _, _ = l.Ledger.Record(ctx, s)
	}
	return Sale{}, false, errLedgerDown
}

// TestCheckoutWhenTheLedgerFails: a sale that is surely not recorded
// puts the cart back, and the cashier can ring it up again; one that
// landed despite the error counts as done, and the cart stays empty.
func TestCheckoutWhenTheLedgerFails(t *testing.T) {
	for _, landed := range []bool{false, true} {
		t.Run(map[bool]string{false: "lost", true: "landed"}[landed], func(t *testing.T) {
			failing := &failingLedger{fail: true, landed: landed}
			srv, ledger := newTestServerWith(t, func(cfg *serverConfig) {
				failing.Ledger = cfg.Ledger
				cfg.Ledger = failing
			})
			b := newBrowser(t, srv)
			key := filledCart(t, b)
			before := readCart(t, b, "/0/cart.json")
			got := b.post("/0/checkout", url.Values{"key": {key}})
			_, totals, err := ledger.Recent(context.Background(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if landed {
				mustStatus(t, "checkout", got, http.StatusSeeOther)
				if totals.Sales != 1 {
					t.Errorf("got %d sales, want 1", totals.Sales)
				}
				if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != 0 {
					t.Errorf("the cart came back after a sale that landed: %+v", cart.Items)
				}
				return
			}
			mustStatus(t, "checkout", got, http.StatusInternalServerError)
			if totals.Sales != 0 {
				t.Errorf("got %d sales, want none", totals.Sales)
			}
			if after := readCart(t, b, "/0/cart.json"); !reflect.DeepEqual(after, before) {
				t.Errorf("cart after a failed checkout: got %+v, want %+v", after, before)
			}
			// The ledger is back: the page's new key rings it up once.
			failing.set(false, false)
			newKey := checkoutKeyOf(t, b.get("/0/"))
			if newKey == key {
				t.Error("the key did not change with the restored cart")
			}
			mustStatus(t, "retry", b.post("/0/checkout", url.Values{"key": {newKey}}), http.StatusSeeOther)
			if sales := readSales(t, b); len(sales) != 1 || sales[0].TotalCents != before.TotalCents {
				t.Errorf("after the retry: got %+v, want one sale of %d cents", sales, before.TotalCents)
			}
		})
	}
}

// TestSalesOutliveTheSession: sales are the shop's. A cashier signing
// out, and another browser signing in, still see them.
func TestSalesOutliveTheSession(t *testing.T) {
	srv := newTestServer(t)
	ann := newBrowser(t, srv)
	filledCart(t, ann)
	mustStatus(t, "checkout", ann.post("/0/checkout", nil), http.StatusSeeOther)
	mustStatus(t, "sign out", ann.post("/logout", nil), http.StatusSeeOther)
	mustStatus(t, "sales.json signed out", ann.get("/sales.json"), http.StatusUnauthorized)

	bob := newBrowser(t, srv)
	bob.signIn("Bob")
	sales := readSales(t, bob)
	if len(sales) != 1 || sales[0].Cashier != "Ann" {
		t.Fatalf("Bob's sales.json: got %+v, want Ann's sale", sales)
	}
	page := bob.get("/0/sales")
	for _, want := range []string{sales[0].ID, "1 sale", "$10.50"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("Bob's sales page lacks %q", want)
		}
	}
	mustStatus(t, "Ann's receipt for Bob", bob.get("/0/sales/"+sales[0].ID), http.StatusOK)
}
