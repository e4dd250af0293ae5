package kit

import (
	"fmt"
	"github.com/tabkit/tabkit/store"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/storetest"
)

// The tests above run on the in-memory store; these run the scenarios
// that matter most on a bbolt file, the store users meet by default.

func openBolt(t *testing.T, path string, clock *storetest.Clock) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(path, &boltstore.Options{Now: clock.Now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestBoltConcurrentTabsAndUpdates(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		clock := storetest.NewClock(timeNow())
		st := openBolt(t, filepath.Join(t.TempDir(), "tabkit.db"), clock)
		t.Cleanup(func() { st.Close() })
		app := newTestApp(t, a, Config{Store: st})
		b := app.browser()
		b.signIn()
		const tabs, adds = 16, 4
		prefixes := make([]string, tabs)
		for i := range prefixes {
			prefixes[i] = b.openTab()
		}
		parallel(tabs, func(i int) {
			for j := range adds {
				b.post(prefixes[i]+"/add", url.Values{"item": {fmt.Sprint(i, "-", j)}}).mustStatus(t, http.StatusSeeOther)
			}
		})
		for i, prefix := range prefixes {
			items := strings.Split(b.get(prefix+"/cart").body, ",")
			if len(items) != adds {
				t.Errorf("tab %s: got %d items, want %d", prefix, len(items), adds)
			}
			for _, item := range items {
				if !strings.HasPrefix(item, fmt.Sprint(i, "-")) {
					t.Errorf("tab %s holds %q", prefix, item)
				}
			}
		}
	})
}

func TestBoltSessionsSurviveReopen(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		path := filepath.Join(t.TempDir(), "tabkit.db")
		clock := storetest.NewClock(timeNow())
		st := openBolt(t, path, clock)
		app := newTestApp(t, a, Config{Store: st})
		b := app.browser()
		b.signIn()
		tab := b.openTab()
		b.post(tab+"/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		cookie := b.cookie()
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}

		reopened := openBolt(t, path, clock)
		t.Cleanup(func() { reopened.Close() })
		app2 := newTestApp(t, a, Config{Store: reopened})
		b2 := app2.browser()
		b2.setCookie(cookie)
		if got := b2.get(tab + "/cart").body; got != "tea" {
			t.Errorf("cart after reopening the file: got %q, want %q", got, "tea")
		}
		if got := b2.get("/0/get?key=user").body; got != "ann" {
			t.Errorf("user after reopening the file: got %q, want %q", got, "ann")
		}
	})
}

func TestBoltRegenerateAndDestroy(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		clock := storetest.NewClock(timeNow())
		st := openBolt(t, filepath.Join(t.TempDir(), "tabkit.db"), clock)
		t.Cleanup(func() { st.Close() })
		app := newTestApp(t, a, Config{Store: st})
		b := app.browser()
		b.post("/0/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		before := b.cookie()
		b.signIn()
		if b.cookie() == before {
			t.Fatal("sign-in kept the cookie value")
		}
		if _, found, _ := st.Load(t.Context(), store.HashToken(before)); found {
			t.Error("old record survived Regenerate")
		}
		if got := b.get("/0/cart").body; got != "tea" {
			t.Errorf("cart after sign-in: got %q, want %q", got, "tea")
		}
		id := b.cookie()
		b.post("/logout", nil).mustStatus(t, http.StatusSeeOther)
		if _, found, _ := st.Load(t.Context(), store.HashToken(id)); found {
			t.Error("record survived Destroy")
		}
	})
}
