package soak

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/internal/demoproc"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
)

// refusingStore refuses every commit once full is set, as a store on a
// full disk does.
type refusingStore struct {
	store.Store
	full atomic.Bool
}

func (s *refusingStore) Commit(ctx context.Context, id string, d store.Delta) (store.Meta, error) {
	if s.full.Load() {
		return store.Meta{}, store.ErrUnavailable
	}
	return s.Store.Commit(ctx, id, d)
}

// TestReadsWhileWritesAreRefused is the disk-full test's "reads keep
// working" after the demo's first minute, which a process-level test
// cannot wait for: a session's stored last-seen time (and its tab's) is
// rewritten by the first request after kit.Config.TouchInterval (one
// minute in the demo), reads included. Here the interval is a nanosecond
// and the store refuses writes, so every read is one whose touch is due;
// it must still be answered, as a touch can wait for the next request.
//
// It runs in-process on the kit, since the demo has no flag for the
// interval.
func TestReadsWhileWritesAreRefused(t *testing.T) {
	st := &refusingStore{Store: store.NewMemory()}
	m, err := kit.New(kit.Config{Store: st, TouchInterval: time.Nanosecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	if err := m.Install(e); err != nil {
		t.Fatal(err)
	}
	e.POST("/note", kit.Handler(func(c *kit.Context) error {
		if err := c.Session().Tab().Set("note", c.FormValue("note")); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/note")
	}))
	e.GET("/note", kit.Handler(func(c *kit.Context) error {
		var note string
		if _, err := c.Session().Tab().Get("note", &note); err != nil {
			return err
		}
		return c.String(http.StatusOK, note)
	}))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	b := newBrowser(t, demoproc.NewTransport(t, 1), srv.URL)
	demoproc.MustStatus(t, "write tab 0", b.PostForm("/0/note", url.Values{"note": {"zero"}}), http.StatusSeeOther)
	tab := b.OpenTab()
	demoproc.MustStatus(t, "write the new tab", b.PostForm(demoproc.TabPath(tab, "/note"), url.Values{"note": {"one"}}), http.StatusSeeOther)

	st.full.Store(true)
	for _, tt := range []struct {
		tab  int
		want string
	}{{0, "zero"}, {tab, "one"}} {
		got := b.Get(demoproc.TabPath(tt.tab, "/note"))
		if got.Status != http.StatusOK || got.Body != tt.want {
			t.Errorf("read of tab %d while writes are refused: got %d %q, want 200 %q", tt.tab, got.Status, got.Body, tt.want)
		}
	}
}
