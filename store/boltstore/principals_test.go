package boltstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// TestSignInsInOneRound signs one principal in 64 times at once, all in
// one group-commit transaction: each commit sees the index entries of the
// ones before it, so the limit holds exactly.
func TestSignInsInOneRound(t *testing.T) {
	const n, limit = 64, 5
	tests := []struct {
		name      string
		evict     bool
		move      bool // sign in by regenerating an anonymous session
		wantOK    int
		wantEvict int
	}{
		{"refuse", false, false, limit, 0},
		{"evict oldest", true, false, n, n - limit},
		{"refuse, moving", false, true, limit, 0},
		{"evict oldest, moving", true, true, n, n - limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTest(t, nil)
			l := listen(t, s)
			var anonymous []string
			for i := range n {
				anonymous = append(anonymous, fmt.Sprintf("anon%02d", i))
			}
			if tt.move {
				bulkCommit(t, s, anonymous, func(int) store.Delta { return store.Delta{Create: true} })
			}
			g := holdFirstRound(s)
			wait := plug(t, s, g)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				limit := store.PrincipalLimit{Max: limit, EvictOldest: tt.evict}
				id := fmt.Sprintf("s%02d", i)
				wg.Go(func() {
					if !tt.move {
						errs[i] = signIn(t, s, id, "dave", limit)
						return
					}
					_, errs[i] = s.Move(context.Background(), anonymous[i], id, store.Delta{SetPrincipal: true, Principal: "dave", PrincipalLimit: limit})
				})
			}
			waitQueued(s, n)
			close(g.release)
			wg.Wait()
			wait()
			if got := g.roundSizes(); len(got) != 2 || got[1] != n {
				t.Fatalf("round sizes: got %v, want [1 %d]", got, n)
			}
			ok := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrTooManySessions):
					t.Errorf("sign-in %d: got %v, want nil or %v", i, err, store.ErrTooManySessions)
				}
			}
			if ok != tt.wantOK {
				t.Errorf("sign-ins that succeeded: got %d, want %d", ok, tt.wantOK)
			}
			refs, err := s.SessionsOf(context.Background(), "dave")
			if err != nil || len(refs) != limit {
				t.Errorf("SessionsOf: got %d sessions, %v, want %d", len(refs), err, limit)
			}
			if got := len(l.take()); got != tt.wantEvict {
				t.Errorf("evicted events: got %d, want %d", got, tt.wantEvict)
			}
			want := int64(limit + 1) // the plug too
			if tt.move {
				want += int64(n - tt.wantOK) // the refused stay anonymous
			}
			if st, err := s.Stats(context.Background()); err != nil || st.Sessions != want {
				t.Errorf("Stats: got %+v, %v, want %d sessions", st, err, want)
			}
		})
	}
}

// TestPrincipalIndexFollowsEveryRemoval removes sessions of a principal
// each way a store can (delete, sweep, quota eviction, move, a new
// principal, a create over an expired record) and checks SessionsOf; the
// file check at cleanup sees the bucket holds no entry more or less.
func TestPrincipalIndexFollowsEveryRemoval(t *testing.T) {
	s, clock := openTest(t, &Options{MaxSessions: 6, WhenFull: EvictLRU})
	ctx := context.Background()
	for _, id := range []string{"lru", "deleted", "swept", "moved", "changed", "recreated"} {
		if err := signIn(t, s, id, "eve", store.PrincipalLimit{}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	want := func(ids ...string) {
		t.Helper()
		refs, err := s.SessionsOf(ctx, "eve")
		var got []string
		for _, r := range refs {
			got = append(got, r.ID)
		}
		if err != nil || strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("SessionsOf: got %v, %v, want %v", got, err, ids)
		}
	}
	if err := s.Delete(ctx, "deleted"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "changed", store.Delta{SetPrincipal: true, Principal: "fay"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Move(ctx, "moved", "moved2", store.Delta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "swept", store.Delta{IdleDeadline: clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "recreated", store.Delta{IdleDeadline: clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	want("lru", "moved2", "recreated", "swept")
	clock.Advance(2 * time.Minute)
	want("lru", "moved2")
	if _, err := s.Commit(ctx, "recreated", store.Delta{Create: true}); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Sweep(ctx); err != nil || res.Sessions != 1 {
		t.Fatalf("Sweep: got %+v, %v, want swept removed", res, err)
	}
	// Six sessions with these three; the third makes room by evicting
	// the least recently seen, lru.
	for i := range 3 {
		if _, err := s.Commit(ctx, fmt.Sprintf("filler%d", i), store.Delta{Create: true}); err != nil {
			t.Fatal(err)
		}
	}
	want("moved2")
	if got := load(t, s, "lru"); got != nil {
		t.Errorf("least recently seen session: got %v, want it evicted", got)
	}
}
