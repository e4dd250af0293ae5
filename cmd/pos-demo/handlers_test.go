package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tabkit/tabkit/store"
)

func TestBareRootRedirectsWithoutStoring(t *testing.T) {
	srv := newTestServer(t)
	b := newBrowser(t, srv)
	got := b.get("/")
	mustStatus(t, "GET /", got, http.StatusSeeOther)
	if got.location() != "/0/" {
		t.Errorf("Location: got %q, want /0/", got.location())
	}
	if c := got.header.Get("Set-Cookie"); c != "" {
		t.Errorf("GET / set a cookie: %q", c)
	}
}

func TestHealthz(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	mustStatus(t, "GET /healthz", b.get("/healthz"), http.StatusOK)
}

func TestCartJSONOfAnEmptyTab(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	got := b.get("/0/cart.json")
	mustStatus(t, "GET /0/cart.json", got, http.StatusOK)
	want := `{"tab":0,"label":"","items":[],"total_cents":0}`
	if strings.TrimSpace(got.body) != want {
		t.Errorf("got %s, want %s", got.body, want)
	}
	if c := got.header.Get("Set-Cookie"); c != "" {
		t.Errorf("reading an empty cart set a cookie: %q", c)
	}
}

func TestSignedOutRequests(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name         string
		method, path string
		wantStatus   int
		wantLocation string
		wantBody     string
	}{
		{"register page shows the sign-in form", "GET", "/0/", http.StatusOK, "", `action="/login"`},
		{"sales page shows the sign-in form", "GET", "/0/sales", http.StatusOK, "", `value="/0/sales"`},
		{"adding is sent to sign in", "POST", "/0/cart/items", http.StatusSeeOther, "/login?next=%2F0%2F", ""},
		{"checkout is sent to sign in", "POST", "/0/checkout", http.StatusSeeOther, "/login?next=%2F0%2F", ""},
		{"sales.json is refused", "GET", "/sales.json", http.StatusUnauthorized, "", `{"error":"sign in required"}`},
		{"sign-out without a session is a no-op", "POST", "/logout", http.StatusSeeOther, "/0/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, srv)
			var got answer
			if tt.method == "GET" {
				got = b.get(tt.path)
			} else {
				got = b.post(tt.path, url.Values{"sku": {"COF-001"}})
			}
			mustStatus(t, tt.path, got, tt.wantStatus)
			if got.location() != tt.wantLocation {
				t.Errorf("Location: got %q, want %q", got.location(), tt.wantLocation)
			}
			if !strings.Contains(got.body, tt.wantBody) {
				t.Errorf("body does not contain %q:\n%s", tt.wantBody, got.body)
			}
			if b.cookie("tabkit") != "" {
				t.Errorf("a signed-out request created a session")
			}
		})
	}
}

func TestSignInRegeneratesTheSessionCookie(t *testing.T) {
	// The store's clock, to get past the minute in which an ID moved away
	// by a sign-in answers "moved".
	clock := &fakeClock{now: time.Now()}
	srv, _ := newTestServerWith(t, func(c *serverConfig) {
		st := store.NewMemoryWith(store.MemoryOptions{Now: clock.Now})
		t.Cleanup(func() { _ = st.Close() })
		c.Store = st
	})
	b := newBrowser(t, srv)
	b.signIn("Ann")
	first := b.cookie("tabkit")
	if first == "" {
		t.Fatal("no session cookie after sign-in")
	}
	mustStatus(t, "add", b.post("/0/cart/items", url.Values{"sku": {"COF-001"}}), http.StatusSeeOther)

	// Switching cashier signs in again on the live session.
	b.get("/login")
	got := b.post("/login", url.Values{"pin": {testPIN}, "name": {"Bob"}, "next": {"/0/"}})
	mustStatus(t, "second sign-in", got, http.StatusSeeOther)
	second := b.cookie("tabkit")
	if second == "" || second == first {
		t.Fatalf("session cookie after second sign-in: got %q, want a new value (was %q)", second, first)
	}
	if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != 1 {
		t.Errorf("cart after regenerating: got %d lines, want 1", len(cart.Items))
	}

	// The old ID is dead. For a minute it answers that the session moved
	// (a request that raced the sign-in: 409, reload), then it is simply
	// gone: a browser still holding it is signed out.
	stale := newBrowser(t, srv)
	stale.http.Jar.SetCookies(stale.base, []*http.Cookie{{Name: "tabkit", Value: first, Path: "/"}})
	mustStatus(t, "sales.json with the old cookie, at once", stale.get("/sales.json"), http.StatusConflict)
	clock.Advance(store.MovedGrace + time.Second)
	mustStatus(t, "sales.json with the old cookie, later", stale.get("/sales.json"), http.StatusUnauthorized)
}

func TestSignInRefusals(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
	}{
		{"wrong PIN", url.Values{"pin": {"0000"}}, http.StatusSeeOther},
		{"no CSRF token", url.Values{"pin": {testPIN}, "csrf": {""}}, http.StatusForbidden},
		{"wrong CSRF token", url.Values{"pin": {testPIN}, "csrf": {newToken()}}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, srv)
			b.get("/0/")
			mustStatus(t, "POST /login", b.post("/login", tt.form), tt.wantStatus)
			if b.cookie("tabkit") != "" {
				t.Error("a refused sign-in created a session")
			}
		})
	}
	t.Run("without the double-submit cookie", func(t *testing.T) {
		b := newBrowser(t, srv)
		mustStatus(t, "POST /login", b.post("/login", url.Values{"pin": {testPIN}, "csrf": {newToken()}}), http.StatusForbidden)
	})
}

func TestSignInGoesOnlyToLocalPaths(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct{ next, want string }{
		{"/0/sales", "/0/sales"},
		{"//evil.example/", "/0/"},
		{"https://evil.example/", "/0/"},
		{"/\\evil.example", "/0/"},
		{"", "/0/"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			b := newBrowser(t, srv)
			b.get("/0/")
			got := b.post("/login", url.Values{"pin": {testPIN}, "next": {tt.next}})
			mustStatus(t, "POST /login", got, http.StatusSeeOther)
			if got.location() != tt.want {
				t.Errorf("Location: got %q, want %q", got.location(), tt.want)
			}
		})
	}
}

func TestCSRFRefusal(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name string
		path string
		form url.Values
	}{
		{"add", "/0/cart/items", url.Values{"sku": {"COF-001"}, "qty": {"3"}}},
		{"set quantity", "/0/cart/items/TEA-001", url.Values{"qty": {"9"}}},
		{"remove", "/0/cart/items/TEA-001", url.Values{"qty": {"0"}}},
		{"checkout", "/0/checkout", nil},
		{"rename", "/0/label", url.Values{"label": {"Hijacked"}}},
		{"sign out", "/logout", nil},
	}
	tokens := []struct {
		name  string
		token string
	}{
		{"missing", ""},
		{"forged", newToken()},
	}
	for _, tt := range tests {
		for _, tok := range tokens {
			t.Run(tt.name+"/"+tok.name, func(t *testing.T) {
				b := newBrowser(t, srv)
				b.signIn("Ann")
				mustStatus(t, "add", b.post("/0/cart/items", url.Values{"sku": {"TEA-001"}}), http.StatusSeeOther)
				before := readCart(t, b, "/0/cart.json")

				form := url.Values{}
				for k, v := range tt.form {
					form[k] = v
				}
				form.Set("csrf", tok.token)
				mustStatus(t, tt.path, b.post(tt.path, form), http.StatusForbidden)

				if after := readCart(t, b, "/0/cart.json"); !reflect.DeepEqual(after, before) {
					t.Errorf("cart changed by a refused request: got %+v, want %+v", after, before)
				}
				if sales := readSales(t, b); len(sales) != 0 {
					t.Errorf("a refused request recorded %d sales", len(sales))
				}
			})
		}
	}
}

func TestCSRFTokenInHeader(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	req, _ := http.NewRequest(http.MethodPost, b.base.String()+"/0/cart/items", strings.NewReader("sku=COF-002&qty=2"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(csrfHeader, b.csrf)
	mustStatus(t, "add with X-CSRF-Token", b.do(req), http.StatusSeeOther)
	if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != 1 || cart.Items[0].Qty != 2 {
		t.Errorf("cart: got %+v, want 2 × COF-002", cart.Items)
	}
}

func TestCartChanges(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	steps := []struct {
		name      string
		path      string
		form      url.Values
		wantFlash string
		want      []lineView
	}{
		{"add two", "/0/cart/items", url.Values{"sku": {"COF-001"}, "qty": {"2"}}, "Added 2 × Espresso",
			[]lineView{{"COF-001", 2, 260}}},
		{"add one by default", "/0/cart/items", url.Values{"sku": {"BAK-001"}}, "Added 1 × Butter Croissant",
			[]lineView{{"COF-001", 2, 260}, {"BAK-001", 1, 290}}},
		{"add more of the same", "/0/cart/items", url.Values{"sku": {"COF-001"}, "qty": {"1"}}, "Added 1 × Espresso",
			[]lineView{{"COF-001", 3, 260}, {"BAK-001", 1, 290}}},
		{"set quantity", "/0/cart/items/BAK-001", url.Values{"qty": {"4"}}, "Butter Croissant: quantity 4",
			[]lineView{{"COF-001", 3, 260}, {"BAK-001", 4, 290}}},
		{"remove", "/0/cart/items/COF-001", url.Values{"qty": {"0"}}, "Removed Espresso",
			[]lineView{{"BAK-001", 4, 290}}},
		{"unknown product", "/0/cart/items", url.Values{"sku": {"NOPE-1"}}, "not in the catalogue",
			[]lineView{{"BAK-001", 4, 290}}},
		{"bad quantity", "/0/cart/items", url.Values{"sku": {"COF-001"}, "qty": {"-3"}}, "Cannot add Espresso",
			[]lineView{{"BAK-001", 4, 290}}},
		{"quantity of a product not in the cart", "/0/cart/items/TEA-002", url.Values{"qty": {"2"}}, "not in this cart",
			[]lineView{{"BAK-001", 4, 290}}},
	}
	for _, s := range steps {
		got := b.post(s.path, s.form)
		mustStatus(t, s.name, got, http.StatusSeeOther)
		if got.location() != "/0/" {
			t.Errorf("%s: Location %q, want /0/", s.name, got.location())
		}
		page := b.get("/0/")
		if !strings.Contains(page.body, s.wantFlash) {
			t.Errorf("%s: page does not show %q", s.name, s.wantFlash)
		}
		if again := b.get("/0/"); strings.Contains(again.body, s.wantFlash) {
			t.Errorf("%s: flash %q shown twice", s.name, s.wantFlash)
		}
		cart := readCart(t, b, "/0/cart.json")
		if !reflect.DeepEqual(cart.Items, s.want) {
			t.Errorf("%s: cart got %+v, want %+v", s.name, cart.Items, s.want)
		}
	}
	if cart := readCart(t, b, "/0/cart.json"); cart.TotalCents != 4*290 {
		t.Errorf("total: got %d, want %d", cart.TotalCents, 4*290)
	}
}

func TestTabsHaveTheirOwnCartsAndLabels(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	opened := b.get("/+/")
	mustStatus(t, "GET /+/", opened, http.StatusSeeOther)
	if opened.location() != "/1/" {
		t.Fatalf("new register at %q, want /1/", opened.location())
	}
	b.post("/0/cart/items", url.Values{"sku": {"COF-001"}})
	b.post("/1/cart/items", url.Values{"sku": {"DRK-001"}, "qty": {"5"}})
	mustStatus(t, "rename", b.post("/1/label", url.Values{"label": {"  Drive   through "}}), http.StatusSeeOther)

	zero, one := readCart(t, b, "/0/cart.json"), readCart(t, b, "/1/cart.json")
	if want := (cartView{Tab: 0, Label: "", Items: []lineView{{"COF-001", 1, 260}}, TotalCents: 260}); !reflect.DeepEqual(zero, want) {
		t.Errorf("tab 0: got %+v, want %+v", zero, want)
	}
	if want := (cartView{Tab: 1, Label: "Drive through", Items: []lineView{{"DRK-001", 5, 150}}, TotalCents: 750}); !reflect.DeepEqual(one, want) {
		t.Errorf("tab 1: got %+v, want %+v", one, want)
	}

	page := b.get("/0/registers")
	for _, want := range []string{`href="/0/"`, `href="/1/"`, "Drive through", "$7.50", "$2.60"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("registers page does not contain %q", want)
		}
	}
}

func TestCheckout(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	b.post("/0/cart/items", url.Values{"sku": {"SAN-003"}, "qty": {"2"}})
	b.post("/0/cart/items", url.Values{"sku": {"DRK-006"}})
	got := b.post("/0/checkout", nil)
	mustStatus(t, "checkout", got, http.StatusSeeOther)
	id, ok := strings.CutPrefix(got.location(), "/0/sales/")
	if !ok || !validSaleID(id) {
		t.Fatalf("Location: got %q, want /0/sales/ and a UUID", got.location())
	}
	if v := uuid.MustParse(id).Version(); v != 7 {
		t.Errorf("receipt ID %s is a version %d UUID, want 7", id, v)
	}
	receipt := b.get(got.location())
	mustStatus(t, "receipt", receipt, http.StatusOK)
	for _, want := range []string{id, "Chicken Club", "$18.60", "Sale complete", "Total · 3 items"} {
		if !strings.Contains(receipt.body, want) {
			t.Errorf("receipt does not contain %q", want)
		}
	}
	if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != 0 || cart.TotalCents != 0 {
		t.Errorf("cart after checkout: got %+v, want empty", cart)
	}
	mustStatus(t, "empty checkout", b.post("/0/checkout", nil), http.StatusSeeOther)
	if page := b.get("/0/"); !strings.Contains(page.body, "The cart is empty") {
		t.Error("checking out an empty cart says nothing")
	}
	for _, bad := range []string{"9999", "0001", "01a23b7e-accb-7678-9039-8b870d007ef8", "../sales.json"} {
		mustStatus(t, "unknown receipt "+bad, b.get("/0/sales/"+url.PathEscape(bad)), http.StatusNotFound)
	}

	sales := readSales(t, b)
	if len(sales) != 1 {
		t.Fatalf("sales.json: got %d sales, want 1", len(sales))
	}
	sale := sales[0]
	if sale.At.IsZero() || sale.Cashier != "Ann" || sale.Register != "Register 0" {
		t.Errorf("sales.json: who and when: got %+v", sale)
	}
	sale.At, sale.Cashier, sale.Register = time.Time{}, "", ""
	want := saleView{ID: id, Tab: 0, TotalCents: 1860, Items: []lineView{{"SAN-003", 2, 820}, {"DRK-006", 1, 220}}}
	if !reflect.DeepEqual(sale, want) {
		t.Errorf("sales.json: got %+v, want %+v", sale, want)
	}
}

func TestSalesJSONShape(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	if got := strings.TrimSpace(b.get("/sales.json").body); got != "[]" {
		t.Errorf("no sales: got %s, want []", got)
	}
	b.post("/0/cart/items", url.Values{"sku": {"COF-001"}})
	b.post("/0/checkout", nil)
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(b.get("/sales.json").body), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 1 {
		t.Fatalf("got %d sales, want 1", len(raw))
	}
	var keys []string
	for k := range raw[0] {
		keys = append(keys, k)
	}
	// The shape of before, plus who, where and when.
	if want := []string{"id", "items", "tab", "total_cents", "register", "cashier", "at"}; !sameSet(keys, want) {
		t.Errorf("sale keys: got %v, want %v", keys, want)
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw[0]["items"], &items); err != nil || len(items) != 1 {
		t.Fatalf("items: %s (%v)", raw[0]["items"], err)
	}
	keys = keys[:0]
	for k := range items[0] {
		keys = append(keys, k)
	}
	if want := []string{"sku", "qty", "price_cents"}; !sameSet(keys, want) {
		t.Errorf("item keys: got %v, want %v", keys, want)
	}
}

func TestConcurrentCheckoutsAllLand(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	const registers = 4
	for i := 1; i < registers; i++ {
		b.get("/+/")
	}
	for i := range registers {
		b.post(tabPath(i, "/cart/items"), url.Values{"sku": {"SNK-001"}, "qty": {"1"}})
	}
	var wg sync.WaitGroup
	for i := range registers {
		wg.Go(func() {
			form := url.Values{"csrf": {b.csrf}}
			res, err := b.http.PostForm(b.base.String()+tabPath(i, "/checkout"), form)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				t.Errorf("checkout of tab %d: status %d", i, res.StatusCode)
			}
		})
	}
	wg.Wait()
	sales := readSales(t, b)
	if len(sales) != registers {
		t.Fatalf("got %d sales, want %d", len(sales), registers)
	}
	seen := map[string]bool{}
	for _, s := range sales {
		if seen[s.ID] {
			t.Errorf("sale ID %s used twice", s.ID)
		}
		seen[s.ID] = true
	}
}

func TestSignOutEndsEveryRegister(t *testing.T) {
	srv := newTestServer(t)
	b := newBrowser(t, srv)
	b.signIn("Ann")
	b.get("/+/")
	b.post("/0/cart/items", url.Values{"sku": {"COF-001"}})
	b.post("/1/cart/items", url.Values{"sku": {"TEA-001"}})
	got := b.post("/logout", nil)
	mustStatus(t, "sign out", got, http.StatusSeeOther)
	if b.cookie("tabkit") != "" {
		t.Error("session cookie still set after sign-out")
	}
	if page := b.get("/0/"); !strings.Contains(page.body, `action="/login"`) {
		t.Error("register page after sign-out does not ask to sign in")
	}
	if gone := b.get("/1/"); gone.status != http.StatusSeeOther {
		t.Errorf("tab 1 after sign-out: got %d, want 303 away", gone.status)
	}
	if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != 0 {
		t.Errorf("cart after sign-out: got %+v, want empty", cart.Items)
	}
	mustStatus(t, "sales.json", b.get("/sales.json"), http.StatusUnauthorized)
}

func TestForgedTabNeverShowsData(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	b.post("/0/cart/items", url.Values{"sku": {"COF-001"}})
	got := b.get("/42/")
	mustStatus(t, "GET /42/", got, http.StatusSeeOther)
	mustStatus(t, "POST /42/cart/items", b.post("/42/cart/items", url.Values{"sku": {"COF-001"}}), http.StatusConflict)
	if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != 1 || cart.Items[0].Qty != 1 {
		t.Errorf("tab 0 changed by a forged tab: %+v", cart.Items)
	}
}

func readCart(t *testing.T, b *browser, path string) cartView {
	t.Helper()
	got := b.get(path)
	mustStatus(t, path, got, http.StatusOK)
	var cart cartView
	if err := json.Unmarshal([]byte(got.body), &cart); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, got.body)
	}
	return cart
}

func readSales(t *testing.T, b *browser) []saleView {
	t.Helper()
	got := b.get("/sales.json")
	mustStatus(t, "/sales.json", got, http.StatusOK)
	var sales []saleView
	if err := json.Unmarshal([]byte(got.body), &sales); err != nil {
		t.Fatalf("/sales.json: %v\n%s", err, got.body)
	}
	return sales
}

func tabPath(tab int, path string) string {
	return "/" + strconv.Itoa(tab) + path
}

func sameSet(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	set := map[string]bool{}
	for _, g := range got {
		set[g] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

func TestASecondSignInFormStillWorks(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.get("/0/")
	staleForm := b.csrf // another browser tab showing the same form
	b.post("/login", url.Values{"pin": {testPIN}})
	got := b.post("/login", url.Values{"pin": {testPIN}, "csrf": {staleForm}})
	mustStatus(t, "sign-in from the second form", got, http.StatusSeeOther)
}
