package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// token returns a string of the shape of a kit cookie token, different
// for each name.
func token(name string) string {
	return (name + strings.Repeat("x", tokenLength))[:tokenLength]
}

// base is when the principal fixture's sessions were last seen: far
// ahead, so they are live whatever the clock says.
var base = time.Date(2099, 5, 6, 7, 8, 9, 0, time.UTC)

// principalStore holds two sessions of alice, one of bob, one of
// nobody, all under hashed IDs as kit stores them.
func principalStore(t *testing.T) store.Store {
	t.Helper()
	st := store.NewMemoryWith(store.MemoryOptions{SweepInterval: -1})
	t.Cleanup(func() { st.Close() })
	for i, s := range []struct{ token, principal string }{
		{"alice-till-1", "alice"},
		{"alice-till-2", "alice"},
		{"bob-till-1", "bob"},
		{"visitor", ""},
		{"odd", "x/y&principal=bob #?"},
	} {
		seen := base.Add(time.Duration(i) * time.Minute)
		d := store.Delta{Create: true, LastSeen: seen, IdleDeadline: seen.Add(life), SetPrincipal: s.principal != "", Principal: s.principal}
		if _, err := st.Commit(context.Background(), store.HashToken(token(s.token)), d); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func handles(list []Session) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Handle)
	}
	return out
}

func TestSessionsOf(t *testing.T) {
	onBoth(t, principalStore, func(t *testing.T, o opsUnderTest) {
		ctx := context.Background()
		tests := []struct {
			principal string
			want      []string // tokens, most recently seen first
		}{
			{"alice", []string{"alice-till-2", "alice-till-1"}},
			{"bob", []string{"bob-till-1"}},
			{"carol", nil},
			{"x/y&principal=bob #?", []string{"odd"}},
		}
		for _, tt := range tests {
			list, err := o.SessionsOf(ctx, tt.principal)
			if err != nil {
				t.Fatalf("SessionsOf(%q): %v", tt.principal, err)
			}
			var want []string
			for _, tok := range tt.want {
				want = append(want, store.HashToken(token(tok)))
			}
			if got := handles(list); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("SessionsOf(%q): got %v, want %v", tt.principal, got, want)
			}
			for _, s := range list {
				if s.Principal != tt.principal || s.ID != s.Handle[:PrefixLength] {
					t.Errorf("SessionsOf(%q): got %+v", tt.principal, s)
				}
			}
		}
		all, err := o.Sessions(ctx)
		if err != nil || len(all) != 5 || all[4].Principal != "alice" || all[1].Principal != "" {
			t.Errorf("Sessions: got %+v, %v; want 5, principals shown", all, err)
		}
		if _, err := o.SessionsOf(ctx, ""); !errors.Is(err, ErrNoPrincipal) {
			t.Errorf("SessionsOf(\"\"): got %v, want %v", err, ErrNoPrincipal)
		}
	})
}

func TestEndSessionsOf(t *testing.T) {
	onBoth(t, principalStore, func(t *testing.T, o opsUnderTest) {
		ctx := context.Background()
		tests := []struct {
			principal string
			ended     int
			left      int // sessions in the store afterwards
		}{
			{"alice", 2, 3},
			{"alice", 0, 3},
			{"carol", 0, 3},
			{"bob", 1, 2},
			{"x/y&principal=bob #?", 1, 1},
		}
		for _, tt := range tests {
			n, err := o.EndSessionsOf(ctx, tt.principal)
			if err != nil || n != tt.ended {
				t.Errorf("EndSessionsOf(%q): got %d, %v; want %d", tt.principal, n, err, tt.ended)
			}
			list, err := o.Sessions(ctx)
			if err != nil || len(list) != tt.left {
				t.Errorf("after EndSessionsOf(%q): %d sessions, %v; want %d", tt.principal, len(list), err, tt.left)
			}
		}
		if n, err := o.EndSessionsOf(ctx, ""); !errors.Is(err, ErrNoPrincipal) || n != 0 {
			t.Errorf("EndSessionsOf(\"\"): got %d, %v; want %v", n, err, ErrNoPrincipal)
		}
		if list, _ := o.Sessions(ctx); len(list) != 1 || list[0].Principal != "" {
			t.Errorf("the session of nobody was ended too: %+v", list)
		}
	})
}

// unindexed is a store without a principal index.
type unindexed struct {
	store.Store
	store.Lister
}

func TestPrincipalsUnsupported(t *testing.T) {
	newStore := func(t *testing.T) store.Store {
		st := principalStore(t)
		return unindexed{st, st.(store.Lister)}
	}
	onBoth(t, newStore, func(t *testing.T, o opsUnderTest) {
		ctx := context.Background()
		if _, err := o.SessionsOf(ctx, "alice"); !errors.Is(err, ErrUnsupported) {
			t.Errorf("SessionsOf: got %v, want %v", err, ErrUnsupported)
		}
		if _, err := o.EndSessionsOf(ctx, "alice"); !errors.Is(err, ErrUnsupported) {
			t.Errorf("EndSessionsOf: got %v, want %v", err, ErrUnsupported)
		}
		if list, err := o.Sessions(ctx); err != nil || len(list) != 5 {
			t.Errorf("Sessions: %d, %v; want 5 left", len(list), err)
		}
	})
}

// TestIDsShown holds listings to showing hashed IDs in full and IDs that
// may be cookie tokens never.
func TestIDsShown(t *testing.T) {
	legacy := token("legacy")
	hashed := store.HashToken(token("hashed"))
	other := "custom-id-of-another-program"
	newStore := func(t *testing.T) store.Store {
		st := store.NewMemoryWith(store.MemoryOptions{SweepInterval: -1})
		t.Cleanup(func() { st.Close() })
		for _, id := range []string{legacy, hashed, other} {
			d := store.Delta{Create: true, LastSeen: base, IdleDeadline: base.Add(life),
				Set: map[store.Key][]byte{store.SessionKey("id"): []byte(`"x"`)}}
			if _, err := st.Commit(context.Background(), id, d); err != nil {
				t.Fatal(err)
			}
		}
		return st
	}
	onBoth(t, newStore, func(t *testing.T, o opsUnderTest) {
		ctx := context.Background()
		list, err := o.Sessions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Session{}
		for _, s := range list {
			got[s.ID] = s
		}
		tests := []struct {
			id     string
			handle string
			token  bool
		}{
			{legacy, "", true},
			{hashed, hashed, false},
			{other, "", false},
		}
		for _, tt := range tests {
			s := got[tt.id[:PrefixLength]]
			if s.Handle != tt.handle || s.KeyedByToken != tt.token {
				t.Errorf("%s: got %+v, want handle %q, keyed by token %v", tt.id, s, tt.handle, tt.token)
			}
			d, err := o.Show(ctx, tt.id[:PrefixLength+2])
			if err != nil || d.Handle != tt.handle {
				t.Errorf("Show %s: got %+v, %v", tt.id, d, err)
			}
			b, _ := json.Marshal(d)
			if tt.handle == "" && strings.Contains(string(b), tt.id) {
				t.Errorf("Show %s: the whole ID is in %s", tt.id, b)
			}
		}
		b, _ := json.Marshal(list)
		if strings.Contains(string(b), legacy) {
			t.Errorf("the listing shows a token in full: %s", b)
		}
		if _, err := o.Delete(ctx, legacy); err != nil {
			t.Errorf("Delete by the whole token-shaped ID: %v", err)
		}
	})
}

func TestValueDeadlines(t *testing.T) {
	at := base.Add(30 * time.Minute)
	newStore := func(t *testing.T) store.Store {
		st := store.NewMemoryWith(store.MemoryOptions{SweepInterval: -1})
		t.Cleanup(func() { st.Close() })
		d := store.Delta{Create: true, LastSeen: base, IdleDeadline: base.Add(life),
			Set: map[store.Key][]byte{
				store.SessionKey("code"): []byte(`"123456"`),
				store.SessionKey("name"): []byte(`"Ann"`),
			},
			Expires: map[store.Key]time.Time{store.SessionKey("code"): at},
		}
		if _, err := st.Commit(context.Background(), store.HashToken(token("ttl")), d); err != nil {
			t.Fatal(err)
		}
		return st
	}
	onBoth(t, newStore, func(t *testing.T, o opsUnderTest) {
		d, err := o.Show(context.Background(), store.HashToken(token("ttl")))
		if err != nil || len(d.Values) != 2 {
			t.Fatalf("Show: got %+v, %v", d, err)
		}
		if v := d.Values[0]; v.Key != "code" || !v.Expires.Equal(at) {
			t.Errorf("code: got %+v, want expires %v", v, at)
		}
		if v := d.Values[1]; v.Key != "name" || !v.Expires.IsZero() {
			t.Errorf("name: got %+v, want no deadline", v)
		}
	})
}

// FuzzIDShapes holds the shapes apart: no ID is both a handle and a
// token, and every hash is a handle.
func FuzzIDShapes(f *testing.F) {
	for _, s := range []string{"", token("a"), store.HashToken("a"), "abcd.efgh", strings.Repeat(".", 48)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if isHandle(s) && isToken(s) {
			t.Errorf("%q is both a handle and a token", s)
		}
		if h := store.HashToken(s); !isHandle(h) || isToken(h) {
			t.Errorf("HashToken(%q) = %q: handle %v, token %v", s, h, isHandle(h), isToken(h))
		}
		if isToken(s) && strings.Contains(s, ".") {
			t.Errorf("token %q has a '.'", s)
		}
	})
}
