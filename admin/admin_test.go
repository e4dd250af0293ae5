package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

const (
	idA  = "sharedPfx-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	idB  = "sharedPfx-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	idC  = "uniqueCC-ccccccccccccccccccccccccccccccccccc"
	life = time.Hour
)

func memoryStore(t *testing.T) store.Store {
	t.Helper()
	st := store.NewMemory()
	now := time.Now()
	for _, id := range []string{idA, idB, idC} {
		d := store.Delta{Create: true, LastSeen: now, IdleDeadline: now.Add(life),
			Set: map[store.Key][]byte{store.SessionKey("n"): []byte(`"` + id[:3] + `"`)}}
		if _, err := st.Commit(context.Background(), id, d); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// opsUnderTest are Admin and Client, which must behave alike.
type opsUnderTest interface {
	Sessions(ctx context.Context) ([]Session, error)
	Show(ctx context.Context, id string) (Detail, error)
	Delete(ctx context.Context, id string) (Session, error)
	Clear(ctx context.Context, force bool) (int, error)
	Stats(ctx context.Context) (Stats, error)
	GC(ctx context.Context) (SweepResult, error)
	Compact(ctx context.Context) (CompactResult, error)
	SessionsOf(ctx context.Context, p string) ([]Session, error)
	EndSessionsOf(ctx context.Context, p string) (int, error)
	Rekey(ctx context.Context) (RekeyResult, error)
}

// serve returns a Client of a's Handler.
func serve(t *testing.T, a *Admin) *Client {
	t.Helper()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// onBoth runs test on an Admin of st and on a Client of its Handler,
// each on a store of its own from newStore.
func onBoth(t *testing.T, newStore func(t *testing.T) store.Store, test func(t *testing.T, o opsUnderTest)) {
	t.Run("Admin", func(t *testing.T) { test(t, New(newStore(t))) })
	t.Run("Client", func(t *testing.T) { test(t, serve(t, New(newStore(t)))) })
}

func both(t *testing.T, test func(t *testing.T, o opsUnderTest)) {
	onBoth(t, memoryStore, test)
}

func TestErrors(t *testing.T) {
	both(t, func(t *testing.T, o opsUnderTest) {
		ctx := context.Background()
		tests := []struct {
			name string
			call func() error
			want error
		}{
			{"short prefix", func() error { _, err := o.Show(ctx, "uniq"); return err }, ErrShortPrefix},
			{"ambiguous prefix", func() error { _, err := o.Show(ctx, "sharedPfx"); return err }, ErrAmbiguous},
			{"unknown", func() error { _, err := o.Delete(ctx, "nobody-here"); return err }, ErrNotFound},
			{"clear without force", func() error { _, err := o.Clear(ctx, false); return err }, ErrRefused},
			{"compact a memory store", func() error { _, err := o.Compact(ctx); return err }, ErrUnsupported},
		}
		for _, tt := range tests {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			}
		}
		if list, err := o.Sessions(ctx); err != nil || len(list) != 3 {
			t.Errorf("after refusals: %d sessions, err %v; want 3", len(list), err)
		}
	})
}

func TestOperations(t *testing.T) {
	both(t, func(t *testing.T, o opsUnderTest) {
		ctx := context.Background()
		d, err := o.Show(ctx, "uniqueCC")
		if err != nil || d.ID != "uniqueCC" || len(d.Values) != 1 || string(d.Values[0].JSON) != `"uni"` {
			t.Errorf("Show: got %+v, %v", d, err)
		}
		d, err = o.Show(ctx, idA)
		if err != nil || d.ID != "sharedPf" {
			t.Errorf("Show by full ID: got %+v, %v", d, err)
		}
		if s, err := o.Delete(ctx, "sharedPfx-b"); err != nil || s.ID != "sharedPf" {
			t.Errorf("Delete: got %+v, %v", s, err)
		}
		st, err := o.Stats(ctx)
		if err != nil || st.Sessions != 2 || st.Tabs != 2 {
			t.Errorf("Stats: got %+v, %v", st, err)
		}
		if _, err := o.GC(ctx); err != nil {
			t.Errorf("GC: %v", err)
		}
		if n, err := o.Clear(ctx, true); err != nil || n != 2 {
			t.Errorf("Clear: got %d, %v; want 2", n, err)
		}
		if list, err := o.Sessions(ctx); err != nil || list == nil || len(list) != 0 {
			t.Errorf("Sessions after Clear: got %#v, %v; want empty", list, err)
		}
	})
}

func TestHandlerGuard(t *testing.T) {
	h := Handler(memoryStore(t))
	tests := []struct {
		name, method, target, host string
		header                     bool
		want                       int
	}{
		{"list", "GET", "/admin/sessions", "127.0.0.1:9090", false, http.StatusOK},
		{"list via localhost", "GET", "/admin/sessions", "localhost:9090", false, http.StatusOK},
		{"rebound DNS name", "GET", "/admin/sessions", "evil.example:9090", false, http.StatusForbidden},
		{"form post without header", "POST", "/admin/clear?force=1", "127.0.0.1:9090", false, http.StatusForbidden},
		{"delete without header", "DELETE", "/admin/sessions/uniqueCC", "127.0.0.1:9090", false, http.StatusForbidden},
		{"clear without force", "POST", "/admin/clear", "127.0.0.1:9090", true, http.StatusBadRequest},
		{"end without header", "POST", "/admin/end?principal=n", "127.0.0.1:9090", false, http.StatusForbidden},
		{"rekey without header", "POST", "/admin/rekey", "127.0.0.1:9090", false, http.StatusForbidden},
		{"end of nobody", "POST", "/admin/end", "127.0.0.1:9090", true, http.StatusBadRequest},
		{"end by GET", "GET", "/admin/end?principal=n", "127.0.0.1:9090", false, http.StatusMethodNotAllowed},
		{"unknown session", "GET", "/admin/sessions/nobody-here", "[::1]:9090", false, http.StatusNotFound},
		{"wrong method", "GET", "/admin/gc", "127.0.0.1:9090", false, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		r.Host = tt.host
		if tt.header {
			r.Header.Set(HeaderName, "1")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s: status %d, want %d: %s", tt.name, w.Code, tt.want, w.Body)
		}
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: answered with CORS headers", tt.name)
		}
	}
	// Nothing was deleted by the refused requests.
	r := httptest.NewRequest("GET", "/admin/stats", nil)
	r.Host = "127.0.0.1:9090"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), `"sessions": 3`) {
		t.Errorf("stats after refused requests: %s", w.Body)
	}
}

func TestFlashDecoding(t *testing.T) {
	tests := []struct {
		name  string
		value []byte
		items int
		raw   bool
	}{
		{"two items", []byte("\x03\"a\"\x03\"b\""), 2, false},
		{"empty list", nil, 0, false},
		{"truncated", []byte("\x09\"a\""), 0, true},
		{"item not JSON", []byte("\x02ab"), 0, true},
	}
	for _, tt := range tests {
		v := decodeValue(store.TabKey(2, flashPrefix+"msg"), tt.value)
		if !v.Flash || len(v.Flashes) != tt.items || (v.Raw != nil) != tt.raw || *v.Tab != 2 {
			t.Errorf("%s: got %+v", tt.name, v)
		}
	}
}
