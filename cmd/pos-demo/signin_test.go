package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWrongPINKeepsTheNameAndDoesNotResubmit: a wrong PIN is answered
// with a redirect (post, redirect, get) to a page that says so and keeps
// the typed name, so reloading it sends nothing.
func TestWrongPINKeepsTheNameAndDoesNotResubmit(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.get("/0/sales")
	got := b.post("/login", url.Values{"pin": {"0000"}, "name": {"Ann <b>"}, "next": {"/0/sales"}})
	mustStatus(t, "wrong PIN", got, http.StatusSeeOther)
	u, err := url.Parse(got.location())
	if err != nil || u.Path != "/login" || u.Query().Get("next") != "/0/sales" {
		t.Fatalf("Location: got %q, want /login with next=/0/sales", got.location())
	}
	if strings.Contains(got.location(), "0000") {
		t.Errorf("the PIN is in the Location %q", got.location())
	}
	page := b.get(got.location())
	mustStatus(t, "the error page", page, http.StatusOK)
	for _, want := range []string{wrongPINMessage, `value="Ann &lt;b&gt;"`, `name="next" value="/0/sales"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the page after a wrong PIN lacks %s", want)
		}
	}
	if b.cookie("tabkit") != "" {
		t.Error("a wrong PIN made a session")
	}
	right := b.post("/login", url.Values{"pin": {testPIN}, "name": {"Ann"}, "next": {"/0/sales"}})
	if right.status != http.StatusSeeOther || right.location() != "/0/sales" {
		t.Errorf("sign-in after a wrong PIN: got %d to %q", right.status, right.location())
	}
}

// fakeClock is a throttle's clock that moves only when told.
type fakeClock struct {
	// mu guards now.
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// throttledServer serves the demo with a small throttle on a fake clock,
// logging to log.
func throttledServer(t *testing.T, cfg ThrottleConfig, trusted string, log *lockedBuffer) (*browser, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	cfg.Now = clock.Now
	proxies, err := parseTrustedProxies(trusted)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newTestServerWith(t, func(c *serverConfig) {
		c.SignIn = cfg
		c.TrustedProxies = proxies
		c.Logger = slog.New(slog.NewTextHandler(log, nil))
	})
	b := newBrowser(t, srv)
	b.get("/login")
	return b, clock
}

// signInFrom posts a sign-in with an X-Forwarded-For, as a proxy would.
func signInFrom(t *testing.T, b *browser, pin, forwardedFor string) answer {
	t.Helper()
	req := formRequest(t, b, "/login", url.Values{"pin": {pin}, "csrf": {b.csrf}, "next": {"/0/"}})
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
		req.Header.Set("X-Real-IP", forwardedFor)
	}
	return b.do(req)
}

func TestWrongPINsAreThrottledPerClient(t *testing.T) {
	log := &lockedBuffer{}
	b, clock := throttledServer(t, ThrottleConfig{ClientBurst: 2, ClientEvery: 20 * time.Second, Burst: 100}, "", log)
	for i := range 2 {
		mustStatus(t, "wrong PIN", signInFrom(t, b, "0000", ""), http.StatusSeeOther)
		_ = i
	}
	// Spelled several ways, the refusal stays: other forwarded addresses
	// (ignored without -trusted-proxy), the right PIN (not even checked).
	for _, tt := range []struct{ pin, xff string }{
		{"0000", ""}, {"0000", "203.0.113.9"}, {testPIN, ""}, {testPIN, "198.51.100.1"},
	} {
		got := signInFrom(t, b, tt.pin, tt.xff)
		mustStatus(t, "throttled sign-in", got, http.StatusTooManyRequests)
		if ra := got.header.Get("Retry-After"); ra != "20" {
			t.Errorf("Retry-After: got %q, want 20", ra)
		}
		if !strings.Contains(got.body, "Too many wrong PINs") {
			t.Errorf("429 page does not say why:\n%s", got.body)
		}
	}
	if n := strings.Count(log.String(), "sign-in throttled"); n != 1 {
		t.Errorf("4 refusals in one minute logged %d times, want once:\n%s", n, log.String())
	}
	if b.cookie("tabkit") != "" {
		t.Error("a throttled sign-in made a session")
	}

	clock.Advance(20 * time.Second)
	if got := signInFrom(t, b, testPIN, ""); got.status != http.StatusSeeOther || got.location() != "/0/" {
		t.Fatalf("sign-in once the wait is over: got %d to %q", got.status, got.location())
	}
	// The right PIN gave its token back: the next wrong one is let
	// through to be checked.
	mustStatus(t, "wrong PIN after a right one", signInFrom(t, b, "0000", ""), http.StatusSeeOther)

	clock.Advance(time.Minute)
	for range 3 {
		signInFrom(t, b, "0000", "")
	}
	if n := strings.Count(log.String(), "sign-in throttled"); n != 2 {
		t.Errorf("a refusal in the next minute: logged %d times in all, want 2", n)
	}
}

func TestWrongPINsAreThrottledOverall(t *testing.T) {
	log := &lockedBuffer{}
	b, _ := throttledServer(t, ThrottleConfig{ClientBurst: 100, Burst: 3, Every: 10 * time.Second}, "127.0.0.1", log)
	// Behind a trusted proxy each forwarded address is a client of its
	// own, so only the overall bucket stops a spread-out guesser.
	for i, client := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		mustStatus(t, "wrong PIN from "+client, signInFrom(t, b, "0000", client), http.StatusSeeOther)
		_ = i
	}
	got := signInFrom(t, b, "0000", "203.0.113.4")
	mustStatus(t, "a fourth client", got, http.StatusTooManyRequests)
	if ra := got.header.Get("Retry-After"); ra != "10" {
		t.Errorf("Retry-After: got %q, want 10", ra)
	}
	if !strings.Contains(log.String(), "too many wrong PINs overall") {
		t.Errorf("the overall refusal is not logged:\n%s", log.String())
	}
}

func TestThrottleSeparatesClientsBehindATrustedProxy(t *testing.T) {
	b, _ := throttledServer(t, ThrottleConfig{ClientBurst: 1, Burst: 100}, "127.0.0.0/8", &lockedBuffer{})
	mustStatus(t, "first client", signInFrom(t, b, "0000", "203.0.113.7"), http.StatusSeeOther)
	mustStatus(t, "first client again", signInFrom(t, b, "0000", "203.0.113.7"), http.StatusTooManyRequests)
	// IPv6 clients are kept by /64: a neighbour address is the same one.
	mustStatus(t, "v6 client", signInFrom(t, b, "0000", "2001:db8:1:2::1"), http.StatusSeeOther)
	mustStatus(t, "v6 neighbour", signInFrom(t, b, "0000", "2001:db8:1:2::99"), http.StatusTooManyRequests)
	if got := signInFrom(t, b, testPIN, "198.51.100.20"); got.status != http.StatusSeeOther || got.location() != "/0/" {
		t.Errorf("another client: got %d to %q, want signed in", got.status, got.location())
	}
}

func TestThrottleForgetsIdleClients(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	th := newPINThrottle(ThrottleConfig{ClientBurst: 1, ClientEvery: time.Second, MaxClients: 2, Now: clock.Now}, slog.New(slog.DiscardHandler))
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		if a := th.begin(ip); a.refused() != 0 {
			t.Fatalf("%s refused", ip)
		}
	}
	// Both buckets are empty and the table full: a third client shares
	// the overflow bucket rather than growing the table.
	th.begin("192.0.2.3").failed()
	if a := th.begin("192.0.2.4"); a.refused() == 0 {
		t.Error("the overflow bucket is not shared")
	}
	if len(th.clients) != 2 {
		t.Errorf("%d clients remembered, want at most 2", len(th.clients))
	}
	// Once full again they are forgotten to make room.
	clock.Advance(2 * time.Minute)
	if a := th.begin("192.0.2.5"); a.refused() != 0 {
		t.Error("a new client refused after the others went idle")
	}
	if _, ok := th.clients[clientKey("192.0.2.5")]; !ok {
		t.Error("the new client did not get a bucket of its own")
	}
}

func TestWaitText(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{time.Millisecond, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
		{20 * time.Second, "20 seconds"},
		{2 * time.Minute, "2 minutes"},
		{time.Hour, "60 minutes"},
	}
	for _, tt := range tests {
		if got := waitText(tt.in); got != tt.want {
			t.Errorf("waitText(%v): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestThePINIsNeverLogged runs the command with the PIN from each
// source, signs in wrongly and rightly, and reads the whole log.
func TestThePINIsNeverLogged(t *testing.T) {
	const pin = "90210573"   // eight digits: no duration or size in the log has as many in a row
	const wrong = "55501234" // what a cashier mistyped
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(pin+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantFrom string
	}{
		{"flag", []string{"-pin", pin}, nil, "from=-pin"},
		{"file", []string{"-pin-file", pinFile}, nil, "from=-pin-file"},
		{"environment", nil, map[string]string{pinEnv: pin}, "from=$" + pinEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-addr", "127.0.0.1:0", "-store", "memory"}, tt.args...)
			base, stop, log := runDemo(t, args, tt.env)
			b := newBrowser(t, &httptest.Server{URL: base})
			b.get("/login")
			mustStatus(t, "wrong PIN", b.post("/login", url.Values{"pin": {wrong}, "name": {"Ann"}}), http.StatusSeeOther)
			mustStatus(t, "right PIN", b.post("/login", url.Values{"pin": {pin}, "name": {"Ann"}}), http.StatusSeeOther)
			mustStatus(t, "signed in", b.get("/sales.json"), http.StatusOK)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			text := log.String()
			for _, secret := range []string{pin, wrong} {
				if strings.Contains(text, secret) {
					t.Errorf("the log holds %q:\n%s", secret, text)
				}
			}
			if !strings.Contains(text, tt.wantFrom) || !strings.Contains(text, "sign-in refused: wrong PIN") {
				t.Errorf("the log does not say where the PIN came from (%s) or that one was wrong:\n%s", tt.wantFrom, text)
			}
		})
	}
	t.Run("flag and file", func(t *testing.T) {
		if _, err := parseFlags([]string{"-pin", pin, "-pin-file", pinFile}, &lockedBuffer{}); err == nil {
			t.Error("both were accepted")
		}
	})
}

func TestCashierPIN(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		o                options
		env              string
		wantPIN, wantErr string
	}{
		{"default", options{}, "", defaultPIN, ""},
		{"flag wins over the environment", options{pin: "11"}, "22", "11", ""},
		{"environment", options{}, "22", "22", ""},
		{"empty file", options{pinFile: empty}, "", "", "is empty"},
		{"missing file", options{pinFile: empty + "-not"}, "", "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin, _, err := cashierPIN(tt.o, func(k string) string {
				if k == pinEnv {
					return tt.env
				}
				return ""
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || pin != tt.wantPIN {
				t.Errorf("got %q, %v; want %q", pin, err, tt.wantPIN)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := parseTrustedProxies(" 10.0.0.1, 192.168.0.0/16,::1 ,")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("::1/128")}
	if err != nil || len(got) != len(want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d]: got %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0", "10.0.0.0/33", "example.com"} {
		if _, err := parseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
