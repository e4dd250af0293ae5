package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
)

const testPIN = "4321"

// newTestServer serves the demo on an in-memory session store, with the
// sales ledger in a bbolt file of the test's own.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv, _ := newTestServerWith(t, nil)
	return srv
}

// newTestServerWith is newTestServer with cfg changed by edit (when not
// nil) before the server is made. It also returns the ledger.
func newTestServerWith(t *testing.T, edit func(*serverConfig)) (*httptest.Server, Ledger) {
	t.Helper()
	d := newTestDemo(t, edit)
	return d.srv, d.ledger
}

// testDemo is the demo served for a test, with its parts.
type testDemo struct {
	srv    *httptest.Server
	ledger Ledger
	store  store.Store
	mgr    *kit.Manager
}

// newTestDemo serves the demo on an in-memory session store (unless edit
// sets another), with the sales ledger in a bbolt file of the test's own.
func newTestDemo(t *testing.T, edit func(*serverConfig)) testDemo {
	t.Helper()
	catalog, err := loadCatalog(catalogJSON)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	t.Cleanup(func() { _ = st.Close() })
	ledger, err := openBoltLedger(filepath.Join(t.TempDir(), "sales.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ledger.Close() })
	cfg := serverConfig{
		Store:   st,
		Catalog: catalog,
		Ledger:  ledger,
		PIN:     testPIN,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if edit != nil {
		edit(&cfg)
	}
	e, mgr, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Close() })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return testDemo{srv: srv, ledger: cfg.Ledger, store: cfg.Store, mgr: mgr}
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see every 303.
type browser struct {
	t    *testing.T
	base *url.URL
	http *http.Client
	// csrf is the session's token, read from the last page that had one.
	csrf string
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(srv.URL)
	return &browser{t: t, base: base, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) location() string { return a.header.Get("Location") }

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	a := answer{status: res.StatusCode, header: res.Header, body: string(body)}
	if m := csrfInput.FindStringSubmatch(a.body); m != nil {
		b.csrf = m[1]
	}
	return a
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base.String()+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form; the csrf field is added from the last page unless
// the form sets it.
func (b *browser) post(path string, form url.Values) answer {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, set := form["csrf"]; !set {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.base.String()+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) cookie(name string) string {
	for _, c := range b.http.Jar.Cookies(b.base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// signIn signs in from the register page of tab 0, as a browser would.
func (b *browser) signIn(name string) {
	b.t.Helper()
	b.get("/0/")
	got := b.post("/login", url.Values{"pin": {testPIN}, "name": {name}, "next": {"/0/"}})
	if got.status != http.StatusSeeOther || got.location() != "/0/" {
		b.t.Fatalf("sign-in: got %d to %q, want 303 to /0/", got.status, got.location())
	}
	b.get("/0/") // pick up the session's CSRF token
}

// mustStatus fails the test unless a has the given status.
func mustStatus(t *testing.T, what string, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("%s: got status %d, want %d\n%s", what, a.status, want, a.body)
	}
}
