package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var confirmInput = regexp.MustCompile(`name="confirm" value="(\d+)"`)

func TestCloseRegister(t *testing.T) {
	srv := newTestServer(t)
	t.Run("an empty register closes at once", func(t *testing.T) {
		b := newBrowser(t, srv)
		b.signIn("Ann")
		b.get("/+/")
		b.get("/1/") // the new register's page, as a browser shows it
		got := b.post("/1/close", nil)
		mustStatus(t, "close", got, http.StatusSeeOther)
		if got.location() != "/closed?tab=1" {
			t.Fatalf("Location: got %q, want /closed?tab=1", got.location())
		}
		page := b.get(got.location())
		mustStatus(t, "closed page", page, http.StatusOK)
		if !strings.Contains(page.body, "Register #1 is closed") || !strings.Contains(page.body, `href="/0/"`) {
			t.Errorf("the closed page does not say so, or lists no register:\n%s", page.body)
		}
		if strings.Contains(page.body, `href="/1/"`) {
			t.Error("the closed page links the closed register")
		}
		mustStatus(t, "the closed tab's cart", b.get("/1/cart.json"), http.StatusSeeOther)
		if regs := b.get("/0/registers"); strings.Contains(regs.body, `data-tab="1"`) {
			t.Error("the registers page still lists register 1")
		}
		// Its forms are refused, as for any closed tab.
		mustStatus(t, "add to the closed register", b.post("/1/cart/items", url.Values{"sku": {"COF-001"}}), http.StatusConflict)
	})
	t.Run("a register with items asks first", func(t *testing.T) {
		b := newBrowser(t, srv)
		b.signIn("Ann")
		b.get("/+/")
		b.post("/1/cart/items", url.Values{"sku": {"SAN-001"}, "qty": {"2"}})
		got := b.post("/1/close", nil)
		mustStatus(t, "close", got, http.StatusSeeOther)
		if got.location() != "/1/close" {
			t.Fatalf("Location: got %q, want the confirmation /1/close", got.location())
		}
		page := b.get("/1/close")
		for _, want := range []string{"2 items", "$13.80", "2 × Ham &amp; Cheese", "Drop the cart and close"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the confirmation lacks %q", want)
			}
		}
		m := confirmInput.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatal("no confirm field")
		}
		// The cart changes after the page was shown: ask again.
		b.post("/1/cart/items", url.Values{"sku": {"SAN-001"}})
		if again := b.post("/1/close", url.Values{"confirm": {m[1]}}); again.location() != "/1/close" {
			t.Errorf("a stale confirmation: got %d to %q, want the confirmation again", again.status, again.location())
		}
		m = confirmInput.FindStringSubmatch(b.get("/1/close").body)
		if got := b.post("/1/close", url.Values{"confirm": {m[1]}}); got.location() != "/closed?tab=1" {
			t.Fatalf("confirmed close: got %d to %q", got.status, got.location())
		}
		mustStatus(t, "the closed tab's cart", b.get("/1/cart.json"), http.StatusSeeOther)
		if sales := readSales(t, b); len(sales) != 0 {
			t.Errorf("closing rang up %d sales", len(sales))
		}
	})
	t.Run("register 0 is emptied and stays", func(t *testing.T) {
		b := newBrowser(t, srv)
		b.signIn("Ann")
		b.post("/0/label", url.Values{"label": {"Front"}})
		b.post("/0/cart/items", url.Values{"sku": {"TEA-001"}})
		m := confirmInput.FindStringSubmatch(b.get("/0/close").body)
		got := b.post("/0/close", url.Values{"confirm": {m[1]}})
		if got.location() != "/0/" {
			t.Fatalf("close of register 0: got %d to %q, want /0/", got.status, got.location())
		}
		if page := b.get("/0/"); !strings.Contains(page.body, "Register #0 was cleared") {
			t.Error("no word of the clearing")
		}
		if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != 0 || cart.Label != "" {
			t.Errorf("register 0 after closing: %+v", cart)
		}
	})
}

// TestSignOutAsksFirst: the sign-out button leads to a page that lists
// what will be dropped and changes nothing; POST /logout still signs out
// at once.
func TestSignOutAsksFirst(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	if page := b.get("/0/"); !strings.Contains(page.body, `href="/0/signout"`) {
		t.Fatal("the header has no sign-out link to the confirmation")
	}
	empty := b.get("/0/signout")
	mustStatus(t, "sign-out page", empty, http.StatusOK)
	if !strings.Contains(empty.body, "Every cart is empty") || !strings.Contains(empty.body, `action="/logout"`) {
		t.Errorf("sign-out page with empty carts:\n%s", empty.body)
	}

	b.get("/+/")
	b.post("/1/label", url.Values{"label": {"Drive-thru"}})
	b.post("/1/cart/items", url.Values{"sku": {"COF-001"}, "qty": {"3"}})
	b.post("/0/cart/items", url.Values{"sku": {"DRK-001"}})
	page := b.get("/0/signout")
	for _, want := range []string{"drops 4 items worth $9.30", "Drive-thru", "3 items · $7.80", "Register 0", "1 item · $1.50", "Drop them and sign out"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the sign-out page lacks %q", want)
		}
	}
	if cart := readCart(t, b, "/1/cart.json"); len(cart.Items) != 1 {
		t.Errorf("showing the sign-out page changed a cart: %+v", cart)
	}
	mustStatus(t, "sign out", b.post("/logout", nil), http.StatusSeeOther)
	if b.cookie("tabkit") != "" {
		t.Error("still signed in after POST /logout")
	}
}
