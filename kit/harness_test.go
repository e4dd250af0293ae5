package kit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/labstack/echo/v4/middleware"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// countingStore counts calls and can be told to fail, to check what the
// kit asks of its store.
type countingStore struct {
	store.Store
	loads, commits, deletes atomic.Int64
	// failCommits makes the next n commits fail with err.
	failCommits atomic.Int64
	// failLoads makes the next n loads fail with err.
	failLoads atomic.Int64
	failErr   error
	// gateMove, when set, runs before each Move reaches the store: a
	// test blocks there to let other requests act between a request's
	// load and its commit.
	gateMove atomic.Pointer[func()]
	// gateCommit is gateMove for Commit.
	gateCommit atomic.Pointer[func()]
}

func (s *countingStore) Load(ctx context.Context, id string) (store.Record, bool, error) {
	s.loads.Add(1)
	if s.failLoads.Load() > 0 {
		s.failLoads.Add(-1)
		return store.Record{}, false, s.failErr
	}
	return s.Store.Load(ctx, id)
}

func (s *countingStore) Commit(ctx context.Context, id string, d store.Delta) (store.Meta, error) {
	if gate := s.gateCommit.Load(); gate != nil {
		(*gate)()
	}
	s.commits.Add(1)
	if s.failCommits.Load() > 0 {
		s.failCommits.Add(-1)
		return store.Meta{}, s.failErr
	}
	return s.Store.Commit(ctx, id, d)
}

func (s *countingStore) Move(ctx context.Context, from, to string, d store.Delta) (store.Meta, error) {
	if gate := s.gateMove.Load(); gate != nil {
		(*gate)()
	}
	s.commits.Add(1)
	if s.failCommits.Load() > 0 {
		s.failCommits.Add(-1)
		return store.Meta{}, s.failErr
	}
	return s.Store.Move(ctx, from, to, d)
}

func (s *countingStore) Delete(ctx context.Context, id string) error {
	s.deletes.Add(1)
	return s.Store.Delete(ctx, id)
}

func (s *countingStore) ios() int64 { return s.loads.Load() + s.commits.Load() + s.deletes.Load() }

// adapter is a way of putting the kit in front of an application; the
// kit's behaviour tests run through each.
type adapter int

const (
	echoAdapter adapter = iota // Manager.Install on Echo
	httpAdapter                // Manager.Wrap around a net/http ServeMux
)

func (a adapter) String() string {
	if a == echoAdapter {
		return "echo"
	}
	return "nethttp"
}

// eachAdapter runs fn once per adapter, as subtests.
func eachAdapter(t *testing.T, fn func(t *testing.T, a adapter)) {
	t.Helper()
	for _, a := range []adapter{echoAdapter, httpAdapter} {
		t.Run(a.String(), func(t *testing.T) { fn(t, a) })
	}
}

// testApp is an application with a kit in front, served over real HTTP,
// with a few routes that exercise the session.
type testApp struct {
	t     *testing.T
	a     adapter
	m     *Manager
	store *countingStore
	clock *storetest.Clock
	srv   *httptest.Server
	// e is set for echoAdapter, mux for httpAdapter.
	e   *echo.Echo
	mux *http.ServeMux
}

func newTestApp(t *testing.T, a adapter, cfg Config) *testApp {
	t.Helper()
	clock := storetest.NewClock(time.Now())
	if cfg.Store == nil {
		mem := store.NewMemoryWith(store.MemoryOptions{Now: clock.Now, SweepInterval: -1})
		t.Cleanup(func() { mem.Close() })
		cfg.Store = mem
	}
	cs := &countingStore{Store: cfg.Store, failErr: errors.New("disk on fire")}
	cfg.Store = cs
	if cfg.ExemptPrefixes == nil {
		cfg.ExemptPrefixes = []string{"/login", "/logout", "/api/", "/healthz"}
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	cfg.Now = clock.Now
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	app := &testApp{t: t, a: a, m: m, store: cs, clock: clock}
	var h http.Handler
	switch a {
	case echoAdapter:
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		e.Logger.SetOutput(io.Discard)
		if err := m.Install(e); err != nil {
			t.Fatalf("Install: %v", err)
		}
		app.e, h = e, e
	default:
		app.mux = http.NewServeMux()
		h = m.Wrap(app.mux)
	}
	addTestRoutes(app)
	app.srv = httptest.NewServer(h)
	t.Cleanup(app.srv.Close)
	return app
}

// handle registers h for method and path (no patterns but the exact
// path) on the app, whatever its adapter.
func (a *testApp) handle(method, path string, h http.HandlerFunc) {
	switch a.a {
	case echoAdapter:
		a.e.Add(method, path, echo.WrapHandler(h))
	default:
		pattern := path
		if path == "/" {
			pattern = "/{$}"
		}
		a.mux.HandleFunc(method+" "+pattern, h)
	}
}

// fail answers err the way handlers of either adapter do.
func fail(w http.ResponseWriter, r *http.Request, err error) { Fail(w, r, err) }

func writeHTML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// addTestRoutes registers the routes the tests drive: a cart per tab, a
// session-wide user, flashes.
func addTestRoutes(a *testApp) {
	a.handle(http.MethodGet, "/notouch", func(w http.ResponseWriter, r *http.Request) { writeText(w, http.StatusOK, "ok") })
	a.handle(http.MethodGet, "/healthz", func(w http.ResponseWriter, r *http.Request) { writeText(w, http.StatusOK, "ok") })
	a.handle(http.MethodGet, "/", func(w http.ResponseWriter, r *http.Request) {
		s := SessionOf(r)
		var items []string
		if _, err := s.Tab().Get("cart", &items); err != nil {
			fail(w, r, err)
			return
		}
		var flashes []string
		if _, err := s.Tab().Flashes("msg", &flashes); err != nil {
			fail(w, r, err)
			return
		}
		var kitFlashes []string
		if _, err := s.Tab().Flashes(FlashKey, &kitFlashes); err != nil {
			fail(w, r, err)
			return
		}
		writeHTML(w, http.StatusOK, `<html><body><a href="/cart">cart</a><form action="/add" method="post"></form>`+
			`<p id="items">`+strings.Join(items, ",")+`</p><p id="flash">`+strings.Join(append(flashes, kitFlashes...), "|")+`</p>`+
			`<img src="/static/logo.png"></body></html>`)
	})
	a.handle(http.MethodGet, "/cart", func(w http.ResponseWriter, r *http.Request) {
		var items []string
		if _, err := SessionOf(r).Tab().Get("cart", &items); err != nil {
			fail(w, r, err)
			return
		}
		writeText(w, http.StatusOK, strings.Join(items, ","))
	})
	a.handle(http.MethodPost, "/add", func(w http.ResponseWriter, r *http.Request) {
		item := r.FormValue("item")
		var items []string
		s := SessionOf(r)
		if err := s.Tab().Update("cart", &items, func() error {
			items = append(items, item)
			return nil
		}); err != nil {
			fail(w, r, err)
			return
		}
		if err := s.Tab().Flash("msg", "added "+item); err != nil {
			fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	a.handle(http.MethodPost, "/set", func(w http.ResponseWriter, r *http.Request) {
		if err := SessionOf(r).Set(r.FormValue("key"), r.FormValue("value")); err != nil {
			fail(w, r, err)
			return
		}
		writeText(w, http.StatusOK, "set")
	})
	a.handle(http.MethodGet, "/get", func(w http.ResponseWriter, r *http.Request) {
		var v string
		found, err := SessionOf(r).Get(r.URL.Query().Get("key"), &v)
		if err != nil {
			fail(w, r, err)
			return
		}
		if !found {
			writeText(w, http.StatusNotFound, "missing")
			return
		}
		writeText(w, http.StatusOK, v)
	})
	a.handle(http.MethodPost, "/append", func(w http.ResponseWriter, r *http.Request) {
		// The naive get/append/set a handler may write without Update.
		s := SessionOf(r)
		var list []string
		if _, err := s.Get("list", &list); err != nil {
			fail(w, r, err)
			return
		}
		if err := s.Set("list", append(list, r.FormValue("item"))); err != nil {
			fail(w, r, err)
			return
		}
		writeText(w, http.StatusOK, "appended")
	})
	a.handle(http.MethodPost, "/panic", func(w http.ResponseWriter, r *http.Request) {
		if err := SessionOf(r).Set("half", "done"); err != nil {
			fail(w, r, err)
			return
		}
		panic("handler bug")
	})
	a.handle(http.MethodPost, "/fail", func(w http.ResponseWriter, r *http.Request) {
		if err := SessionOf(r).Set("half", "done"); err != nil {
			fail(w, r, err)
			return
		}
		fail(w, r, errors.New("handler failed"))
	})
	a.handle(http.MethodPost, "/login", func(w http.ResponseWriter, r *http.Request) {
		s := SessionOf(r)
		if err := s.Regenerate(); err != nil {
			fail(w, r, err)
			return
		}
		if err := s.Set("user", r.FormValue("user")); err != nil {
			fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/0/", http.StatusSeeOther)
	})
	a.handle(http.MethodPost, "/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := SessionOf(r).Destroy(); err != nil {
			fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/0/", http.StatusSeeOther)
	})
	a.handle(http.MethodGet, "/api/tab", func(w http.ResponseWriter, r *http.Request) {
		_, err := SessionOf(r).Tab().Get("cart", new([]string))
		writeText(w, http.StatusOK, errString(err))
	})
	a.handle(http.MethodPost, "/label", func(w http.ResponseWriter, r *http.Request) {
		if err := SessionOf(r).Tab().SetLabel(r.FormValue("label")); err != nil {
			fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	a.handle(http.MethodPost, "/close", func(w http.ResponseWriter, r *http.Request) {
		if err := SessionOf(r).Tab().Close(); err != nil {
			fail(w, r, err)
			return
		}
		writeText(w, http.StatusOK, "closed")
	})
	a.handle(http.MethodGet, "/tabs", func(w http.ResponseWriter, r *http.Request) {
		list, err := SessionOf(r).Tabs()
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	})
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
type browser struct {
	t   *testing.T
	app *testApp
	c   *http.Client
}

func (a *testApp) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return &browser{t: a.t, app: a, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.app.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return b.send(req)
}

func (b *browser) send(req *http.Request) response {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (b *browser) get(path string) response { return b.do(http.MethodGet, path, nil) }

func (b *browser) post(path string, form url.Values) response {
	if form == nil {
		form = url.Values{}
	}
	return b.do(http.MethodPost, path, form)
}

// cookie returns the value of the session cookie the browser holds.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.app.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "tabkit" {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(value string) {
	u, _ := url.Parse(b.app.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "tabkit", Value: value, Path: "/"}})
}

// mustStatus fails the test unless r has status want.
func (r response) mustStatus(t *testing.T, want int) response {
	t.Helper()
	if r.status != want {
		t.Fatalf("status: got %d, want %d (body %q)", r.status, want, r.body)
	}
	return r
}

func timeNow() time.Time { return time.Now() }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// parallel runs fn n times at once and waits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}

// serveHTTP serves req in-process, without the test server.
func (a *testApp) serveHTTP(w http.ResponseWriter, req *http.Request) {
	a.srv.Config.Handler.ServeHTTP(w, req)
}

// load loads the session whose cookie carries token, bypassing the kit.
func (a *testApp) load(token string) (store.Record, bool) {
	a.t.Helper()
	rec, found, err := a.store.Store.Load(a.t.Context(), store.HashToken(token))
	if errors.Is(err, store.ErrMoved) {
		return store.Record{}, false
	}
	if err != nil {
		a.t.Fatalf("Load: %v", err)
	}
	return rec, found
}

// recoverInside adds a panic-recovering middleware inside the kit, as an
// app's Recover middleware sits.
func (a *testApp) recoverInside() {
	switch a.a {
	case echoAdapter:
		a.e.Use(middleware.Recover())
	default:
		inner := a.mux
		wrapped := http.NewServeMux()
		wrapped.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					fail(w, r, fmt.Errorf("panic: %v", p))
				}
			}()
			inner.ServeHTTP(w, r)
		}))
		a.srv.Config.Handler = a.m.Wrap(wrapped)
	}
}

// The optional abilities of the store underneath, passed through.

func (s *countingStore) SessionsOf(ctx context.Context, p string) ([]store.SessionRef, error) {
	idx, ok := s.Store.(store.PrincipalIndex)
	if !ok {
		return nil, errors.New("no principal index")
	}
	return idx.SessionsOf(ctx, p)
}

func (s *countingStore) Subscribe(fn func(store.Event)) (cancel func()) {
	if n, ok := s.Store.(store.Notifier); ok {
		return n.Subscribe(fn)
	}
	return func() {}
}

func (s *countingStore) List(ctx context.Context, fn func(id string, m store.Meta) bool) error {
	return s.Store.(store.Lister).List(ctx, fn)
}
