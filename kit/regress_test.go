package kit

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/tabkit/tabkit/internal/session"
	"github.com/tabkit/tabkit/store"
)

// The tests in this file are named after defects that outside testing
// found at the edges between two features. Each failed before the kit's
// request core became a unit of work.

// gateFirstMove makes the next Move wait, after it was issued, until
// release is closed; reached is closed when it gets there.
func gateFirstMove(s *countingStore) (reached, release chan struct{}) {
	reached, release, gate := onceGate()
	s.gateMove.Store(&gate)
	return reached, release
}

// gateFirstCommit is gateFirstMove for the next Commit.
func gateFirstCommit(s *countingStore) (reached, release chan struct{}) {
	reached, release, gate := onceGate()
	s.gateCommit.Store(&gate)
	return reached, release
}

// onceGate returns a gate that, the first time it runs, closes reached
// and waits until release is closed; later runs pass straight through.
func onceGate() (reached, release chan struct{}, gate func()) {
	reached, release = make(chan struct{}), make(chan struct{})
	// Not a sync.Once: a later run must not wait for the first to end.
	var taken atomic.Bool
	gate = func() {
		if taken.CompareAndSwap(false, true) {
			close(reached)
			<-release
		}
	}
	return reached, release, gate
}

// Defect 1: Regenerate copied the values as its request loaded them; a
// write another tab made in between was answered 2xx and then lost.
func TestRegenerateKeepsWritesOtherTabsMadeMeanwhile(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		tab := b.openTab()
		b.post(tab+"/add", url.Values{"item": {"before"}}).mustStatus(t, http.StatusSeeOther)

		reached, release := gateFirstMove(app.store)
		signedIn := make(chan response)
		go func() { signedIn <- b.post("/login", url.Values{"user": {"bob"}}) }()
		<-reached // the sign-in has loaded the session and is moving it
		b.post(tab+"/add", url.Values{"item": {"meanwhile"}}).mustStatus(t, http.StatusSeeOther)
		close(release)
		(<-signedIn).mustStatus(t, http.StatusSeeOther)

		if got := b.get(tab+"/cart").mustStatus(t, http.StatusOK).body; got != "before,meanwhile" {
			t.Errorf("cart after a sign-in raced an add: got %q, want %q", got, "before,meanwhile")
		}
	})
}

// Defect 1, second half: a sign-out racing a sign-in brought the
// destroyed data back under the new ID.
func TestDestroyRacingRegenerateStaysDestroyed(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		b.post("/0/add", url.Values{"item": {"secret"}}).mustStatus(t, http.StatusSeeOther)
		token := b.cookie()

		reached, release := gateFirstMove(app.store)
		signedIn := make(chan response)
		other := app.browser() // another window of the same browser
		other.setCookie(token)
		go func() { signedIn <- other.post("/login", url.Values{"user": {"bob"}}) }()
		<-reached
		b.post("/logout", nil).mustStatus(t, http.StatusSeeOther)
		close(release)
		r := <-signedIn
		if r.status/100 == 2 || r.status/100 == 3 {
			t.Fatalf("sign-in that lost the race to a sign-out: got %d, want a refusal", r.status)
		}
		if strings.Contains(r.header.Get("Set-Cookie"), "tabkit=") && !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("refused sign-in still handed out a session: %q", r.header.Get("Set-Cookie"))
		}
		if got := other.get("/0/cart").body; got != "" {
			t.Errorf("destroyed cart came back: %q", got)
		}
		if n := app.sessions(); n != 0 {
			t.Errorf("sessions stored after sign-out won: got %d, want 0", n)
		}
	})
}

// sessions counts the live sessions in the app's store.
func (a *testApp) sessions() int {
	n := 0
	if err := a.store.List(a.t.Context(), func(string, store.Meta) bool { n++; return true }); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// offHost reports whether a Location sends a browser off the host it
// came from.
func offHost(location string) bool {
	base, _ := url.Parse("http://host.example/x/y")
	// Browsers read a backslash like a slash and drop tabs and newlines.
	cleaned := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(location)
	u, err := base.Parse(cleaned)
	return err != nil || u.Host != "host.example"
}

// Defect 2: the kit's own redirects went off the host for paths spelled
// with a second slash.
func TestKitRedirectsStayOnTheHost(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		// A catch-all GET route, as many apps have.
		app.handle(http.MethodGet, "/pages/", func(w http.ResponseWriter, r *http.Request) { writeText(w, http.StatusOK, "page") })
		if a == echoAdapter {
			app.e.GET("/*", func(c echo.Context) error { return c.String(http.StatusOK, "any") })
		} else {
			app.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { writeText(w, http.StatusOK, "any") })
		}
		attacks := []string{
			"//evil.example/x", "/\\evil.example/x", "/%5Cevil.example", "/%5cevil.example",
			"/%2F%2Fevil.example", "/%2f/evil.example", "/\\\\evil.example", "/%09/evil.example",
			"//evil.example", "///evil.example", "/./evil.example",
		}
		signedIn := app.browser()
		signedIn.signIn()
		for _, who := range []struct {
			name string
			b    *browser
		}{{"no session", app.browser()}, {"signed in", signedIn}} {
			for _, attack := range attacks {
				for _, path := range []string{
					"/5" + attack,     // unknown tab
					"/+" + attack,     // new tab
					"/3/+" + attack,   // new tab from a tab
					attack,            // bare
					"/77777" + attack, // unknown tab, long number
				} {
					for _, method := range []string{http.MethodGet, http.MethodPost} {
						req, err := http.NewRequest(method, app.srv.URL+"/", nil)
						if err != nil {
							t.Fatal(err)
						}
						req.URL.Opaque = path // sent as written, not cleaned
						r := who.b.send(req)
						if loc := r.header.Get("Location"); loc != "" && offHost(loc) {
							t.Errorf("%s: %s %q: Location %q leaves the host", who.name, method, path, loc)
						}
					}
				}
			}
		}
	})
}

// follow follows redirects from path, at most hops of them, and returns
// the final response and the hops taken.
func (b *browser) follow(path string, hops int) (response, int) {
	b.t.Helper()
	for i := 0; ; i++ {
		r := b.get(path)
		if r.status/100 != 3 {
			return r, i
		}
		if i == hops {
			b.t.Fatalf("%s: still redirecting after %d hops (to %q)", path, hops, r.header.Get("Location"))
		}
		path = r.header.Get("Location")
	}
}

// Defect 3: "/5" redirected to itself, "/77" routed as "/7", "/0"
// answered 404, and "/+" led on to "/1/+", "/2/+"...
func TestTabPrefixesWithoutTrailingSlash(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{ExemptPrefixes: []string{"/login"}}) // "/+" not exempt
		b := app.browser()
		b.signIn()
		for i := 0; i < 8; i++ {
			b.openTab()
		}
		b.post("/7/add", url.Values{"item": {"seven"}}).mustStatus(t, http.StatusSeeOther)
		if got := b.get("/0").mustStatus(t, http.StatusOK).body; !strings.Contains(got, `href="/0/cart"`) {
			t.Errorf("/0: got %q, want tab 0's page", got)
		}
		if got := b.get("/7").mustStatus(t, http.StatusOK).body; !strings.Contains(got, "seven") {
			t.Errorf("/7: got %q, want tab 7's page", got)
		}
		r := b.get("/77/cart")
		if r.status != http.StatusSeeOther || strings.HasPrefix(r.header.Get("Location"), "/7/") {
			t.Errorf("/77/cart: got %d to %q, want a redirect away from an unknown tab 77 (never tab 7)", r.status, r.header.Get("Location"))
		}
		for _, path := range []string{"/5", "/55", "/+", "/+/", "/3/+", "/0/+"} {
			if r, hops := b.follow(path, 2); r.status != http.StatusOK {
				t.Errorf("%s: ended with %d after %d hops, want 200", path, r.status, hops)
			}
		}
		cookieless := app.browser()
		for _, path := range []string{"/5", "/+", "/0"} {
			if r, hops := cookieless.follow(path, 2); r.status != http.StatusOK {
				t.Errorf("cookieless %s: ended with %d after %d hops, want 200", path, r.status, hops)
			}
		}
	})
}

// Defect 4: every GET to an unknown tab opened a tab holding the kit's
// flash, so ~32 cross-site navigations pushed a cashier's carts out.
func TestCrossSiteNavigationsNeverEvictTabsWithData(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{MaxTabs: 4})
		b := app.browser()
		b.signIn()
		t1, t2 := b.openTab(), b.openTab()
		b.post(t1+"/add", url.Values{"item": {"one"}}).mustStatus(t, http.StatusSeeOther)
		b.post(t2+"/add", url.Values{"item": {"two"}}).mustStatus(t, http.StatusSeeOther)
		for i := range 40 {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/%d/cart", app.srv.URL, 900+i), nil)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			r := b.send(req)
			if r.status != http.StatusSeeOther {
				t.Fatalf("navigation %d: got %d, want 303", i, r.status)
			}
		}
		if got := b.get(t1 + "/cart").body; got != "one" {
			t.Errorf("tab %s after 40 cross-site navigations: got %q, want %q", t1, got, "one")
		}
		if got := b.get(t2 + "/cart").body; got != "two" {
			t.Errorf("tab %s after 40 cross-site navigations: got %q, want %q", t2, got, "two")
		}
		if open := strings.Fields(b.openTabs()); len(open) > 4 {
			t.Errorf("open tabs: got %v, want at most 4", open)
		}
		// The notice of the last one is shown in the tab it landed in.
		r := b.get("/901/cart")
		page := b.get(r.header.Get("Location")[:strings.LastIndex(r.header.Get("Location"), "/")] + "/").body
		if !strings.Contains(page, UnknownTabMessage) {
			t.Errorf("landing page of a stale tab: got %q, want the notice %q", page, UnknownTabMessage)
		}
	})
}

// gzipInside compresses responses the way a compression middleware
// registered inside the kit does.
func gzipInside(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			next.ServeHTTP(w, r)
			return
		}
		zw := gzip.NewWriter(w)
		defer zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		next.ServeHTTP(gzipResponse{ResponseWriter: w, w: zw}, r)
	})
}

type gzipResponse struct {
	http.ResponseWriter
	w io.Writer
}

func (g gzipResponse) Write(p []byte) (int, error) {
	if g.Header().Get("Content-Type") == "" {
		g.Header().Set("Content-Type", http.DetectContentType(p))
	}
	g.Header().Del("Content-Length")
	return g.w.Write(p)
}

// Defect 5: compression registered after Install sent unprefixed links,
// silently.
func TestCompressionInsideTheKitStillRewrites(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		if a == echoAdapter {
			app.e.Use(middleware.Gzip()) // after Install, as the README once invited
		} else {
			app.srv.Config.Handler = app.m.Wrap(gzipInside(app.mux))
		}
		req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/0/", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("got %d with Content-Encoding %q, want 200 gzip", resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("reading the gzip body: %v", err)
		}
		if !bytes.Contains(body, []byte(`href="/0/cart"`)) || bytes.Contains(body, []byte(`href="/cart"`)) {
			t.Errorf("compressed page: got %q, want its links in tab 0", body)
		}
	})
}

// Defect 6: htmx's other URL headers, the JSON form of HX-Location,
// Refresh, and the data-hx-* spellings left the tab.
func TestHTMXHeadersAndAttributesStayInTheTab(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		app.handle(http.MethodGet, "/hx", func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("HX-Push-Url", "/pushed")
			h.Set("HX-Replace-Url", "false")
			h.Set("HX-Location", `{"path":"/cart","target":"#main"}`)
			h.Set("Refresh", "5; url=/later")
			writeHTML(w, http.StatusOK, `<button hx-post="/add" hx-push-url="true" data-hx-post="/add" data-hx-push-url="/x" hx-replace-url="/y">go</button>`)
		})
		r := app.browser().get("/3/hx")
		if r.status != http.StatusSeeOther { // tab 3 is unknown to a new browser
			t.Fatalf("got %d", r.status)
		}
		b := app.browser()
		b.signIn()
		tab := b.openTab()
		r = b.get(tab+"/hx").mustStatus(t, http.StatusOK)
		for header, want := range map[string]string{
			"Hx-Push-Url":    tab + "/pushed",
			"Hx-Replace-Url": "false",
			"Hx-Location":    `{"path":"` + tab + `/cart","target":"#main"}`,
			"Refresh":        "5; url=" + tab + "/later",
		} {
			if got := r.header.Get(header); got != want {
				t.Errorf("%s: got %q, want %q", header, got, want)
			}
		}
		want := `<button hx-post="` + tab + `/add" hx-push-url="true" data-hx-post="` + tab + `/add" data-hx-push-url="` + tab + `/x" hx-replace-url="` + tab + `/y">go</button>`
		if r.body != want {
			t.Errorf("body: got %q, want %q", r.body, want)
		}
	})
}

// Defect 7: with several cookies of the kit's name (a planted one with a
// narrower Path first), the first won and the real session was ignored.
func TestSeveralSessionCookiesFindTheLiveSession(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"user"}, "value": {"ann"}}).mustStatus(t, http.StatusOK)
		real := b.cookie()
		for _, planted := range []string{session.NewToken(), "garbage!", strings.Repeat("A", 43)} {
			req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/0/set", strings.NewReader("key=k&value=v"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", "tabkit="+planted+"; tabkit="+real)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("planted %q: got %d", planted, resp.StatusCode)
			}
			if got := resp.Header.Get("Set-Cookie"); strings.Contains(got, "tabkit=") && !strings.Contains(got, "Max-Age=0") {
				t.Errorf("planted %q: a write started a new session (%q) instead of using the live one", planted, got)
			}
		}
		if got := b.get("/0/get?key=k").body; got != "v" {
			t.Errorf("the write landed elsewhere: got %q, want %q", got, "v")
		}
	})
}

// Defect 8: an unsafe request without a tab prefix to a route that uses
// Tab() answered 500 and logged an ERROR.
func TestBareUnsafeRequestToTabRouteIsAClientError(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		var logs bytes.Buffer
		app := newTestApp(t, a, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		r := app.browser().post("/add", url.Values{"item": {"x"}})
		if r.status != http.StatusBadRequest {
			t.Errorf("POST /add without a tab: got %d, want 400", r.status)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("a client's mistake was logged as an error:\n%s", logs.String())
		}
	})
}

// Defect 9: a commit that failed at the first WriteHeader was answered
// by the kit's own text, bypassing the app's ErrorHandler.
func TestErrorHandlerAnswersCommitFailures(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		var seen atomic.Int32
		app := newTestApp(t, a, Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, e *Error) {
			seen.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": e.Status, "message": e.Message})
		}})
		b := app.browser()
		app.store.failErr = fmt.Errorf("disk: %w", store.ErrUnavailable)
		app.store.failCommits.Store(1)
		r := b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}})
		r.mustStatus(t, http.StatusServiceUnavailable)
		if seen.Load() != 1 || !strings.Contains(r.body, `"status":503`) || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("commit failure: ErrorHandler called %d times, body %q, want it to write the answer", seen.Load(), r.body)
		}
		for header, want := range map[string]string{"Retry-After": retryAfterSeconds, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
			if got := r.header.Get(header); got != want {
				t.Errorf("%s: got %q, want %q", header, got, want)
			}
		}
	})
}

// The kit's own pages carry headers that keep them inert.
func TestKitPagesAreNosniffNoStoreWithCSP(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.signIn()
		fork, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/0"+ForkPath, nil)
		fork.Header.Set(ForkHeader, "1")
		fork.Header.Set("Sec-Fetch-Site", "cross-site")
		for name, r := range map[string]response{
			"409 unknown tab":  b.post("/55/add", url.Values{"item": {"x"}}),
			"403 fork refused": b.send(fork),
			"400 no tab":       b.post("/add", nil),
		} {
			for header, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
				if got := r.header.Get(header); got != want {
					t.Errorf("%s: %s %q, want %q", name, header, got, want)
				}
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("%s: Content-Security-Policy %q, want default-src 'none'", name, csp)
			}
		}
	})
}

// Defect 10: closing tab 0 left the request's copy of its values
// readable, and idle-tab upkeep never ran for tab 0 or exempt paths.
func TestClosingTabZeroForgetsItsValues(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		app.handle(http.MethodPost, "/close-and-read", func(w http.ResponseWriter, r *http.Request) {
			tab := SessionOf(r).Tab()
			if err := tab.Close(); err != nil {
				fail(w, r, err)
				return
			}
			var items []string
			found, err := tab.Get("cart", &items)
			writeText(w, http.StatusOK, fmt.Sprintf("%v %v %v", found, items, err))
		})
		b := app.browser()
		b.post("/0/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		if got := b.post("/0/close-and-read", nil).mustStatus(t, http.StatusOK).body; got != "false [] <nil>" {
			t.Errorf("tab 0 read after its Close: got %q, want nothing found", got)
		}
		if got := b.get("/0/cart").body; got != "" {
			t.Errorf("tab 0 cart on the next request: got %q, want empty", got)
		}
	})
}

func TestIdleTabsCloseWhateverTabOrPathTheRequestUses(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		for _, path := range []string{"/0/get?key=user", "/api/read", "/0/cart"} {
			t.Run(path, func(t *testing.T) {
				app := newTestApp(t, a, Config{IdleTimeout: 10 * time.Hour, TabIdleTimeout: time.Hour})
				app.handle(http.MethodGet, "/api/read", func(w http.ResponseWriter, r *http.Request) {
					var user string
					_, err := SessionOf(r).Get("user", &user) // an exempt route that reads the session
					writeText(w, http.StatusOK, errString(err))
				})
				b := app.browser()
				b.signIn()
				idle := b.openTab()
				app.clock.Advance(2 * time.Hour)
				b.get(path).mustStatus(t, http.StatusOK)
				if open := b.openTabs(); strings.Contains(" "+open+" ", " "+strings.TrimPrefix(idle, "/")+" ") {
					t.Errorf("after %s: open tabs %q still hold idle tab %s", path, open, idle)
				}
			})
		}
	})
}

// expiredSignedCookie builds a cookie value signed with key, the way
// gorilla/securecookie does, dated long ago.
func expiredSignedCookie(name, token string, key []byte) string {
	value := base64.URLEncoding.EncodeToString([]byte(token))
	b := fmt.Sprintf("%s|%d|%s|", name, time.Now().Add(-30*24*time.Hour).Unix(), value)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(b[:len(b)-1]))
	out := append([]byte(b), mac.Sum(nil)...)[len(name)+1:]
	return base64.URLEncoding.EncodeToString(out)
}

// Defect 11: an expired signed cookie was counted as tampering.
func TestExpiredSignedCookieIsNotTampering(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		key := []byte(strings.Repeat("k", 32))
		var bad, expired atomic.Int32
		app := newTestApp(t, a, Config{SigningKeys: [][]byte{key}, Lifetime: 24 * time.Hour, Observe: func(e Event) {
			switch e.Kind {
			case EventBadCookie:
				bad.Add(1)
			case EventExpiredCookie:
				expired.Add(1)
			}
		}})
		b := app.browser()
		b.setCookie(expiredSignedCookie("tabkit", session.NewToken(), key))
		b.get("/0/get?key=k").mustStatus(t, http.StatusNotFound)
		if bad.Load() != 0 || expired.Load() != 1 {
			t.Errorf("expired authentic cookie: got %d bad, %d expired events, want 0 and 1", bad.Load(), expired.Load())
		}
		forged := expiredSignedCookie("tabkit", session.NewToken(), []byte(strings.Repeat("x", 32)))
		b.setCookie(forged)
		b.get("/0/get?key=k").mustStatus(t, http.StatusNotFound)
		if bad.Load() != 1 {
			t.Errorf("forged cookie: got %d bad-cookie events, want 1", bad.Load())
		}
	})
}

// Defect 12: a change made after the response started was dropped in
// silence: the call returned nil and nothing landed.
func TestChangesAfterTheResponseStartedLandOrFail(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		results := make(chan string, 1)
		app.handle(http.MethodPost, "/late", func(w http.ResponseWriter, r *http.Request) {
			writeText(w, http.StatusOK, "started")
			s := SessionOf(r)
			results <- fmt.Sprintf("%v|%v|%v", s.Set("late", "yes"), s.Tab().Set("late", "tab"), s.Delete("gone"))
		})
		b := app.browser()
		// No session yet: nothing may be created without a cookie.
		b.post("/0/late", nil).mustStatus(t, http.StatusOK)
		if got := <-results; !strings.Contains(got, ErrResponseStarted.Error()) {
			t.Errorf("late writes without a session: got %q, want ErrResponseStarted", got)
		}
		if app.sessions() != 0 {
			t.Errorf("a late write created a session the browser cannot name")
		}
		b.post("/0/set", url.Values{"key": {"gone"}, "value": {"x"}}).mustStatus(t, http.StatusOK)
		b.post("/0/late", nil).mustStatus(t, http.StatusOK)
		if got := <-results; got != "<nil>|<nil>|<nil>" {
			t.Errorf("late writes to a live session: got %q, want all nil", got)
		}
		if got := b.get("/0/get?key=late").body; got != "yes" {
			t.Errorf("late Set: got %q, want it landed", got)
		}
		if got := b.get("/0/get?key=gone").status; got != http.StatusNotFound {
			t.Errorf("late Delete: got status %d, want the key gone", got)
		}
	})
}

// Naive get/append/set from many requests at once: one lands, the rest
// are refused with 409, and nothing acknowledged is lost.
func TestNaiveAppendsAreRefusedNotLost(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		app.handle(http.MethodGet, "/list", func(w http.ResponseWriter, r *http.Request) {
			var list []string
			if _, err := SessionOf(r).Get("list", &list); err != nil {
				fail(w, r, err)
				return
			}
			_ = json.NewEncoder(w).Encode(list)
		})
		b := app.browser()
		readList := func() []string {
			var list []string
			if err := json.Unmarshal([]byte(b.get("/0/list").mustStatus(t, http.StatusOK).body), &list); err != nil {
				t.Fatal(err)
			}
			return list
		}
		b.post("/0/set", url.Values{"key": {"other"}, "value": {"x"}}).mustStatus(t, http.StatusOK)

		// The race spelled out, so that it happens on every run: the
		// first append has read the list and is about to commit when the
		// second one reads, appends and commits.
		reached, release := gateFirstCommit(app.store)
		first := make(chan response)
		go func() { first <- b.post("/0/append", url.Values{"item": {"first"}}) }()
		<-reached
		b.post("/0/append", url.Values{"item": {"second"}}).mustStatus(t, http.StatusOK)
		close(release)
		(<-first).mustStatus(t, http.StatusConflict)
		if got := readList(); !slices.Equal(got, []string{"second"}) {
			t.Fatalf("list after a gated race of two appends: got %q, want only the acknowledged one", got)
		}

		// And as it comes, many at once.
		const n = 16
		statuses := make([]int, n)
		parallel(n, func(i int) {
			statuses[i] = b.post("/0/append", url.Values{"item": {fmt.Sprint(i)}}).status
		})
		list := readList()
		acked := 0
		for i, status := range statuses {
			switch status {
			case http.StatusOK:
				acked++
				if !slices.Contains(list, fmt.Sprint(i)) {
					t.Errorf("append %d acknowledged but missing from %v", i, list)
				}
			case http.StatusConflict:
			default:
				t.Errorf("append %d: got status %d, want 200 or 409", i, status)
			}
		}
		if acked+1 != len(list) || acked == 0 {
			t.Errorf("acknowledged %d appends after %q, list holds %d (%v): want one more than acknowledged, and at least one acknowledged", acked, "second", len(list), list)
		}
	})
}

// A sign-in regenerates; a cookie from before it must never answer again.
func TestRegeneratedAwayTokenIsDead(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		old := b.cookie()
		b.signIn()
		thief := app.browser()
		thief.setCookie(old)
		// For a minute the old token is known to have moved: a request
		// that raced the sign-in gets 409 and no cookie, never data.
		if r := thief.get("/0/get?key=k"); r.status != http.StatusConflict || strings.Contains(r.body, "v") && !strings.Contains(r.body, "Conflict") || r.header.Get("Set-Cookie") != "" {
			t.Errorf("old token just after Regenerate: got %d %q (Set-Cookie %q), want 409 without a cookie", r.status, r.body, r.header.Get("Set-Cookie"))
		}
		if r := thief.post("/0/set", url.Values{"key": {"k"}, "value": {"stolen"}}); r.status != http.StatusConflict {
			t.Errorf("write with the old token just after Regenerate: got %d, want 409", r.status)
		}
		app.clock.Advance(2 * time.Minute)
		if r := thief.get("/0/get?key=k"); r.status != http.StatusNotFound {
			t.Errorf("old token later: got %d %q, want nothing", r.status, r.body)
		}
		thief.post("/0/set", url.Values{"key": {"k"}, "value": {"stolen"}})
		if got := b.get("/0/get?key=k").body; got != "v" {
			t.Errorf("the live session after a write with the old token: got %q, want %q", got, "v")
		}
	})
}
