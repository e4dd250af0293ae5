package kit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signIn gives the browser a stored session.
func (b *browser) signIn() {
	b.t.Helper()
	b.post("/login", url.Values{"user": {"ann"}}).mustStatus(b.t, http.StatusSeeOther)
}

// openTab opens a new tab through /+/ and returns its prefix, "/N".
func (b *browser) openTab() string {
	b.t.Helper()
	r := b.get("/+/").mustStatus(b.t, http.StatusSeeOther)
	loc := r.header.Get("Location")
	if !strings.HasSuffix(loc, "/") || len(loc) < 3 {
		b.t.Fatalf("new tab Location %q", loc)
	}
	return strings.TrimSuffix(loc, "/")
}

func TestTabsKeepTheirOwnData(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		t1, t2 := b.openTab(), b.openTab()
		if t1 == t2 {
			t.Fatalf("two new tabs got the same prefix %q", t1)
		}
		b.post(t1+"/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		b.post(t2+"/add", url.Values{"item": {"cake"}}).mustStatus(t, http.StatusSeeOther)
		b.post("/0/add", url.Values{"item": {"jam"}}).mustStatus(t, http.StatusSeeOther)
		for prefix, want := range map[string]string{t1: "tea", t2: "cake", "/0": "jam"} {
			if got := b.get(prefix + "/cart").body; got != want {
				t.Errorf("%s cart: got %q, want %q", prefix, got, want)
			}
		}
		if got := b.get("/0/get?key=user").body; got != "ann" {
			t.Errorf("session-wide value from tab 0: got %q, want %q", got, "ann")
		}
		if got := b.get(t2 + "/get?key=user").body; got != "ann" {
			t.Errorf("session-wide value from %s: got %q, want %q", t2, got, "ann")
		}
	})
}

func TestBareURLRedirectsToATab(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		r := b.get("/cart?x=1").mustStatus(t, http.StatusSeeOther)
		if got := r.header.Get("Location"); got != "/0/cart?x=1" {
			t.Errorf("no session: Location %q, want %q", got, "/0/cart?x=1")
		}
		if got := app.store.commits.Load(); got != 0 {
			t.Errorf("bare visit without a session stored something: %d commits", got)
		}
		// Through Echo the kit knows the routes; through Wrap it does not,
		// and sends every bare page visit to a tab.
		wantUnknown := map[adapter]int{echoAdapter: http.StatusNotFound, httpAdapter: http.StatusSeeOther}[a]
		if got := b.get("/nosuchpage").status; got != wantUnknown {
			t.Errorf("bare visit to an unknown route: got %d, want %d", got, wantUnknown)
		}

		b.signIn()
		b.post("/0/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		first := b.get("/cart").mustStatus(t, http.StatusSeeOther).header.Get("Location")
		if first == "/0/cart" {
			t.Fatalf("bare visit sent to tab 0, which holds data")
		}
		for range 10 {
			if got := b.get("/cart").header.Get("Location"); got != first {
				t.Fatalf("repeated bare visit: Location %q, want the still-empty %q", got, first)
			}
		}
		var list []TabInfo
		if err := json.Unmarshal([]byte(b.get("/0/tabs").body), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Errorf("tabs after 11 bare visits: got %d, want 2", len(list))
		}
	})
}

func TestTabNumbersAreNeverReused(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		seen := map[string]bool{}
		for range 5 {
			tab := b.openTab()
			if seen[tab] {
				t.Fatalf("tab %s handed out twice", tab)
			}
			seen[tab] = true
			b.post(tab+"/close", nil).mustStatus(t, http.StatusOK)
		}
	})
}

func TestUnknownTab(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		victim := app.browser()
		victim.signIn()
		vtab := victim.openTab()
		victim.post(vtab+"/add", url.Values{"item": {"secret"}}).mustStatus(t, http.StatusSeeOther)

		b := app.browser()
		b.signIn()
		b.post("/0/add", url.Values{"item": {"mine"}}).mustStatus(t, http.StatusSeeOther)
		r := b.get(vtab+"/cart").mustStatus(t, http.StatusSeeOther)
		loc := r.header.Get("Location")
		if !strings.HasSuffix(loc, "/cart") {
			t.Fatalf("forged tab GET: Location %q, want a fresh tab's /cart", loc)
		}
		if got := b.get(loc).body; got != "" {
			t.Errorf("fresh tab after a forged number shows %q, want an empty cart", got)
		}
		home := strings.TrimSuffix(loc, "/cart") + "/"
		if page := b.get(home).body; !strings.Contains(page, UnknownTabMessage) {
			t.Errorf("fresh tab page lacks the unknown-tab flash: %q", page)
		}

		commits := app.store.commits.Load()
		r = b.post("/99/add", url.Values{"item": {"x"}}).mustStatus(t, http.StatusConflict)
		if !strings.Contains(r.body, "no longer open") {
			t.Errorf("409 body %q does not explain", r.body)
		}
		if got := app.store.commits.Load(); got != commits {
			t.Errorf("forged POST committed: %d commits, want %d", got, commits)
		}
		if got := victim.get(vtab + "/cart").body; got != "secret" {
			t.Errorf("victim's cart: got %q, want %q", got, "secret")
		}
		if got := b.get("/0/cart").body; got != "mine" {
			t.Errorf("own cart: got %q, want %q", got, "mine")
		}

		cookieless := app.browser()
		if got := cookieless.get(vtab + "/cart").header.Get("Location"); got != "/0/cart" {
			t.Errorf("cookieless forged tab: Location %q, want /0/cart", got)
		}
	})
}

func TestNonCanonicalPrefixesAreNotTabs(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		for _, path := range []string{"/007/cart", "/%31/cart", "/-1/cart", "/1e3/cart", "/99999999999999999999/cart"} {
			r := b.get(path)
			switch {
			case a == echoAdapter && r.status != http.StatusNotFound:
				t.Errorf("%s: got %d, want 404", path, r.status)
			case a == httpAdapter && (r.status != http.StatusSeeOther || r.header.Get("Location") != "/0"+path):
				// A bare path, sent into a tab whole.
				t.Errorf("%s: got %d to %q, want 303 to %q", path, r.status, r.header.Get("Location"), "/0"+path)
			}
		}
	})
}

func TestFlashesStayInTheirTab(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		tab := b.openTab()
		b.post(tab+"/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		if page := b.get("/0/").body; strings.Contains(page, "added tea") {
			t.Errorf("tab 0 shows tab %s's flash: %q", tab, page)
		}
		if page := b.get(tab + "/").body; !strings.Contains(page, "added tea") {
			t.Errorf("tab %s lacks its flash: %q", tab, page)
		}
	})
}

func TestRedirectsAndHTMLStayInTheTab(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		tab := b.openTab()
		r := b.post(tab+"/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		if got := r.header.Get("Location"); got != tab+"/" {
			t.Errorf("Location: got %q, want %q", got, tab+"/")
		}
		page := b.get(tab + "/").body
		for _, want := range []string{`href="` + tab + `/cart"`, `action="` + tab + `/add"`, `src="/static/logo.png"`} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %s: %q", want, page)
			}
		}
		if got := b.post("/login", url.Values{"user": {"ann"}}).header.Get("Location"); got != "/0/" {
			t.Errorf("exempt route's redirect was rewritten: %q", got)
		}
	})
}

func TestHXHeadersArePrefixed(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		app.handle(http.MethodGet, "/hx", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("HX-Redirect", "/done")
			w.Header().Set("HX-Location", "https://elsewhere.example/x")
			w.WriteHeader(http.StatusOK)
		})
		r := app.browser().get("/0/hx").mustStatus(t, http.StatusOK)
		if got := r.header.Get("HX-Redirect"); got != "/0/done" {
			t.Errorf("HX-Redirect: got %q, want /0/done", got)
		}
		if got := r.header.Get("HX-Location"); got != "https://elsewhere.example/x" {
			t.Errorf("HX-Location to another host changed: %q", got)
		}
	})
}

func TestExemptRoutesHaveNoTab(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.get("/healthz").mustStatus(t, http.StatusOK)
		if got := b.get("/api/tab").mustStatus(t, http.StatusOK).body; got != ErrNoTab.Error() {
			t.Errorf("Tab() on an exempt route: got %q, want %q", got, ErrNoTab)
		}
	})
}

func TestUnknownEncodingOfTabHTMLFailsLoudly(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		app.handle(http.MethodGet, "/encoded", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "br")
			writeHTML(w, http.StatusOK, `<a href="/cart">x</a>`)
		})
		r := app.browser().get("/0/encoded").mustStatus(t, http.StatusInternalServerError)
		if strings.Contains(r.body, `href="/cart"`) {
			t.Errorf("a tab's HTML left with a link out of the tab: %q", r.body)
		}
		// Outside a tab nothing needs rewriting: the body passes as it is.
		app.handle(http.MethodGet, "/api/encoded", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "br")
			writeHTML(w, http.StatusOK, `<a href="/cart">x</a>`)
		})
		app.browser().get("/api/encoded").mustStatus(t, http.StatusOK)
	})
}

func TestMaxTabsEvictsLeastRecentlyUsedPreferringEmpty(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{MaxTabs: 4})
		b := app.browser()
		b.signIn()
		for range 3 {
			b.openTab() // tabs 1, 2, 3; with tab 0 that makes four
		}
		b.post("/1/add", url.Values{"item": {"a"}}).mustStatus(t, http.StatusSeeOther)
		app.clock.Advance(time.Minute)
		b.post("/3/add", url.Values{"item": {"c"}}).mustStatus(t, http.StatusSeeOther)
		app.clock.Advance(time.Minute)
		b.post("/0/add", url.Values{"item": {"z"}}).mustStatus(t, http.StatusSeeOther)
		app.clock.Advance(time.Minute)

		b.openTab() // tab 4: the empty tab 2 goes
		if got, want := b.openTabs(), "0 1 3 4"; got != want {
			t.Errorf("after opening tab 4: got tabs %q, want %q", got, want)
		}
		b.post("/4/add", url.Values{"item": {"d"}}).mustStatus(t, http.StatusSeeOther)
		b.openTab() // tab 5: all hold data, the least recently used (1) goes
		if got, want := b.openTabs(), "0 3 4 5"; got != want {
			t.Errorf("after opening tab 5: got tabs %q, want %q", got, want)
		}
	})
}

// openTabs lists the session's tab numbers.
func (b *browser) openTabs() string {
	b.t.Helper()
	var list []TabInfo
	if err := json.Unmarshal([]byte(b.get("/0/tabs").body), &list); err != nil {
		b.t.Fatal(err)
	}
	var ids []string
	for _, info := range list {
		ids = append(ids, info.ID.String())
	}
	return strings.Join(ids, " ")
}

func TestConcurrentTabsLoseNothing(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		for _, n := range []int{2, 16} {
			t.Run(strconv.Itoa(n), func(t *testing.T) {
				app := newTestApp(t, a, Config{})
				b := app.browser()
				b.signIn()
				tabs := make([]string, n)
				for i := range tabs {
					tabs[i] = b.openTab()
				}
				const adds = 5
				parallel(n, func(i int) {
					for j := range adds {
						b.post(tabs[i]+"/add", url.Values{"item": {fmt.Sprint(i, "-", j)}}).mustStatus(t, http.StatusSeeOther)
					}
				})
				for i, tab := range tabs {
					got := strings.Split(b.get(tab+"/cart").body, ",")
					if len(got) != adds {
						t.Errorf("tab %s: got %d items %v, want %d", tab, len(got), got, adds)
					}
					for _, item := range got {
						if !strings.HasPrefix(item, fmt.Sprint(i, "-")) {
							t.Errorf("tab %s holds %q from another tab", tab, item)
						}
					}
				}
			})
		}
	})
}

func TestLabels(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		tab := b.openTab()
		b.post(tab+"/label", url.Values{"label": {"Register 2"}}).mustStatus(t, http.StatusSeeOther)
		var list []TabInfo
		if err := json.Unmarshal([]byte(b.get("/0/tabs").body), &list); err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, info := range list {
			labels = append(labels, fmt.Sprintf("%d:%s", info.ID, info.Label))
		}
		if got, want := strings.Join(labels, " "), "0: "+strings.TrimPrefix(tab, "/")+":Register 2"; got != want {
			t.Errorf("tabs: got %q, want %q", got, want)
		}
	})
}

func TestFork(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		tab := b.openTab()
		b.post(tab+"/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)

		req, _ := http.NewRequest(http.MethodPost, app.srv.URL+tab+ForkPath, nil)
		b.send(req).mustStatus(t, http.StatusForbidden)
		req, _ = http.NewRequest(http.MethodPost, app.srv.URL+tab+ForkPath, nil)
		req.Header.Set(ForkHeader, "1")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		b.send(req).mustStatus(t, http.StatusForbidden)

		req, _ = http.NewRequest(http.MethodPost, app.srv.URL+tab+ForkPath, nil)
		req.Header.Set(ForkHeader, "1")
		r := b.send(req).mustStatus(t, http.StatusOK)
		var answer struct {
			Tab    int    `json:"tab"`
			Prefix string `json:"prefix"`
		}
		if err := json.Unmarshal([]byte(r.body), &answer); err != nil {
			t.Fatal(err)
		}
		fork := strings.TrimSuffix(answer.Prefix, "/")
		if fork == tab || fork == "" {
			t.Fatalf("fork prefix %q", answer.Prefix)
		}
		if got := b.get(fork + "/cart").body; got != "tea" {
			t.Errorf("fork's cart: got %q, want a copy %q", got, "tea")
		}
		b.post(fork+"/add", url.Values{"item": {"cake"}}).mustStatus(t, http.StatusSeeOther)
		if got := b.get(tab + "/cart").body; got != "tea" {
			t.Errorf("parent's cart after editing the fork: got %q, want %q", got, "tea")
		}
	})
}

func TestIdleTabsAreClosed(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{IdleTimeout: 10 * time.Hour, TabIdleTimeout: time.Hour})
		b := app.browser()
		b.signIn()
		idle, busy := b.openTab(), b.openTab()
		b.post(idle+"/add", url.Values{"item": {"a"}}).mustStatus(t, http.StatusSeeOther)
		for range 3 {
			app.clock.Advance(30 * time.Minute)
			b.get(busy+"/cart").mustStatus(t, http.StatusOK)
		}
		if got := b.get(idle + "/cart").status; got != http.StatusSeeOther {
			t.Errorf("tab idle for 90 minutes: got status %d, want 303", got)
		}
	})
}

func TestNewTabLinkFromATab(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		tab := b.openTab()
		r := b.get(tab+"/+/cart").mustStatus(t, http.StatusSeeOther)
		if got := r.header.Get("Location"); got == tab+"/cart" || !strings.HasSuffix(got, "/cart") {
			t.Errorf("/N/+/cart: Location %q, want a new tab's /cart", got)
		}
	})
}

func TestForkWithoutSessionIsRefused(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/0"+ForkPath, nil)
		req.Header.Set(ForkHeader, "1")
		b.send(req).mustStatus(t, http.StatusConflict)
		if got := app.store.commits.Load(); got != 0 {
			t.Errorf("fork without a session stored something: %d commits", got)
		}
	})
}
