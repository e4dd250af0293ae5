package kit

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/tabkit/tabkit/internal/session"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
)

func TestNoTouchRequestDoesNoStoreIOAndSetsNoCookie(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		for _, path := range []string{"/0/notouch", "/healthz", "/0/"} {
			r := b.get(path).mustStatus(t, http.StatusOK)
			if got := r.header.Get("Set-Cookie"); got != "" {
				t.Errorf("%s: Set-Cookie %q, want none", path, got)
			}
		}
		if got := app.store.ios(); got != 0 {
			t.Errorf("store calls: got %d, want 0", got)
		}
	})
}

func TestCookielessFloodStoresNothing(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		for range 50 {
			app.browser().get("/0/").mustStatus(t, http.StatusOK)
			app.browser().get("/").mustStatus(t, http.StatusSeeOther)
		}
		if got := app.store.commits.Load(); got != 0 {
			t.Errorf("commits: got %d, want 0", got)
		}
	})
}

func TestFirstWriteCreatesSessionWithSafeCookie(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		r := b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		raw := r.header.Get("Set-Cookie")
		for _, want := range []string{"tabkit=", "Path=/", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(raw, want) {
				t.Errorf("Set-Cookie %q lacks %q", raw, want)
			}
		}
		for _, unwanted := range []string{"Secure", "Expires=", "Max-Age="} {
			// No Expires: by default the cookie ends with the browser.
			if strings.Contains(raw, unwanted) {
				t.Errorf("Set-Cookie %q has %q", raw, unwanted)
			}
		}
		id, err := base64.RawURLEncoding.DecodeString(b.cookie())
		if err != nil || len(id) != 32 {
			t.Errorf("cookie value %q: got %d random bytes (err %v), want 32", b.cookie(), len(id), err)
		}
		if got := b.get("/0/get?key=k").mustStatus(t, http.StatusOK).body; got != "v" {
			t.Errorf("value: got %q, want %q", got, "v")
		}
		if got := b.get("/0/get?key=k").header.Get("Set-Cookie"); got != "" {
			t.Errorf("second request re-sent the cookie: %q", got)
		}
	})
}

func TestSecureCookie(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		tests := []struct {
			name        string
			cfg         Config
			tls         bool
			forwarded   string
			wantSecure  bool
			wantPrefix  bool
			wantCookieN string
		}{
			{name: "plain", wantCookieN: "tabkit"},
			{name: "forced", cfg: Config{Secure: true}, wantSecure: true, wantCookieN: "__Host-tabkit"},
			{name: "tls", tls: true, wantSecure: true, wantCookieN: "__Host-tabkit"},
			{name: "untrusted forwarded", forwarded: "https", wantCookieN: "tabkit"},
			{name: "trusted forwarded", cfg: Config{TrustForwardedProto: true}, forwarded: "https", wantSecure: true, wantCookieN: "__Host-tabkit"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				app := newTestApp(t, a, tt.cfg)
				req := httptest.NewRequest(http.MethodPost, "/0/set", strings.NewReader("key=k&value=v"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if tt.tls {
					req.TLS = &tls.ConnectionState{}
				}
				if tt.forwarded != "" {
					req.Header.Set("X-Forwarded-Proto", tt.forwarded)
				}
				rec := httptest.NewRecorder()
				app.serveHTTP(rec, req)
				cookies := rec.Result().Cookies()
				if len(cookies) != 1 {
					t.Fatalf("cookies: got %d, want 1", len(cookies))
				}
				c := cookies[0]
				if c.Name != tt.wantCookieN || c.Secure != tt.wantSecure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
					t.Errorf("cookie: got name %q secure %v httponly %v path %q domain %q, want name %q secure %v, HttpOnly, Path=/, no domain",
						c.Name, c.Secure, c.HttpOnly, c.Path, c.Domain, tt.wantCookieN, tt.wantSecure)
				}
			})
		}
	})
}

func TestUnknownSessionIDIsNeverAdopted(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		planted := session.NewToken()
		b.setCookie(planted)
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		if got := b.cookie(); got == planted || got == "" {
			t.Fatalf("cookie after write: got %q, want a new ID (planted %q)", got, planted)
		}
		if _, found := app.load(planted); found {
			t.Errorf("a session was stored under the planted ID")
		}
	})
}

func TestBadCookiesAreIgnoredWithoutStoreIO(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		keys := [][]byte{[]byte(strings.Repeat("k", 32))}
		signer := newCookieCodec(keys, time.Hour)
		good, err := signer.encode("tabkit", session.NewToken())
		if err != nil {
			t.Fatal(err)
		}
		otherKey, _ := newCookieCodec([][]byte{[]byte(strings.Repeat("x", 32))}, time.Hour).encode("tabkit", session.NewToken())
		tampered := []byte(good)
		tampered[len(tampered)/2] ^= 1
		tests := []struct {
			name   string
			signed bool
			value  string
		}{
			{"garbage", false, "not a cookie !!"},
			{"huge", false, strings.Repeat("A", 5000)},
			{"short ID", false, "abc"},
			{"wrong alphabet", false, strings.Repeat("*", session.TokenLength)},
			{"bare ID in signed mode", true, session.NewToken()},
			{"tampered", true, string(tampered)},
			{"truncated", true, good[:len(good)-5]},
			{"wrong key", true, otherKey},
			{"huge signed", true, good + strings.Repeat("A", 5000)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cfg := Config{}
				if tt.signed {
					cfg.SigningKeys = keys
				}
				app := newTestApp(t, a, cfg)
				b := app.browser()
				b.setCookie(tt.value)
				if got := b.get("/0/get?key=k").status; got != http.StatusNotFound {
					t.Errorf("status: got %d, want 404 (no session)", got)
				}
				if got := app.store.loads.Load(); got != 0 {
					t.Errorf("store loads: got %d, want 0", got)
				}
			})
		}
	})
}

func TestSigningKeyRotation(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		oldKey := []byte(strings.Repeat("o", 32))
		newKey := []byte(strings.Repeat("n", 32))
		mem := store.NewMemoryWith(store.MemoryOptions{SweepInterval: -1})
		before := newTestApp(t, a, Config{Store: mem, SigningKeys: [][]byte{oldKey}})
		b := before.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		cookie := b.cookie()

		after := newTestApp(t, a, Config{Store: mem, SigningKeys: [][]byte{newKey, oldKey}})
		b2 := after.browser()
		b2.setCookie(cookie)
		if got := b2.get("/0/get?key=k").body; got != "v" {
			t.Errorf("old-key cookie under rotated keys: got %q, want %q", got, "v")
		}
		b2.post("/login", url.Values{"user": {"ann"}}).mustStatus(t, http.StatusSeeOther)
		id, err := newCookieCodec([][]byte{newKey}, DefaultConfig.Lifetime).decode("tabkit", b2.cookie())
		if err != nil || id == "" {
			t.Errorf("new cookie does not verify with the newest key alone: %v", err)
		}

		dropped := newTestApp(t, a, Config{Store: mem, SigningKeys: [][]byte{newKey}})
		b3 := dropped.browser()
		b3.setCookie(cookie)
		if got := b3.get("/0/get?key=k").status; got != http.StatusNotFound {
			t.Errorf("cookie signed with a retired key: got status %d, want 404", got)
		}
	})
}

func TestConfigRejectsShortSigningKey(t *testing.T) {
	_, err := New(Config{Store: store.NewMemory(), SigningKeys: [][]byte{[]byte("short")}})
	if err == nil {
		t.Fatal("New accepted a 5-byte signing key")
	}
}

func TestSetTooLarge(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{MaxSessionBytes: 1000})
		app.handle(http.MethodPost, "/big", func(w http.ResponseWriter, r *http.Request) {
			err := SessionOf(r).Set("big", strings.Repeat("x", 2000))
			if !errors.Is(err, store.ErrTooLarge) {
				writeText(w, http.StatusOK, fmt.Sprintf("got %v, want ErrTooLarge", err))
				return
			}
			fail(w, r, err)
		})
		b := app.browser()
		b.post("/0/big", nil).mustStatus(t, http.StatusRequestEntityTooLarge)
		if got := app.store.commits.Load(); got != 0 {
			t.Errorf("commits after refused Set: got %d, want 0", got)
		}
	})
}

func TestStoreFailureAnswers500AndNextRequestWorks(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		app.store.failCommits.Store(1)
		r := b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}})
		r.mustStatus(t, http.StatusInternalServerError)
		if strings.Contains(r.body, "set") {
			t.Errorf("handler body leaked after a failed commit: %q", r.body)
		}
		if got := r.header.Get("Set-Cookie"); got != "" {
			t.Errorf("failed commit still set a cookie: %q", got)
		}
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		if got := b.get("/0/get?key=k").body; got != "v" {
			t.Errorf("after recovery: got %q, want %q", got, "v")
		}
	})
}

func TestStoreUnavailableAnswers503(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		app.store.failErr = fmt.Errorf("dial: %w", store.ErrUnavailable)
		app.store.failCommits.Store(1)
		r := app.browser().post("/0/set", url.Values{"key": {"k"}, "value": {"v"}})
		r.mustStatus(t, http.StatusServiceUnavailable)
		if r.header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
	})
}

func TestFailedRequestCommitsNothing(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		for _, tt := range []struct {
			name    string
			recover bool
			path    string
		}{
			{"panic with Recover inside", true, "/0/panic"},
			{"error", false, "/0/fail"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				app := newTestApp(t, a, Config{})
				if tt.recover {
					app.recoverInside()
				}
				b := app.browser()
				b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
				b.post(tt.path, nil).mustStatus(t, http.StatusInternalServerError)
				if got := b.get("/0/get?key=half").status; got != http.StatusNotFound {
					t.Errorf("half-done write: got status %d, want 404", got)
				}
			})
		}
	})
}

func TestPanicWithoutRecoverCommitsNothing(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		commits := app.store.commits.Load()
		func() {
			defer func() { _ = recover() }()
			req := httptest.NewRequest(http.MethodPost, "/0/panic", nil)
			req.AddCookie(&http.Cookie{Name: "tabkit", Value: b.cookie()})
			app.serveHTTP(httptest.NewRecorder(), req)
		}()
		if got := app.store.commits.Load(); got != commits {
			t.Errorf("commits after a panic: got %d, want %d", got, commits)
		}
	})
}

func TestCommitBeforeFirstByte(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		var seenByHandler bool
		app.handle(http.MethodPost, "/stream", func(w http.ResponseWriter, r *http.Request) {
			s := SessionOf(r)
			if err := s.Set("k", "v"); err != nil {
				fail(w, r, err)
				return
			}
			w.WriteHeader(http.StatusOK)
			// The header is out: the change must already be in the store.
			rec, found, err := app.store.Store.Load(r.Context(), s.Handle())
			seenByHandler = err == nil && found && string(rec.Values[store.SessionKey("k")]) == `"v"`
			_, _ = w.Write([]byte("streamed"))
		})
		app.browser().post("/0/stream", nil).mustStatus(t, http.StatusOK)
		if !seenByHandler {
			t.Error("the change was not in the store when the first byte left")
		}
	})
}

func TestRegenerate(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.post("/0/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		before := b.cookie()
		b.post("/login", url.Values{"user": {"ann"}}).mustStatus(t, http.StatusSeeOther)
		after := b.cookie()
		if after == before || after == "" {
			t.Fatalf("cookie: got %q after regenerate, want a new value (was %q)", after, before)
		}
		if _, found := app.load(before); found {
			t.Error("old record still stored after Regenerate")
		}
		for key, want := range map[string]string{"k": "v", "user": "ann"} {
			if got := b.get("/0/get?key=" + key).body; got != want {
				t.Errorf("%s after regenerate: got %q, want %q", key, got, want)
			}
		}
		if got := b.get("/0/cart").body; got != "tea" {
			t.Errorf("tab data after regenerate: got %q, want %q", got, "tea")
		}
	})
}

func TestDestroy(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		id := b.cookie()
		r := b.post("/logout", nil).mustStatus(t, http.StatusSeeOther)
		if !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("Set-Cookie %q does not expire the cookie", r.header.Get("Set-Cookie"))
		}
		if _, found := app.load(id); found {
			t.Error("record still stored after Destroy")
		}
		if b.cookie() != "" {
			t.Error("browser still holds the cookie")
		}
	})
}

func TestDestroyedSessionIsNotResurrected(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		stale := b.cookie()
		b.post("/logout", nil).mustStatus(t, http.StatusSeeOther)
		other := app.browser()
		other.setCookie(stale)
		other.post("/0/set", url.Values{"key": {"k2"}, "value": {"v2"}}).mustStatus(t, http.StatusOK)
		if got := other.cookie(); got == stale {
			t.Error("a write with a destroyed session's cookie reused its ID")
		}
		if _, found := app.load(stale); found {
			t.Error("destroyed session came back")
		}
	})
}

func TestFlashesAreReadOnce(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.post("/0/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		page := b.get("/0/").mustStatus(t, http.StatusOK)
		if !strings.Contains(page.body, `<p id="flash">added tea</p>`) {
			t.Errorf("first page: %q lacks the flash", page.body)
		}
		page = b.get("/0/").mustStatus(t, http.StatusOK)
		if !strings.Contains(page.body, `<p id="flash"></p>`) {
			t.Errorf("second page: %q still shows the flash", page.body)
		}
	})
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		const n = 32
		parallel(n, func(i int) {
			b.post("/0/add", url.Values{"item": {strconv.Itoa(i)}}).mustStatus(t, http.StatusSeeOther)
		})
		if got := len(strings.Split(b.get("/0/cart").body, ",")); got != n {
			t.Errorf("items: got %d, want %d", got, n)
		}
	})
}

func TestNumericRoutesAreRefused(t *testing.T) {
	m, err := New(Config{Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET("/2024/report", func(echo.Context) error { return nil })
	if err := m.Install(e); err == nil {
		t.Error("Install accepted the route /2024/report")
	}
	e2 := echo.New()
	if err := m.Install(e2); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("adding /7 after Install did not panic")
		}
	}()
	e2.GET("/7", func(echo.Context) error { return nil })
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{IdleTimeout: time.Hour, Lifetime: 3 * time.Hour})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		for range 3 {
			app.clock.Advance(50 * time.Minute)
			if got := b.get("/0/get?key=k"); got.status != http.StatusOK {
				t.Fatalf("touched session expired early at %v: status %d %s", app.clock.Now(), got.status, got.body)
			}
		}
		app.clock.Advance(50 * time.Minute) // 200 min: past the 3 h lifetime
		if got := b.get("/0/get?key=k").status; got != http.StatusNotFound {
			t.Errorf("after lifetime: got status %d, want 404", got)
		}
		b2 := app.browser()
		b2.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		app.clock.Advance(61 * time.Minute)
		if got := b2.get("/0/get?key=k").status; got != http.StatusNotFound {
			t.Errorf("after idle timeout: got status %d, want 404", got)
		}
	})
}

func TestStoreDownDuringReadAnswers503(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		app.store.failErr = fmt.Errorf("dial tcp: %w", store.ErrUnavailable)
		app.store.failLoads.Store(1)
		r := b.get("/0/get?key=k").mustStatus(t, http.StatusServiceUnavailable)
		if r.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		if got := b.get("/0/get?key=k").mustStatus(t, http.StatusOK).body; got != "v" {
			t.Errorf("after the outage: got %q, want %q", got, "v")
		}
	})
}

func TestHandlerErrorCommitsNothingQueued(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		app.handle(http.MethodPost, "/invalid", func(w http.ResponseWriter, r *http.Request) {
			if err := SessionOf(r).Set("half", "done"); err != nil {
				fail(w, r, err)
				return
			}
			fail(w, r, &Error{Status: http.StatusBadRequest, Message: "bad quantity"})
		})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		b.post("/0/invalid", nil).mustStatus(t, http.StatusBadRequest)
		if got := b.get("/0/get?key=half").status; got != http.StatusNotFound {
			t.Errorf("write of a failed handler: got status %d, want 404", got)
		}
	})
}

func TestDiscardDropsQueuedChanges(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		app.handle(http.MethodPost, "/discard", func(w http.ResponseWriter, r *http.Request) {
			s := SessionOf(r)
			if err := s.Set("kept", "yes"); err != nil {
				fail(w, r, err)
				return
			}
			var n string
			if err := s.Update("counter", &n, func() error { n += "1"; return nil }); err != nil {
				fail(w, r, err)
				return
			}
			if err := s.Set("dropped", "yes"); err != nil {
				fail(w, r, err)
				return
			}
			if err := s.Tab().Flash("msg", "dropped too"); err != nil {
				fail(w, r, err)
				return
			}
			s.Discard()
			writeText(w, http.StatusOK, "ok")
		})
		b := app.browser()
		b.post("/0/discard", nil).mustStatus(t, http.StatusOK)
		for key, want := range map[string]int{"kept": http.StatusOK, "counter": http.StatusOK, "dropped": http.StatusNotFound} {
			if got := b.get("/0/get?key=" + key).status; got != want {
				t.Errorf("%s: got status %d, want %d", key, got, want)
			}
		}
		if page := b.get("/0/").body; strings.Contains(page, "dropped too") {
			t.Errorf("a discarded flash was shown: %q", page)
		}
	})
}

func TestUpkeepFailureDoesNotFailReads(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{IdleTimeout: time.Hour})
		b := app.browser()
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
		tab := b.openTab()
		app.clock.Advance(10 * time.Minute) // last-seen touches are due
		app.store.failErr = fmt.Errorf("no space left on device: %w", store.ErrUnavailable)
		app.store.failCommits.Store(100)
		if got := b.get("/0/get?key=k").mustStatus(t, http.StatusOK).body; got != "v" {
			t.Errorf("read while writes fail: got %q, want %q", got, "v")
		}
		b.get(tab+"/cart").mustStatus(t, http.StatusOK)
		b.post("/0/set", url.Values{"key": {"k"}, "value": {"w"}}).mustStatus(t, http.StatusServiceUnavailable)
	})
}

func TestDefaultStoreFileInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tabkit.db")
	first, err := New(Config{DBPath: path, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = New(Config{DBPath: path, Logger: discardLogger()})
	if !errors.Is(err, boltstore.ErrLocked) {
		t.Fatalf("second New on the same file: got %v, want an error wrapping boltstore.ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Errorf("error %q does not say the file is in use", err)
	}
}

func TestSkipperBypassesSessionAndTabs(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{Skipper: func(r *http.Request) bool { return r.URL.Path == "/skipped" }})
		app.handle(http.MethodGet, "/skipped", func(w http.ResponseWriter, r *http.Request) { writeHTML(w, http.StatusOK, `<a href="/cart">x</a>`) })
		r := app.browser().get("/skipped").mustStatus(t, http.StatusOK)
		if r.body != `<a href="/cart">x</a>` {
			t.Errorf("skipped route was rewritten: %q", r.body)
		}
		if got := app.store.ios(); got != 0 {
			t.Errorf("store calls on a skipped route: %d", got)
		}
	})
}
