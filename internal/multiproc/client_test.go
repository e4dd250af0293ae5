package multiproc

import (
	"net/http"
	"testing"

	"github.com/tabkit/tabkit/internal/demoproc"
)

// sessionCookie is the kit's default cookie name, which the demo keeps.
const sessionCookie = "tabkit"

// transport keeps enough idle connections for the concurrent clients of
// a test.
var transport = &http.Transport{
	MaxIdleConns:        128,
	MaxIdleConnsPerHost: 64,
}

// signIn signs a new browser in through d and checks it got a session
// cookie. The browser's cookies go with it to the other processes:
// b.At(d.URL()) sends through d.
func signIn(t *testing.T, d *demoproc.Demo, name string) *demoproc.Browser {
	t.Helper()
	b := demoproc.NewBrowser(t, d.URL(), transport, requestTimeout)
	b.SignIn(demoPIN, name)
	if session, ok := b.Cookie(sessionCookie); !ok || session.Value == "" {
		t.Fatalf("sign-in via %s set no %q cookie", d.Name(), sessionCookie)
	}
	return b
}

// cart reads tab's cart through d as sku → quantity, and fails t if it
// lists a product twice.
func cart(t *testing.T, b *demoproc.Browser, d *demoproc.Demo, tab int) map[string]int {
	t.Helper()
	got := make(map[string]int)
	for _, it := range b.At(d.URL()).CartLines(tab) {
		if _, dup := got[it.SKU]; dup {
			t.Errorf("cart of tab %d via %s lists %s twice", tab, d.Name(), it.SKU)
		}
		got[it.SKU] += it.Qty
	}
	return got
}

func mustRedirect(t *testing.T, what string, a demoproc.Answer, location string) {
	t.Helper()
	if a.Status != http.StatusSeeOther || a.Location() != location {
		t.Fatalf("%s: got %s, want a 303 to %s", what, a, location)
	}
}
