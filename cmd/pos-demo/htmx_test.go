package main

import (
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tabkit/tabkit/web"
)

// htmxPost sends a form as htmx does for an in-place swap.
func htmxPost(t *testing.T, b *browser, path string, form url.Values) answer {
	t.Helper()
	if _, set := form["csrf"]; !set {
		form.Set("csrf", b.csrf)
	}
	req := formRequest(t, b, path, form)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "cart")
	return b.do(req)
}

// TestInPlaceCartChanges: an htmx request gets the cart panel and the
// header's parts to swap, with the change's message, instead of a
// redirect; the links and htmx attributes in it stay in the tab; and the
// message is not left behind as a flash for the next page.
func TestInPlaceCartChanges(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	if loc := b.get("/+/").location(); loc != "/1/" {
		t.Fatalf("new register at %q, want /1/", loc)
	}
	b.get("/1/")
	steps := []struct {
		name    string
		path    string
		form    url.Values
		want    []string
		notWant []string
	}{
		{"add", "/1/cart/items", url.Values{"sku": {"COF-002"}, "qty": {"2"}},
			[]string{`<aside class="cart" id="cart"`, `Added 2 × Double Espresso`, `class="flash flash-ok"`,
				`hx-post="/1/cart/items/COF-002"`, `action="/1/checkout"`, `id="register-chip"`, `hx-swap-oob="true"`,
				`data-testid="cart-badge">2<`, `<div id="flash-area" hx-swap-oob="true"></div>`, `2 items`},
			[]string{`hx-post="/cart/items`, `class="catalog"`}},
		{"update", "/1/cart/items/COF-002", url.Values{"qty": {"5"}},
			[]string{"Double Espresso: quantity 5", `value="5"`, "$16.00"}, nil},
		{"too many", "/1/cart/items/COF-002", url.Values{"qty": {"100"}},
			[]string{`class="flash flash-error"`, "quantity must be from 0 to 99", `value="5"`}, nil},
		{"rename", "/1/label", url.Values{"label": {"Drive-thru"}},
			[]string{`This register is now called &#34;Drive-thru&#34;.`, `data-testid="register-name">Drive-thru<`,
				`<title>Drive-thru · tabkit POS</title>`}, nil},
		{"remove", "/1/cart/items/COF-002", url.Values{"qty": {"0"}},
			[]string{"Removed Double Espresso", `data-testid="cart-empty"`, `0 items`}, []string{"cart-badge"}},
	}
	for _, s := range steps {
		got := htmxPost(t, b, s.path, s.form)
		mustStatus(t, s.name, got, http.StatusOK)
		if got.location() != "" {
			t.Errorf("%s: redirected to %q", s.name, got.location())
		}
		for _, w := range s.want {
			if !strings.Contains(got.body, w) {
				t.Errorf("%s: the answer lacks %s", s.name, w)
			}
		}
		for _, w := range s.notWant {
			if strings.Contains(got.body, w) {
				t.Errorf("%s: the answer holds %s", s.name, w)
			}
		}
	}
	if page := b.get("/1/"); strings.Contains(page.body, `data-testid="flashes"`) {
		t.Errorf("an in-place change left a flash for the next page:\n%s", page.body)
	}
	if cart := readCart(t, b, "/1/cart.json"); cart.Label != "Drive-thru" || len(cart.Items) != 0 {
		t.Errorf("cart after the changes: got %+v", cart)
	}
}

// TestInPlaceRefusals: what htmx cannot swap comes back as a status the
// page's script shows (403, 409), or as a full-page redirect to sign in.
func TestInPlaceRefusals(t *testing.T) {
	srv := newTestServer(t)
	b := newBrowser(t, srv)
	b.signIn("Ann")
	b.get("/+/")

	forged := htmxPost(t, b, "/0/cart/items", url.Values{"sku": {"COF-001"}, "csrf": {"forged"}})
	mustStatus(t, "forged token", forged, http.StatusForbidden)
	if !strings.Contains(forged.body, `data-testid="error-message">This form has expired`) {
		t.Errorf("403 without its message:\n%s", forged.body)
	}
	gone := htmxPost(t, b, "/9/cart/items", url.Values{"sku": {"COF-001"}})
	mustStatus(t, "closed tab", gone, http.StatusConflict)
	if !strings.Contains(gone.body, "no longer open") {
		t.Errorf("409 without its message:\n%s", gone.body)
	}
}

// TestFormsAfterSigningOut: a tab left open after signing out sends its
// forms without a session (or with the ended session's cookie, as a
// request on its way during the sign-out does). They land on the sign-in
// page, which says why, instead of the 409 for a closed tab; htmx gets
// HX-Redirect there.
func TestFormsAfterSigningOut(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name       string
		path       string
		htmx       bool
		keepCookie bool // the old cookie, as a copy of it would send
		wantStatus int
		wantTo     string
	}{
		{"plain form, tab 0", "/0/cart/items", false, false, http.StatusSeeOther, "/login?next=%2F0%2F"},
		{"plain form, another tab", "/1/cart/items", false, false, http.StatusSeeOther, "/login?next=%2F0%2F"},
		{"htmx, another tab", "/1/cart/items", true, false, http.StatusOK, "/login?next=%2F0%2F"},
		{"htmx, tab 0", "/0/cart/items", true, false, http.StatusOK, "/login?next=%2F0%2F"},
		{"the ended session's cookie, another tab", "/1/cart/items", false, true, http.StatusSeeOther, "/login?next=%2F0%2F"},
		{"the ended session's cookie, another tab, htmx", "/1/cart/items", true, true, http.StatusOK, "/login?next=%2F0%2F"},
		{"the ended session's cookie, tab 0", "/0/cart/items", false, true, http.StatusSeeOther, "/login?next=%2F0%2F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, srv)
			b.signIn("Ann")
			b.get("/+/")
			old := b.cookie("tabkit")
			token := b.csrf
			mustStatus(t, "sign out", b.post("/logout", nil), http.StatusSeeOther)
			if tt.keepCookie {
				b.http.Jar.SetCookies(b.base, []*http.Cookie{{Name: "tabkit", Value: old, Path: "/"}})
			}
			form := url.Values{"sku": {"COF-001"}, "csrf": {token}}
			var got answer
			if tt.htmx {
				got = htmxPost(t, b, tt.path, form)
			} else {
				got = b.post(tt.path, form)
			}
			mustStatus(t, tt.path, got, tt.wantStatus)
			to := got.location()
			if tt.htmx {
				to = got.header.Get("HX-Redirect")
			}
			if to != tt.wantTo {
				t.Errorf("sent to %q, want %q", to, tt.wantTo)
			}
			if tt.wantTo == "" {
				return
			}
			page := b.get("/login?next=%2F0%2F")
			if !strings.Contains(page.body, "You were signed out") {
				t.Errorf("the sign-in page does not say why:\n%s", page.body)
			}
			if again := b.get("/login"); strings.Contains(again.body, "You were signed out") {
				t.Error("the notice shows twice")
			}
			if b.cookie("tabkit") != "" {
				t.Error("the refused form made a session")
			}
		})
	}
}

func TestStaticFilesAreCachedByVersion(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.signIn("Ann")
	page := b.get("/0/")
	a, err := loadAssets(web.Static)
	if err != nil {
		t.Fatal(err)
	}
	const forever = "public, max-age=31536000, immutable"
	tests := []struct {
		path      string
		onPage    bool
		wantCache string
	}{
		{"/static/" + htmxFile, true, forever},
		{a.url("app.css"), true, forever},
		{a.url("pos.js"), true, forever},
		{"/static/tabs.js", true, "no-cache"},
		{"/static/app.css", false, "no-cache"},
		{"/static/app.css?v=000000000000", false, "no-cache"},
	}
	for _, tt := range tests {
		if tt.onPage && !strings.Contains(page.body, `="`+tt.path+`"`) {
			t.Errorf("the register page does not load %s", tt.path)
		}
		got := b.get(tt.path)
		mustStatus(t, tt.path, got, http.StatusOK)
		if cc := got.header.Get("Cache-Control"); cc != tt.wantCache {
			t.Errorf("%s: Cache-Control %q, want %q", tt.path, cc, tt.wantCache)
		}
	}
}

// TestVendoredHTMX: the file the pages load is the htmx its name says.
func TestVendoredHTMX(t *testing.T) {
	b, err := fs.ReadFile(web.Static, htmxFile)
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSuffix(strings.TrimPrefix(htmxFile, "htmx-"), ".min.js")
	if !strings.Contains(string(b), `version:"`+version+`"`) {
		t.Errorf("%s does not say it is htmx %s", htmxFile, version)
	}
	if !versionedName.MatchString(htmxFile) {
		t.Errorf("%s is not named as a versioned file", htmxFile)
	}
}
