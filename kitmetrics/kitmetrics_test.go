package kitmetrics

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/storetest"
)

// app is an Echo app wired to kit, a bbolt store that holds one session
// at most, and a Collector on its own registry.
type app struct {
	st  *boltstore.Store
	e   *echo.Echo
	reg *prometheus.Registry
	c   *Collector
}

func newApp(t *testing.T) *app {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := New(reg, Config{CountTabs: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "tabkit.db"),
		&boltstore.Options{SweepInterval: -1, MaxSessions: 1, Observe: c.ObserveBolt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := c.RegisterStore(st); err != nil {
		t.Fatal(err)
	}
	m, err := kit.New(kit.Config{
		Store:       st,
		SigningKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
		Observe:     c.Observe,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	if err := m.Install(e); err != nil {
		t.Fatal(err)
	}
	e.POST("/set", kit.Handler(func(c *kit.Context) error {
		if err := c.Session().Tab().Set("v", 1); err != nil {
			return err
		}
		return c.String(http.StatusOK, "set\n")
	}))
	e.GET("/read", kit.Handler(func(c *kit.Context) error {
		var v int
		if _, err := c.Session().Tab().Get("v", &v); err != nil {
			return err
		}
		return c.String(http.StatusOK, "read\n")
	}))
	return &app{st: st, e: e, reg: reg, c: c}
}

func (a *app) request(method, path string, cookie *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	a.e.ServeHTTP(w, r)
	return w
}

func TestMetricsThroughKit(t *testing.T) {
	a := newApp(t)
	first := a.request("POST", "/0/set", nil)
	if first.Code != http.StatusOK {
		t.Fatalf("first session: status %d: %s", first.Code, first.Body)
	}
	cookies := (&http.Response{Header: first.Header()}).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("first session: cookies %v", cookies)
	}
	cookie := cookies[0]
	steps := []struct {
		name, method, path string
		cookie             *http.Cookie
		want               int
	}{
		{"same session writes again", "POST", "/0/set", cookie, http.StatusOK},
		{"second session: store full", "POST", "/0/set", nil, http.StatusServiceUnavailable},
		{"tampered cookie", "GET", "/0/read", &http.Cookie{Name: cookie.Name, Value: tamper(cookie.Value)}, http.StatusOK},
		{"forged tab", "POST", "/7/set", cookie, http.StatusConflict},
	}
	for _, s := range steps {
		w := a.request(s.method, s.path, s.cookie)
		if w.Code != s.want {
			t.Errorf("%s: status %d, want %d: %s", s.name, w.Code, s.want, w.Body)
		}
		if w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", s.name)
		}
	}

	counters := []struct {
		name   string
		metric prometheus.Collector
		want   float64
	}{
		{"commits ok", a.c.commits.WithLabelValues("ok"), 2},
		{"commits error", a.c.commits.WithLabelValues("error"), 1},
		{"sessions created", a.c.sessionsCreated, 1},
		{"quota refusals", a.c.refusals.WithLabelValues("full"), 1},
		{"unavailable refusals", a.c.refusals.WithLabelValues("unavailable"), 0},
		{"bad cookies", a.c.badCookies, 1},
		{"unknown tabs", a.c.unknownTabs, 1},
	}
	for _, c := range counters {
		if got := testutil.ToFloat64(c.metric); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}

	if _, err := a.st.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The scrape, as Prometheus sees it.
	srv := httptest.NewServer(promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, line := range []string{
		`tabkit_commits_total{result="ok"} 2`,
		`tabkit_store_refusals_total{reason="full"} 1`,
		`tabkit_bad_cookies_total 1`,
		`tabkit_unknown_tab_requests_total 1`,
		`tabkit_commit_duration_seconds_count 3`,
		`tabkit_store_sessions 1`,
		`tabkit_store_expired_sessions 0`,
		`tabkit_store_tabs 1`,
		`tabkit_store_commit_batch_size_sum 3`,
		`tabkit_store_sweeps_total{result="ok"} 1`,
		`tabkit_store_swept_sessions_total 0`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("scrape lacks %q", line)
		}
	}
	if !strings.Contains(string(body), "tabkit_store_file_bytes ") {
		t.Error("scrape lacks tabkit_store_file_bytes")
	}
}

// tamper flips the last character of a signed cookie value.
func tamper(v string) string {
	last := v[len(v)-1]
	if last == 'A' {
		return v[:len(v)-1] + "B"
	}
	return v[:len(v)-1] + "A"
}

func TestNewRejectsDoubleRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg, Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg, Config{}); err == nil {
		t.Error("a second Collector on one registry was accepted")
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("a nil Registerer was accepted")
	}
}

func TestLifecycleEventsAreCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, err := New(reg, Config{})
	if err != nil {
		t.Fatal(err)
	}
	clock := storetest.NewClock(time.Now())
	mem := store.NewMemoryWith(store.MemoryOptions{Now: clock.Now, SweepInterval: -1})
	defer mem.Close()
	m, err := kit.New(kit.Config{Store: mem, Observe: c.Observe, MaxSessionsPerPrincipal: 1, WhenPrincipalFull: kit.EndOldestSession,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		s := kit.SessionOf(r)
		if err := s.Set("seen", true); err != nil {
			kit.Fail(w, r, err)
			return
		}
		if err := s.Regenerate(); err != nil {
			kit.Fail(w, r, err)
			return
		}
		if err := s.SetPrincipal("ann"); err != nil {
			kit.Fail(w, r, err)
		}
	})
	mux.HandleFunc("POST /signout", func(w http.ResponseWriter, r *http.Request) {
		if err := kit.SessionOf(r).Destroy(); err != nil {
			kit.Fail(w, r, err)
		}
	})
	h := m.Wrap(mux)
	post := func(path string, cookies []*http.Cookie) []*http.Cookie {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		return w.Result().Cookies()
	}
	first := post("/0/signin", nil)   // created, principal changed
	post("/0/signin", nil)            // another browser: created, principal changed; the first evicted
	third := post("/0/signin", nil)   // and again
	post("/0/signout", third)         // destroyed
	fifth := post("/0/signin", first) // the evicted cookie names nothing: created anew
	post("/0/signin", fifth)          // signed in again: regenerated, same principal
	clock.Advance(30 * 24 * time.Hour)
	if _, err := mem.Sweep(context.Background()); err != nil { // expired
		t.Fatal(err)
	}
	for event, want := range map[string]float64{
		"created": 4, "principal_changed": 4, "regenerated": 1, "destroyed": 1, "evicted": 2, "expired": 1,
	} {
		if got := testutil.ToFloat64(c.lifecycle.WithLabelValues(event)); got != want {
			t.Errorf("%s: got %v, want %v", event, got, want)
		}
	}
}
