package soak

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/tabkit/tabkit/internal/demoproc"
)

// TestSessionQuota starts the demo with room for two sessions and signs
// in a third browser: refused, it gets 503 with Retry-After while the
// first two keep working; evicting, it gets in and the browser seen
// least recently is signed out.
func TestSessionQuota(t *testing.T) {
	tests := []struct {
		whenFull string
		// wantThird is the third sign-in's status.
		wantThird int
		// firstKept says whether the first browser, the least recently
		// seen, is still signed in afterwards.
		firstKept bool
	}{
		{"refuse", http.StatusServiceUnavailable, true},
		{"evict", http.StatusSeeOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.whenFull, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "pos.db")
			d := startDemo(t, demoConfig{db: db, args: []string{"-max-sessions", "2", "-when-full", tt.whenFull}})
			tr := demoproc.NewTransport(t, 4)
			first, second, third := newBrowser(t, tr, d.URL()), newBrowser(t, tr, d.URL()), newBrowser(t, tr, d.URL())
			first.SignIn(testPIN, "Ann")
			second.SignIn(testPIN, "Bob")
			mustAdd(t, first, "COF-001")
			mustAdd(t, second, "TEA-001")

			got := third.TrySignIn(testPIN, "Cy")
			if got.Status != tt.wantThird {
				t.Fatalf("third sign-in: got %d, want %d\n%s", got.Status, tt.wantThird, got.Body)
			}
			if got.Status == http.StatusServiceUnavailable && got.Header.Get("Retry-After") == "" {
				t.Error("the 503 has no Retry-After")
			}

			mustAdd(t, second, "TEA-001")
			if c := second.Cart(0); c["TEA-001"] != 2 {
				t.Errorf("second browser's cart: got %v, want TEA-001 × 2", c)
			}
			if tt.firstKept {
				mustAdd(t, first, "COF-001")
				if c := first.Cart(0); c["COF-001"] != 2 {
					t.Errorf("first browser's cart: got %v, want COF-001 × 2", c)
				}
			} else {
				got, err := first.Add(0, "COF-001", 1)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != http.StatusSeeOther || got.Location() != "/login?next=%2F0%2F" {
					t.Errorf("evicted browser's add: got %d to %q, want 303 to sign in", got.Status, got.Location())
				}
			}

			d.Stop()
			if stats, listed := storedSessions(t, db); stats.Sessions != 2 || listed != 2 {
				t.Errorf("%d sessions counted, %d listed; want 2", stats.Sessions, listed)
			}
		})
	}
}

// mustAdd adds one of sku to tab 0 and fails unless the demo
// acknowledges it.
func mustAdd(t *testing.T, b *demoproc.Browser, sku string) {
	t.Helper()
	got, err := b.Add(0, sku, 1)
	if err != nil {
		t.Fatalf("add %s: %v", sku, err)
	}
	if !isAck(got, 0) {
		t.Fatalf("add %s: got %d to %q, want 303 to /0/\n%s", sku, got.Status, got.Location(), got.Body)
	}
}
