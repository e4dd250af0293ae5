package kit

import (
	"context"
	"errors"
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
	s.commits.Add(1)
	if s.failCommits.Load() > 0 {
		s.failCommits.Add(-1)
		return store.Meta{}, s.failErr
	}
	return s.Store.Commit(ctx, id, d)
}

func (s *countingStore) Delete(ctx context.Context, id string) error {
	s.deletes.Add(1)
	return s.Store.Delete(ctx, id)
}

func (s *countingStore) ios() int64 { return s.loads.Load() + s.commits.Load() + s.deletes.Load() }

// testApp is an Echo app with a kit installed and a few routes that
// exercise the session, served over real HTTP.
type testApp struct {
	t     *testing.T
	e     *echo.Echo
	m     *Manager
	store *countingStore
	clock *storetest.Clock
	srv   *httptest.Server
}

func newTestApp(t *testing.T, cfg Config) *testApp {
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
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	m.now = clock.Now
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	if err := m.Install(e); err != nil {
		t.Fatalf("Install: %v", err)
	}
	addTestRoutes(e)
	app := &testApp{t: t, e: e, m: m, store: cs, clock: clock}
	app.srv = httptest.NewServer(e)
	t.Cleanup(app.srv.Close)
	return app
}

// addTestRoutes registers the routes the tests drive: a cart per tab, a
// session-wide user, flashes.
func addTestRoutes(e *echo.Echo) {
	e.GET("/notouch", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/", Handler(func(c *Context) error {
		var items []string
		if _, err := c.Session().Tab().Get("cart", &items); err != nil {
			return err
		}
		var flashes []string
		if _, err := c.Session().Tab().Flashes("msg", &flashes); err != nil {
			return err
		}
		var kitFlashes []string
		if _, err := c.Session().Tab().Flashes(FlashKey, &kitFlashes); err != nil {
			return err
		}
		return c.HTML(http.StatusOK, `<html><body><a href="/cart">cart</a><form action="/add" method="post"></form>`+
			`<p id="items">`+strings.Join(items, ",")+`</p><p id="flash">`+strings.Join(append(flashes, kitFlashes...), "|")+`</p>`+
			`<img src="/static/logo.png"></body></html>`)
	}))
	e.GET("/cart", Handler(func(c *Context) error {
		var items []string
		if _, err := c.Session().Tab().Get("cart", &items); err != nil {
			return err
		}
		return c.String(http.StatusOK, strings.Join(items, ","))
	}))
	e.POST("/add", Handler(func(c *Context) error {
		item := c.FormValue("item")
		var items []string
		if err := c.Session().Tab().Update("cart", &items, func() error {
			items = append(items, item)
			return nil
		}); err != nil {
			return err
		}
		if err := c.Session().Tab().Flash("msg", "added "+item); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}))
	e.POST("/set", Handler(func(c *Context) error {
		if err := c.Session().Set(c.FormValue("key"), c.FormValue("value")); err != nil {
			return err
		}
		return c.String(http.StatusOK, "set")
	}))
	e.GET("/get", Handler(func(c *Context) error {
		var v string
		found, err := c.Session().Get(c.QueryParam("key"), &v)
		if err != nil {
			return err
		}
		if !found {
			return c.String(http.StatusNotFound, "missing")
		}
		return c.String(http.StatusOK, v)
	}))
	e.POST("/panic", Handler(func(c *Context) error {
		if err := c.Session().Set("half", "done"); err != nil {
			return err
		}
		panic("handler bug")
	}))
	e.POST("/fail", Handler(func(c *Context) error {
		if err := c.Session().Set("half", "done"); err != nil {
			return err
		}
		return errors.New("handler failed")
	}))
	e.POST("/login", Handler(func(c *Context) error {
		if err := c.Session().Regenerate(); err != nil {
			return err
		}
		if err := c.Session().Set("user", c.FormValue("user")); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/0/")
	}))
	e.POST("/logout", Handler(func(c *Context) error {
		if err := c.Session().Destroy(); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/0/")
	}))
	e.GET("/api/tab", Handler(func(c *Context) error {
		_, err := c.Session().Tab().Get("cart", new([]string))
		return c.String(http.StatusOK, errString(err))
	}))
	e.POST("/label", Handler(func(c *Context) error {
		if err := c.Session().Tab().SetLabel(c.FormValue("label")); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}))
	e.POST("/close", Handler(func(c *Context) error {
		if err := c.Session().Tab().Close(); err != nil {
			return err
		}
		return c.String(http.StatusOK, "closed")
	}))
	e.GET("/tabs", Handler(func(c *Context) error {
		list, err := c.Session().Tabs()
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, list)
	}))
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
