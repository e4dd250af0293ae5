package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects a running server's log.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startDemo runs the command on a free port until stop is called, which
// returns run's error.
func startDemo(t *testing.T, args ...string) (base string, stop func() error) {
	t.Helper()
	base, stop, _ = runDemo(t, append([]string{"-addr", "127.0.0.1:0", "-pin", testPIN}, args...), nil)
	return base, stop
}

// runDemo runs the command with args and the environment env until stop
// is called, which returns run's error; log collects what it logs.
func runDemo(t *testing.T, args []string, env map[string]string) (base string, stop func() error, log *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log = &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, log)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listeningLine.FindStringSubmatch(log.String()); m != nil {
			base = "http://" + m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("demo exited: %v\n%s", err, log.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("demo did not start:\n%s", log.String())
		}
	}
	return base, func() error {
		cancel()
		return <-done
	}, log
}

func TestStateSurvivesARestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pos.db")
	base, stop := startDemo(t, "-db", db)
	srv := &httptest.Server{URL: base}
	b := newBrowser(t, srv)
	b.signIn("Ann")
	b.post("/0/cart/items", url.Values{"sku": {"COF-003"}, "qty": {"2"}})
	b.post("/0/checkout", nil)
	b.post("/0/cart/items", url.Values{"sku": {"TEA-002"}})
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	base, stop = startDemo(t, "-db", db)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	// Cookies ignore ports, so the browser keeps its session on the new one.
	b.base, _ = url.Parse(base)
	if cart := readCart(t, b, "/0/cart.json"); len(cart.Items) != 1 || cart.Items[0].SKU != "TEA-002" {
		t.Errorf("cart after restart: got %+v, want 1 × TEA-002", cart.Items)
	}
	if sales := readSales(t, b); len(sales) != 1 || sales[0].TotalCents != 600 {
		t.Errorf("sales after restart: got %+v, want one of 600 cents", sales)
	}
}
