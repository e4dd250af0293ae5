package main

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tabkit/tabkit/admin"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
)

// principalsOf lists the sessions the store indexes under principal.
func principalsOf(t *testing.T, st store.Store, principal string) []store.SessionRef {
	t.Helper()
	idx, ok := st.(store.PrincipalIndex)
	if !ok {
		t.Fatalf("%T keeps no index of principals", st)
	}
	refs, err := idx.SessionsOf(context.Background(), principal)
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// TestPrincipalFollowsTheCashier: sign-in names the session after the
// cashier, switching cashier renames it, and sign-out removes it.
func TestPrincipalFollowsTheCashier(t *testing.T) {
	d := newTestDemo(t, nil)
	b := newBrowser(t, d.srv)
	steps := []struct {
		name string
		do   func()
		want map[string]int // principal → sessions indexed
	}{
		{"before sign-in", func() { b.get("/0/") }, map[string]int{"Ann": 0, "Bob": 0}},
		{"signed in as Ann", func() { b.signIn("Ann") }, map[string]int{"Ann": 1, "Bob": 0}},
		{"switched to Bob", func() {
			b.get("/login")
			mustStatus(t, "switch", b.post("/login", url.Values{"pin": {testPIN}, "name": {"Bob"}, "next": {"/0/"}}), http.StatusSeeOther)
			b.get("/0/")
		}, map[string]int{"Ann": 0, "Bob": 1}},
		{"signed out", func() { mustStatus(t, "sign out", b.post("/logout", nil), http.StatusSeeOther) }, map[string]int{"Ann": 0, "Bob": 0}},
	}
	for _, step := range steps {
		step.do()
		for p, want := range step.want {
			refs := principalsOf(t, d.store, p)
			if len(refs) != want {
				t.Errorf("%s: %d sessions of %s, want %d", step.name, len(refs), p, want)
			}
			for _, ref := range refs {
				if ref.Meta.Principal != p {
					t.Errorf("%s: session indexed under %s has principal %q", step.name, p, ref.Meta.Principal)
				}
			}
		}
	}
}

var terminalCard = regexp.MustCompile(`<li class="register-card terminal-card">`)

// TestRegistersPageListsOtherTerminals: the registers page lists the
// other browsers signed in under the same name, with when each was last
// seen and how many registers it has open, and never a token or handle.
func TestRegistersPageListsOtherTerminals(t *testing.T) {
	d := newTestDemo(t, nil)
	ann := newBrowser(t, d.srv)
	ann.signIn("Ann")
	busy := newBrowser(t, d.srv)
	busy.signIn("Ann")
	busy.get("/+/")
	busy.get("/+/")
	idle := newBrowser(t, d.srv)
	idle.signIn("Ann")
	bob := newBrowser(t, d.srv)
	bob.signIn("Bob")

	page := ann.get("/0/registers")
	mustStatus(t, "registers page", page, http.StatusOK)
	if n := len(terminalCard.FindAllString(page.body, -1)); n != 2 {
		t.Fatalf("registers page lists %d other terminals, want 2 (Bob's is not Ann's)\n%s", n, page.body)
	}
	for _, want := range []string{"3 registers", "1 register<", "Last seen <time", "just now", `action="/0/terminals/sign-out"`, `hx-post="/0/terminals/sign-out"`, "Sign out everywhere else"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("registers page lacks %q", want)
		}
	}
	for name, other := range map[string]*browser{"busy": busy, "idle": idle, "bob": bob} {
		token := other.cookie("tabkit")
		for _, secret := range []string{token, store.HashToken(token), store.HashToken(token)[:12]} {
			if strings.Contains(page.body, secret) {
				t.Errorf("registers page shows %s's token or handle", name)
			}
		}
	}
	alone := bob.get("/0/registers")
	if !strings.Contains(alone.body, `data-testid="no-terminals"`) || strings.Contains(alone.body, "Sign out everywhere else") {
		t.Errorf("Bob, on his only terminal, is offered to sign out others:\n%s", alone.body)
	}
}

func TestSince(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.Local)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 12, 3, 9, 7, 0, 0, time.Local), "at 09:07"},
		{time.Date(2026, 12, 3, 0, 0, 0, 0, time.Local), "at 00:00"},
		{time.Date(2026, 12, 2, 23, 59, 0, 0, time.Local), "on 2 Dec at 23:59"},
		{time.Date(2025, 12, 3, 9, 7, 0, 0, time.Local), "on 3 Dec at 09:07"},
	}
	for _, tt := range tests {
		if got := since(now, tt.t); got != tt.want {
			t.Errorf("since(%v): got %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		before time.Duration
		want   string
	}{
		{0, "just now"},
		{59 * time.Second, "just now"},
		{time.Minute, "1 min ago"},
		{59 * time.Minute, "59 min ago"},
		{time.Hour, "1 h ago"},
		{23 * time.Hour, "23 h ago"},
		{24 * time.Hour, "1 day ago"},
		{80 * time.Hour, "3 days ago"},
	}
	for _, tt := range tests {
		if got := ago(now, now.Add(-tt.before)); got != tt.want {
			t.Errorf("ago(%v): got %q, want %q", tt.before, got, tt.want)
		}
	}
}

// signedInAs reports whether b's next page shows cashier signed in.
func signedInAs(b *browser, cashier string) bool {
	page := b.get("/0/")
	return page.status == http.StatusOK && strings.Contains(page.body, `<span class="cashier-name">`+cashier+`</span>`)
}

// TestSignOutEverywhereElse: the button ends every other terminal of the
// cashier and says how many, with a plain form or in place; the terminal
// that pressed it, and other cashiers, stay signed in; without the
// form's token nothing is ended.
func TestSignOutEverywhereElse(t *testing.T) {
	tests := []struct {
		name      string
		htmx      bool
		csrf      string // "" for the page's token
		others    int
		wantEnded bool
		check     func(t *testing.T, ann *browser, got answer)
	}{
		{name: "plain form", others: 2, wantEnded: true, check: func(t *testing.T, ann *browser, got answer) {
			mustStatus(t, "sign out others", got, http.StatusSeeOther)
			if got.location() != "/0/registers" {
				t.Errorf("redirected to %q, want /0/registers", got.location())
			}
			page := ann.get(got.location())
			if !strings.Contains(page.body, "Signed out 2 other terminals.") || !strings.Contains(page.body, `data-testid="no-terminals"`) {
				t.Errorf("registers page after signing out others:\n%s", page.body)
			}
		}},
		{name: "in place", htmx: true, others: 1, wantEnded: true, check: func(t *testing.T, _ *browser, got answer) {
			mustStatus(t, "sign out others", got, http.StatusOK)
			body := got.body
			if !strings.HasPrefix(strings.TrimSpace(body), `<section class="terminals" id="terminals"`) || strings.Contains(body, "<html") {
				t.Errorf("in-place answer is not the terminals section:\n%s", body)
			}
			if !strings.Contains(body, "Signed out 1 other terminal.") || !strings.Contains(body, `data-testid="no-terminals"`) {
				t.Errorf("in-place answer does not say what it did:\n%s", body)
			}
		}},
		{name: "none to end", others: 0, check: func(t *testing.T, ann *browser, got answer) {
			mustStatus(t, "sign out others", got, http.StatusSeeOther)
			if page := ann.get(got.location()); !strings.Contains(page.body, "No other terminal was signed in as Ann.") {
				t.Errorf("registers page:\n%s", page.body)
			}
		}},
		{name: "forged token", csrf: "forged", others: 1, check: func(t *testing.T, _ *browser, got answer) {
			mustStatus(t, "sign out others", got, http.StatusForbidden)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDemo(t, nil)
			ann := newBrowser(t, d.srv)
			ann.signIn("Ann")
			var others []*browser
			for range tt.others {
				o := newBrowser(t, d.srv)
				o.signIn("Ann")
				others = append(others, o)
			}
			bob := newBrowser(t, d.srv)
			bob.signIn("Bob")
			ann.get("/0/registers")
			form := url.Values{}
			if tt.csrf != "" {
				form.Set("csrf", tt.csrf)
			}
			var got answer
			if tt.htmx {
				got = htmxPost(t, ann, "/0/terminals/sign-out", form)
			} else {
				got = ann.post("/0/terminals/sign-out", form)
			}
			tt.check(t, ann, got)
			if !signedInAs(ann, "Ann") || !signedInAs(bob, "Bob") {
				t.Error("the terminal that pressed the button, or another cashier, was signed out")
			}
			for i, o := range others {
				if signedInAs(o, "Ann") == tt.wantEnded {
					t.Errorf("other terminal %d: signed in %v, want %v", i, !tt.wantEnded, !tt.wantEnded)
				}
			}
			if want := 1 + tt.others; !tt.wantEnded && len(principalsOf(t, d.store, "Ann")) != want {
				t.Errorf("Ann has %d sessions, want %d", len(principalsOf(t, d.store, "Ann")), want)
			}
		})
	}
}

// stopClock is serverConfig.Now fixed at a time whose clock reading is
// the same in any zone's minute.
var stopClock = time.Date(2026, 12, 3, 14, 5, 30, 0, time.UTC)

// TestEndedTerminalIsToldWhy: a terminal signed out from another lands
// on the sign-in page at its next request, whatever the request (a page,
// a form, htmx; tab 0, which the demo answers, or another tab, which the
// kit answers on its own), and the page says who signed it out, and when.
func TestEndedTerminalIsToldWhy(t *testing.T) {
	message := "You were signed out from another terminal by Ann at " + stopClock.Local().Format("15:04") + "."
	tests := []struct {
		name    string
		method  string
		path    string
		htmx    string // "", "in place" or "boosted"
		refused bool   // a change was asked for: the page says nothing changed
		// inPlace: the answer is the sign-in page itself; otherwise a
		// redirect (or HX-Redirect) leads to it.
		inPlace bool
	}{
		{name: "page, tab 0", method: http.MethodGet, path: "/0/", inPlace: true},
		{name: "sales page, tab 0", method: http.MethodGet, path: "/0/sales", inPlace: true},
		{name: "boosted link, tab 0", method: http.MethodGet, path: "/0/registers", htmx: "boosted", inPlace: true},
		{name: "page, another tab", method: http.MethodGet, path: "/1/sales"},
		{name: "boosted link, another tab", method: http.MethodGet, path: "/1/registers", htmx: "boosted"},
		{name: "open a register", method: http.MethodGet, path: "/+/"},
		{name: "bare URL", method: http.MethodGet, path: "/sales"},
		{name: "form, tab 0", method: http.MethodPost, path: "/0/cart/items", refused: true},
		{name: "htmx add, tab 0", method: http.MethodPost, path: "/0/cart/items", htmx: "in place", refused: true},
		{name: "form, another tab", method: http.MethodPost, path: "/1/cart/items", refused: true},
		{name: "htmx add, another tab", method: http.MethodPost, path: "/1/cart/items", htmx: "in place", refused: true},
		{name: "sign out everywhere else, another tab", method: http.MethodPost, path: "/1/terminals/sign-out", htmx: "in place", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDemo(t, func(c *serverConfig) { c.Now = func() time.Time { return stopClock } })
			ann := newBrowser(t, d.srv)
			ann.signIn("Ann")
			till := newBrowser(t, d.srv)
			till.signIn("Ann")
			till.get("/+/") // register 1
			token := till.csrf
			ann.get("/0/registers")
			mustStatus(t, "sign out others", ann.post("/0/terminals/sign-out", nil), http.StatusSeeOther)

			var body string
			if tt.method == http.MethodGet {
				req, err := http.NewRequest(http.MethodGet, till.base.String()+tt.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tt.htmx == "boosted" {
					req.Header.Set("HX-Request", "true")
					req.Header.Set("HX-Boosted", "true")
				}
				got := till.do(req)
				if tt.inPlace {
					mustStatus(t, tt.path, got, http.StatusOK)
					body = got.body
				} else {
					mustStatus(t, tt.path, got, http.StatusSeeOther)
					body = till.get(got.location()).body
				}
			} else {
				form := url.Values{"sku": {"COF-001"}, "csrf": {token}}
				var got answer
				if tt.htmx != "" {
					got = htmxPost(t, till, tt.path, form)
					mustStatus(t, tt.path, got, http.StatusOK)
					body = till.get(got.header.Get("HX-Redirect")).body
				} else {
					got = till.post(tt.path, form)
					mustStatus(t, tt.path, got, http.StatusSeeOther)
					if !strings.HasPrefix(got.location(), "/login?") {
						t.Errorf("sent to %q, want the sign-in page", got.location())
					}
					body = till.get(got.location()).body
				}
			}
			if !strings.Contains(body, `action="/login"`) {
				t.Fatalf("not the sign-in page:\n%s", body)
			}
			if !strings.Contains(body, message) {
				t.Errorf("the sign-in page does not say %q:\n%s", message, body)
			}
			if got := strings.Contains(body, "Nothing was changed."); got != tt.refused {
				t.Errorf("says nothing was changed: %v, want %v", got, tt.refused)
			}
			if again := till.get("/login"); strings.Contains(again.body, "signed out") {
				t.Error("the message shows twice")
			}
			if till.cookie("tabkit") != "" {
				t.Error("the ended terminal still holds a session cookie")
			}
			if cart := readCart(t, ann, "/0/cart.json"); len(cart.Items) != 0 {
				t.Errorf("the ended terminal's add landed in Ann's cart: %+v", cart.Items)
			}
			if !signedInAs(ann, "Ann") {
				t.Error("the terminal that signed the other out is signed out too")
			}
		})
	}
}

// TestSignInOverAnEndedSession: a sign-in form left open on a terminal
// whose session was then ended signs in afresh, and leaves no notice
// behind for a later sign-in page.
func TestSignInOverAnEndedSession(t *testing.T) {
	d := newTestDemo(t, nil)
	ann := newBrowser(t, d.srv)
	ann.signIn("Ann")
	till := newBrowser(t, d.srv)
	till.signIn("Ann")
	till.get("/login") // "Switch cashier", left open
	ann.get("/0/registers")
	mustStatus(t, "sign out others", ann.post("/0/terminals/sign-out", nil), http.StatusSeeOther)

	got := till.post("/login", url.Values{"pin": {testPIN}, "name": {"Bea"}, "next": {"/0/"}})
	mustStatus(t, "sign in over the ended session", got, http.StatusSeeOther)
	if !signedInAs(till, "Bea") {
		t.Fatal("the sign-in did not land")
	}
	if till.cookie(noticeCookie) != "" {
		t.Errorf("the sign-in left a notice cookie %q", till.cookie(noticeCookie))
	}
	mustStatus(t, "sign out", till.post("/logout", nil), http.StatusSeeOther)
	if page := till.get("/0/"); strings.Contains(page.body, "signin-notice") {
		t.Errorf("after signing out, the sign-in page shows an old notice:\n%s", page.body)
	}
}

// TestGoneSessionWithoutANote: a session that ended without the demo
// noting why (expired, or deleted behind the kit's back) is said to have
// ended; a notice cookie of another shape, or naming an unknown handle,
// puts no words of its own on the page.
func TestGoneSessionWithoutANote(t *testing.T) {
	d := newTestDemo(t, nil)
	b := newBrowser(t, d.srv)
	b.signIn("Ann")
	if err := d.store.Delete(context.Background(), store.HashToken(b.cookie("tabkit"))); err != nil {
		t.Fatal(err)
	}
	page := b.get("/0/")
	if !strings.Contains(page.body, "Your session ended (it expired). Sign in to carry on.") {
		t.Errorf("sign-in page after the session expired:\n%s", page.body)
	}

	tests := []struct{ cookie, want string }{
		{"<script>alert(1)</script>", ""},
		{"ended.", ""},
		{"ended.unknown-handle", "Your session ended (it expired). Sign in to carry on."},
		{"refused.unknown-handle", "Your session ended (it expired). Nothing was changed. Sign in to carry on."},
		{signedOutNotice, signedOutMessage},
	}
	for _, tt := range tests {
		c := newBrowser(t, d.srv)
		c.http.Jar.SetCookies(c.base, []*http.Cookie{{Name: noticeCookie, Value: url.QueryEscape(tt.cookie), Path: "/"}})
		page := c.get("/login")
		notice := regexp.MustCompile(`data-testid="signin-notice">([^<]*)<`).FindStringSubmatch(page.body)
		got := ""
		if notice != nil {
			got = html.UnescapeString(notice[1])
		}
		if got != tt.want {
			t.Errorf("notice cookie %q: page says %q, want %q", tt.cookie, got, tt.want)
		}
	}
}

// TestAdminEndsSessionsThroughTheKit: the admin endpoint ends sessions
// through the kit's Manager, so the demo's Observe hook hears of each
// (kit.EventSessionDestroyed) and the terminals are told the operator
// signed them out.
func TestAdminEndsSessionsThroughTheKit(t *testing.T) {
	var mu sync.Mutex
	var destroyed []kit.Event
	d := newTestDemo(t, func(c *serverConfig) {
		c.Now = func() time.Time { return stopClock }
		c.Observe = func(e kit.Event) {
			if e.Kind == kit.EventSessionDestroyed {
				mu.Lock()
				destroyed = append(destroyed, e)
				mu.Unlock()
			}
		}
	})
	h, err := adminHandler(d.store, d.mgr, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	adminSrv := httptest.NewServer(h)
	t.Cleanup(adminSrv.Close)
	ops, err := admin.NewClient(adminSrv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}

	var anns []*browser
	for range 2 {
		b := newBrowser(t, d.srv)
		b.signIn("Ann")
		anns = append(anns, b)
	}
	bob := newBrowser(t, d.srv)
	bob.signIn("Bob")
	n, err := ops.EndSessionsOf(context.Background(), "Ann")
	if err != nil || n != 2 {
		t.Fatalf("EndSessionsOf(Ann): got %d, %v; want 2", n, err)
	}
	mu.Lock()
	got := append([]kit.Event(nil), destroyed...)
	mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("Observe heard %d destroyed sessions, want 2: %+v", len(got), got)
	}
	for i, e := range got {
		if e.Principal != "Ann" || e.Handle == "" {
			t.Errorf("event %d: %+v, want Ann's with a handle", i, e)
		}
	}
	message := html.EscapeString("You were signed out by the shop's operator at " + stopClock.Local().Format("15:04") + ".")
	for i, b := range anns {
		if page := b.get("/0/"); !strings.Contains(page.body, message) {
			t.Errorf("Ann's terminal %d is not told the operator signed it out:\n%s", i, page.body)
		}
	}
	if !signedInAs(bob, "Bob") {
		t.Error("Bob was signed out too")
	}

	// Deleting one session by its handle goes through the kit too.
	list, err := ops.SessionsOf(context.Background(), "Bob")
	if err != nil || len(list) != 1 {
		t.Fatalf("SessionsOf(Bob): %+v, %v", list, err)
	}
	if _, err := ops.Delete(context.Background(), list[0].Handle); err != nil {
		t.Fatal(err)
	}
	if page := bob.get("/0/sales"); !strings.Contains(page.body, message) {
		t.Errorf("Bob is not told the operator signed him out:\n%s", page.body)
	}
}

// TestSessionCookieEndsWithTheBrowser: the session cookie has no Expires
// (nor Max-Age) unless the cashier ticks "Remember this till", and a
// later sign-in without the tick makes it a browser-session cookie again.
func TestSessionCookieEndsWithTheBrowser(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	page := b.get("/0/")
	if !strings.Contains(page.body, `name="remember" value="1"`) {
		t.Fatal("the sign-in form has no Remember this till")
	}
	steps := []struct {
		remember   bool
		persistent bool
	}{{false, false}, {true, true}, {false, false}}
	for i, step := range steps {
		b.get("/login")
		form := url.Values{"pin": {testPIN}, "name": {"Ann"}, "next": {"/0/"}}
		if step.remember {
			form.Set("remember", "1")
		}
		got := b.post("/login", form)
		mustStatus(t, "sign in", got, http.StatusSeeOther)
		var session *http.Cookie
		for _, ck := range (&http.Response{Header: got.header}).Cookies() {
			if ck.Name == "tabkit" {
				session = ck
			}
		}
		if session == nil || session.Value == "" {
			t.Fatalf("sign-in %d sets no session cookie", i)
		}
		persistent := !session.Expires.IsZero() || session.MaxAge > 0
		if persistent != step.persistent {
			t.Errorf("sign-in %d (remember %v): cookie persistent %v (Expires %v, Max-Age %d), want %v",
				i, step.remember, persistent, session.Expires, session.MaxAge, step.persistent)
		}
		if persistent && session.Expires.Before(time.Now().Add(24*time.Hour)) {
			t.Errorf("remembered cookie expires at %v, want days ahead", session.Expires)
		}
	}
}

// TestRequestRacingASignIn: a request that carries the cookie a sign-in
// in another tab just replaced gets 409 and no cookie: a page answers
// with a link that reloads it, htmx gets the message to show in place,
// JSON stays JSON.
func TestRequestRacingASignIn(t *testing.T) {
	srv := newTestServer(t)
	b := newBrowser(t, srv)
	b.signIn("Ann")
	old := b.cookie("tabkit")
	b.get("/login")
	mustStatus(t, "switch", b.post("/login", url.Values{"pin": {testPIN}, "name": {"Bob"}, "next": {"/0/"}}), http.StatusSeeOther)
	b.get("/0/")

	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		wantType   string
		wantReload string // "" for no reload link
	}{
		{"page", http.MethodGet, "/0/sales?x=1", nil, "text/html", `href="/0/sales?x=1"`},
		{"form with its page", http.MethodPost, "/0/cart/items", map[string]string{"Referer": srv.URL + "/0/registers"}, "text/html", `href="/0/registers"`},
		{"form from another site", http.MethodPost, "/0/cart/items", map[string]string{"Referer": "https://elsewhere.example/0/x"}, "text/html", `href="/0/"`},
		{"page of another tab", http.MethodGet, "/3/sales", nil, "text/html", `href="/3/sales"`},
		{"htmx", http.MethodPost, "/0/cart/items", map[string]string{"HX-Request": "true"}, "text/html", `href="/0/"`},
		{"json", http.MethodGet, "/sales.json", nil, "application/json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stale := newBrowser(t, srv)
			stale.http.Jar.SetCookies(stale.base, []*http.Cookie{{Name: "tabkit", Value: old, Path: "/"}})
			var body *strings.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader(url.Values{"sku": {"COF-001"}, "csrf": {b.csrf}}.Encode())
			} else {
				body = strings.NewReader("")
			}
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.method == http.MethodPost {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			got := stale.do(req)
			mustStatus(t, tt.path, got, http.StatusConflict)
			if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.wantType)
			}
			if len(got.header.Values("Set-Cookie")) != 0 {
				t.Errorf("a racing request changed cookies: %v", got.header.Values("Set-Cookie"))
			}
			if !strings.Contains(got.body, "signed in again in another tab") {
				t.Errorf("the answer does not say what happened:\n%s", got.body)
			}
			if tt.wantType == "text/html" && !strings.Contains(got.body, `data-testid="error-message">You signed in again`) {
				t.Errorf("no message for pos.js to show in place:\n%s", got.body)
			}
			hasReload := strings.Contains(got.body, `data-testid="reload"`)
			if hasReload != (tt.wantReload != "") || tt.wantReload != "" && !strings.Contains(got.body, tt.wantReload+` data-testid="reload"`) {
				t.Errorf("reload link: want %q in\n%s", tt.wantReload, got.body)
			}
		})
	}
	if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != 0 {
		t.Errorf("a racing request's add landed: %+v", cart.Items)
	}
}

// TestEvictedTerminalIsToldWhy: a bbolt store full of sessions that
// evicts the least recently seen reports it (kit.EventSessionEvicted),
// and that terminal is told it was ended to make room; its sign-out
// note, in the ledger's file, outlives a restart of the demo.
func TestEvictedTerminalIsToldWhy(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pos.db")
	args := []string{"-db", db, "-max-sessions", "1", "-when-full", "evict"}
	base, stop := startDemo(t, args...)
	srv := &httptest.Server{URL: base}
	first := newBrowser(t, srv)
	first.signIn("Ann")
	second := newBrowser(t, srv)
	second.signIn("Bea")
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	base, stop = startDemo(t, args...)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	first.base, _ = url.Parse(base)
	page := first.get("/0/")
	if !strings.Contains(page.body, "to make room for others") {
		t.Errorf("the evicted terminal is not told why:\n%s", page.body)
	}
}
