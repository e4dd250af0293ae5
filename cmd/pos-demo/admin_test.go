package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/admin"
)

var adminLine = regexp.MustCompile(`msg="admin endpoint listening" admin_addr=(\S+)`)

// startDemoWithAdmin runs the demo with an admin endpoint on a free port
// and returns both base URLs.
func startDemoWithAdmin(t *testing.T, args ...string) (base, adminBase string) {
	t.Helper()
	log := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	all := append([]string{"-addr", "127.0.0.1:0", "-pin", testPIN, "-admin-addr", "127.0.0.1:0"}, args...)
	go func() { done <- run(ctx, all, func(string) string { return "" }, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, a := listeningLine.FindStringSubmatch(log.String()), adminLine.FindStringSubmatch(log.String())
		if l != nil && a != nil {
			return "http://" + l[1], "http://" + a[1]
		}
		select {
		case err := <-done:
			t.Fatalf("demo exited: %v\n%s", err, log.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not start:\n%s", log.String())
		}
	}
}

// TestFullStoreRefusesNewSessions: with -max-sessions 1 a second browser
// gets 503 with Retry-After, while the first keeps working, and the
// refusal shows in the metrics.
func TestFullStoreRefusesNewSessions(t *testing.T) {
	base, adminBase := startDemoWithAdmin(t, "-db", filepath.Join(t.TempDir(), "pos.db"), "-max-sessions", "1")
	srv := &httptest.Server{URL: base}
	first := newBrowser(t, srv)
	first.signIn("Ann")

	second := newBrowser(t, srv)
	second.get("/0/")
	got := second.post("/login", url.Values{"pin": {testPIN}, "name": {"Bob"}, "next": {"/0/"}})
	mustStatus(t, "second sign-in on a full store", got, http.StatusServiceUnavailable)
	if got.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}

	mustStatus(t, "first browser adds to its cart", first.post("/0/cart/items", url.Values{"sku": {"COF-003"}}), http.StatusSeeOther)
	if page := first.get("/0/"); !strings.Contains(page.body, "COF-003") {
		t.Errorf("first browser's cart lost its item:\n%s", page.body)
	}

	metrics := httpGet(t, adminBase+"/metrics")
	for _, line := range []string{`tabkit_store_refusals_total{reason="full"} 1`, "tabkit_store_sessions 1"} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

// TestAdminEndpoint runs the admin operations against a running demo.
func TestAdminEndpoint(t *testing.T) {
	base, adminBase := startDemoWithAdmin(t, "-db", filepath.Join(t.TempDir(), "pos.db"))
	b := newBrowser(t, &httptest.Server{URL: base})
	b.signIn("Ann")
	b.post("/0/cart/items", url.Values{"sku": {"TEA-002"}})

	ctx := context.Background()
	c, err := admin.NewClient(adminBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.Sessions(ctx)
	if err != nil || len(list) != 1 || len(list[0].ID) != admin.PrefixLength {
		t.Fatalf("Sessions: got %+v, %v", list, err)
	}
	d, err := c.Show(ctx, list[0].ID)
	if err != nil {
		t.Fatalf("Show: %v", err)
	}
	var cart string
	for _, v := range d.Values {
		if v.Tab != nil && v.Key == "cart" {
			cart = string(v.JSON)
		}
	}
	if !strings.Contains(cart, "TEA-002") {
		t.Errorf("Show: no cart with TEA-002 in %+v", d.Values)
	}
	if _, err := c.Compact(ctx); err != nil {
		t.Errorf("Compact on the running demo: %v", err)
	}
	if page := b.get("/0/"); !strings.Contains(page.body, "TEA-002") {
		t.Error("the cart is gone after compaction")
	}
	if _, err := c.Clear(ctx, false); err == nil {
		t.Error("Clear without force went through")
	}
	if _, err := c.Delete(ctx, list[0].ID); err != nil {
		t.Errorf("Delete: %v", err)
	}
	// The operator's Delete went through the kit: the demo heard of it,
	// and the terminal is told who signed it out.
	if page := b.get("/0/"); !strings.Contains(page.body, "You were signed out by the shop&#39;s operator at ") {
		t.Errorf("after Delete the terminal is not told the operator signed it out: %d\n%s", page.status, page.body)
	}

	// A principal's sessions, listed and ended over the endpoint.
	others := []*browser{newBrowser(t, &httptest.Server{URL: base}), newBrowser(t, &httptest.Server{URL: base})}
	for _, o := range others {
		o.signIn("Bea")
	}
	if list, err := c.SessionsOf(ctx, "Bea"); err != nil || len(list) != 2 || list[0].Principal != "Bea" {
		t.Errorf("SessionsOf(Bea): got %+v, %v", list, err)
	}
	if n, err := c.EndSessionsOf(ctx, "Bea"); err != nil || n != 2 {
		t.Errorf("EndSessionsOf(Bea): got %d, %v; want 2", n, err)
	}
	for i, o := range others {
		if page := o.get("/0/sales"); !strings.Contains(page.body, "signed out by the shop&#39;s operator") {
			t.Errorf("Bea's terminal %d is not told why:\n%s", i, page.body)
		}
	}
	metrics := httpGet(t, adminBase+"/metrics")
	for _, name := range []string{`tabkit_commits_total{result="ok"}`, "tabkit_store_commit_batch_size_count", "tabkit_store_tabs", "go_goroutines",
		`tabkit_session_events_total{event="destroyed"} 3`} {
		if !strings.Contains(metrics, name+" ") && !strings.Contains(metrics, name+"\n") {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", u, res.StatusCode, body)
	}
	return string(body)
}

func TestQuotaFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    limits
		wantErr string
	}{
		{nil, defaultLimits, ""},
		{[]string{"-max-sessions", "5", "-max-bytes", "1000", "-max-session-bytes", "100", "-when-full", "evict"},
			limits{maxSessions: 5, maxBytes: 1000, maxSessionBytes: 100, whenFull: "evict"}, ""},
		{[]string{"-when-full", "drop"}, limits{}, "want refuse or evict"},
		{[]string{"-max-bytes", "-1"}, limits{}, "negative"},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, io.Discard)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: got %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || o.limits != tt.want {
			t.Errorf("%v: got %+v, %v; want %+v", tt.args, o.limits, err, tt.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9090": true, "[::1]:9090": true, "localhost:9090": true,
		":9090": false, "0.0.0.0:9090": false, "192.168.1.5:9090": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestMetricsChecksTheHost: /metrics answers only to a Host that is an
// IP address or localhost, as /admin/ does, so a DNS-rebinding page
// (whose own name resolves to 127.0.0.1) cannot read it.
func TestMetricsChecksTheHost(t *testing.T) {
	_, adminBase := startDemoWithAdmin(t, "-store", "memory")
	port := adminBase[strings.LastIndexByte(adminBase, ':')+1:]
	tests := []struct {
		path, host string
		want       int
	}{
		{"/metrics", "127.0.0.1:" + port, http.StatusOK},
		{"/metrics", "localhost:" + port, http.StatusOK},
		{"/metrics", "[::1]:" + port, http.StatusOK},
		{"/metrics", "localhost", http.StatusOK},
		{"/metrics", "rebind.example:" + port, http.StatusForbidden},
		{"/metrics", "rebind.example", http.StatusForbidden},
		{"/metrics", "localhost.rebind.example:" + port, http.StatusForbidden},
		{"/admin/stats", "rebind.example:" + port, http.StatusForbidden},
		{"/admin/stats", "127.0.0.1:" + port, http.StatusOK},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodGet, adminBase+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tt.host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("GET %s with Host %s: got %d, want %d", tt.path, tt.host, res.StatusCode, tt.want)
		}
		if tt.want == http.StatusOK && tt.path == "/metrics" && !strings.Contains(string(body), "go_goroutines") {
			t.Errorf("GET /metrics with Host %s: no metrics", tt.host)
		}
	}
}
