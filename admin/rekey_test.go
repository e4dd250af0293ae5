package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
)

// Ender is what *kit.Manager offers.
var _ Ender = (*kit.Manager)(nil)

// legacyStore holds sessions as a kit from before hashed IDs stored
// them, under their tokens, and one under a hash, as kit stores them now.
func legacyStore(t *testing.T, now time.Time) store.Store {
	t.Helper()
	st := store.NewMemoryWith(store.MemoryOptions{SweepInterval: -1})
	t.Cleanup(func() { st.Close() })
	commit := func(id string, d store.Delta) {
		t.Helper()
		if _, err := st.Commit(context.Background(), id, d); err != nil {
			t.Fatal(err)
		}
	}
	commit(token("ann"), store.Delta{
		Create: true, LastSeen: now, IdleDeadline: now.Add(time.Hour), AbsDeadline: now.Add(48 * time.Hour),
		EditMeta: func(m *store.Meta) error {
			m.Tabs[1] = store.TabInfo{Created: now, LastSeen: now, Label: "Front till"}
			m.NextTab = 4
			return nil
		},
		Set: map[store.Key][]byte{
			store.SessionKey("who"): []byte(`"ann"`),
			store.TabKey(1, "cart"): []byte(`["TEA-002"]`),
			store.TabKey(1, "code"): []byte(`"4711"`),
		},
		Expires:      map[store.Key]time.Time{store.TabKey(1, "code"): now.Add(10 * time.Minute)},
		SetPrincipal: true, Principal: "ann",
	})
	commit(token("bob"), store.Delta{Create: true, LastSeen: now, IdleDeadline: now.Add(time.Hour)})
	commit(store.HashToken(token("cy")), store.Delta{Create: true, LastSeen: now, IdleDeadline: now.Add(time.Hour)})
	return st
}

func TestRekey(t *testing.T) {
	now := time.Now().Truncate(time.Millisecond)
	var before store.Record
	newStore := func(t *testing.T) store.Store {
		st := legacyStore(t, now)
		rec, _, err := st.Load(context.Background(), token("ann"))
		if err != nil {
			t.Fatal(err)
		}
		before = rec
		return st
	}
	onBoth(t, newStore, func(t *testing.T, o opsUnderTest) {
		ctx := context.Background()
		res, err := o.Rekey(ctx)
		if err != nil || res.Rekeyed != 2 {
			t.Fatalf("Rekey: got %+v, %v; want 2", res, err)
		}
		list, err := o.Sessions(ctx)
		if err != nil || len(list) != 3 {
			t.Fatalf("Sessions: %d, %v; want 3", len(list), err)
		}
		for _, s := range list {
			if s.KeyedByToken || s.Handle == "" {
				t.Errorf("after Rekey: %+v", s)
			}
		}
		d, err := o.Show(ctx, store.HashToken(token("ann")))
		if err != nil {
			t.Fatal(err)
		}
		if d.Principal != "ann" || d.Bytes != before.Meta.Bytes || d.NextTab != 4 || len(d.TabTable) != 1 || d.TabTable[0].Label != "Front till" ||
			!d.IdleDeadline.Equal(before.Meta.IdleDeadline) || !d.AbsDeadline.Equal(before.Meta.AbsDeadline) || !d.LastSeen.Equal(now) {
			t.Errorf("moved session: got %+v\nwant the meta of %+v", d, before.Meta)
		}
		if len(d.Values) != 3 || d.Values[2].Key != "code" || !d.Values[2].Expires.Equal(now.Add(10*time.Minute)) {
			t.Errorf("moved values: got %+v", d.Values)
		}
		if _, err := o.Show(ctx, token("ann")); !errors.Is(err, ErrNotFound) {
			t.Errorf("the session is still under its token: %v", err)
		}
		if res, err := o.Rekey(ctx); err != nil || res.Rekeyed != 0 {
			t.Errorf("second Rekey: got %+v, %v; want 0", res, err)
		}
	})
}

// TestRekeyInterrupted finishes a move whose copy was made by a run that
// stopped before deleting the original.
func TestRekeyInterrupted(t *testing.T) {
	ctx := context.Background()
	st := legacyStore(t, time.Now())
	rec, _, _ := st.Load(ctx, token("bob"))
	if _, err := st.Commit(ctx, store.HashToken(token("bob")), copyDelta(&rec)); err != nil {
		t.Fatal(err)
	}
	res, err := New(st).Rekey(ctx)
	if err != nil || res.Rekeyed != 2 {
		t.Fatalf("Rekey: got %+v, %v; want 2", res, err)
	}
	for _, id := range []string{token("ann"), token("bob")} {
		if _, found, _ := st.Load(ctx, id); found {
			t.Errorf("%s is still stored under its token", id[:PrefixLength])
		}
		if _, found, _ := st.Load(ctx, store.HashToken(id)); !found {
			t.Errorf("%s is not under its hash", id[:PrefixLength])
		}
	}
}

// TestRekeyKitFinds makes a request with the cookie a browser kept from
// before hashed IDs: after Rekey, kit finds the session and its tab.
func TestRekeyKitFinds(t *testing.T) {
	st := legacyStore(t, time.Now())
	m, err := kit.New(kit.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := kit.SessionOf(r)
		var who string
		var cart []string
		if _, err := s.Get("who", &who); err != nil {
			kit.Fail(w, r, err)
			return
		}
		if _, err := s.Tab().Get("cart", &cart); err != nil {
			kit.Fail(w, r, err)
			return
		}
		_, _ = io.WriteString(w, who+" "+strings.Join(cart, ","))
	}))
	get := func() (int, string) {
		r := httptest.NewRequest("GET", "/1/cart", nil)
		r.AddCookie(&http.Cookie{Name: "tabkit", Value: token("ann")})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	if code, body := get(); strings.Contains(body, "ann") {
		t.Fatalf("before Rekey kit found the session under its token: %d %q", code, body)
	}
	if _, err := New(st).Rekey(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := get(); code != http.StatusOK || body != "ann TEA-002" {
		t.Errorf("after Rekey: %d %q, want 200 \"ann TEA-002\"", code, body)
	}
}

// events collects a Manager's session lifecycle events.
type events struct {
	mu        sync.Mutex
	destroyed map[string]int // by handle
}

func (e *events) observe(ev kit.Event) {
	if ev.Kind != kit.EventSessionDestroyed {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.destroyed[ev.Handle]++
}

func (e *events) take() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	got := e.destroyed
	e.destroyed = map[string]int{}
	return got
}

// TestEnder ends sessions through a kit.Manager, whose observer hears of
// each, whether the operations run here or through the endpoint.
func TestEnder(t *testing.T) {
	for _, remote := range []bool{false, true} {
		ev := &events{destroyed: map[string]int{}}
		st := principalStore(t)
		m, err := kit.New(kit.Config{Store: st, Observe: ev.observe, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		a, err := NewWith(Config{Store: st, Ender: m})
		if err != nil {
			t.Fatal(err)
		}
		var o opsUnderTest = a
		if remote {
			o = serve(t, a)
		}
		ctx := context.Background()
		alice := map[string]int{store.HashToken(token("alice-till-1")): 1, store.HashToken(token("alice-till-2")): 1}
		bob := map[string]int{store.HashToken(token("bob-till-1")): 1}
		if n, err := o.EndSessionsOf(ctx, "alice"); err != nil || n != 2 {
			t.Errorf("remote %v: EndSessionsOf: got %d, %v; want 2", remote, n, err)
		}
		if got := ev.take(); !maps.Equal(got, alice) {
			t.Errorf("remote %v: EndSessionsOf reported %v, want %v", remote, got, alice)
		}
		if _, err := o.Delete(ctx, store.HashToken(token("bob-till-1"))[:PrefixLength]); err != nil {
			t.Errorf("remote %v: Delete: %v", remote, err)
		}
		if got := ev.take(); !maps.Equal(got, bob) {
			t.Errorf("remote %v: Delete reported %v, want %v", remote, got, bob)
		}
		if n, err := o.Clear(ctx, true); err != nil || n != 2 || len(ev.take()) != 2 {
			t.Errorf("remote %v: Clear: %d, %v, or no event", remote, n, err)
		}
		if list, _ := o.Sessions(ctx); len(list) != 0 {
			t.Errorf("remote %v: %d sessions left", remote, len(list))
		}
	}
	if _, err := NewWith(Config{}); err == nil {
		t.Error("NewWith without a store: no error")
	}
}

// failing fails every Commit to one ID.
type failing struct {
	*store.Memory
	id string
}

func (f failing) Commit(ctx context.Context, id string, d store.Delta) (store.Meta, error) {
	if id == f.id {
		return store.Meta{}, store.ErrUnavailable
	}
	return f.Memory.Commit(ctx, id, d)
}

// manyLegacy stores n sessions under their tokens, each holding its
// name.
func manyLegacy(t *testing.T, n int) (*store.Memory, []string) {
	t.Helper()
	st := store.NewMemoryWith(store.MemoryOptions{SweepInterval: -1})
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	var names []string
	for i := range n {
		name := fmt.Sprintf("s%03d", i)
		d := store.Delta{Create: true, LastSeen: now, IdleDeadline: now.Add(time.Hour),
			Set: map[store.Key][]byte{store.SessionKey("name"): []byte(`"` + name + `"`)}}
		if _, err := st.Commit(context.Background(), token(name), d); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return st, names
}

// wantEachOnce checks that every session is under exactly one of its
// token and its hash, with its value.
func wantEachOnce(t *testing.T, st store.Store, names []string) (underHash int) {
	t.Helper()
	for _, name := range names {
		old, atToken, _ := st.Load(context.Background(), token(name))
		moved, atHash, _ := st.Load(context.Background(), store.HashToken(token(name)))
		rec := old
		if atHash {
			rec = moved
			underHash++
		}
		if atToken == atHash || string(rec.Values[store.SessionKey("name")]) != `"`+name+`"` {
			t.Errorf("%s: under its token %v, under its hash %v, %+v", name, atToken, atHash, rec.Values)
		}
	}
	return underHash
}

// TestRekeyFailure stops at a store error and loses no session: each is
// under its token or its hash, and a second run finishes the work.
func TestRekeyFailure(t *testing.T) {
	st, names := manyLegacy(t, 100)
	broken := failing{st, store.HashToken(token(names[37]))}
	res, err := New(broken).Rekey(context.Background())
	if !errors.Is(err, store.ErrUnavailable) || res.Rekeyed >= len(names) {
		t.Errorf("Rekey: got %+v, %v; want it stopped by %v", res, err, store.ErrUnavailable)
	}
	if moved := wantEachOnce(t, st, names); moved != res.Rekeyed {
		t.Errorf("%d sessions under their hash, Rekey said %d", moved, res.Rekeyed)
	}
	res2, err := New(st).Rekey(context.Background())
	if err != nil || res.Rekeyed+res2.Rekeyed != len(names) {
		t.Errorf("second Rekey: got %+v, %v after %+v; want %d in all", res2, err, res, len(names))
	}
	if moved := wantEachOnce(t, st, names); moved != len(names) {
		t.Errorf("%d sessions under their hash, want %d", moved, len(names))
	}
}

// TestRekeyTwiceAtOnce runs two Rekeys on one store at once, as two
// operators might: every session ends up under its hash, once.
func TestRekeyTwiceAtOnce(t *testing.T) {
	st, names := manyLegacy(t, 200)
	var wg sync.WaitGroup
	var errs [2]error
	for i := range errs {
		wg.Go(func() { _, errs[i] = New(st).Rekey(context.Background()) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Errorf("Rekey: %v, %v", errs[0], errs[1])
	}
	if moved := wantEachOnce(t, st, names); moved != len(names) {
		t.Errorf("%d sessions under their hash, want %d", moved, len(names))
	}
}
