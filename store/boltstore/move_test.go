package boltstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// TestMoveSharesRound puts moves that succeed and moves that fail in
// every way a move can into one round with plain commits: the round is one
// transaction, the good ones land, and each failing move leaves its source
// as it was.
func TestMoveSharesRound(t *testing.T) {
	k := store.SessionKey("k")
	tests := []struct {
		name    string
		from    string
		to      string
		delta   store.Delta
		wantErr error
	}{
		{"plain", "m-plain", "m-plain2", store.Delta{}, nil},
		{"with a change", "m-change", "m-change2", setDelta(store.SessionKey("signed-in"), "yes"), nil},
		{"conflict", "m-conflict", "m-conflict2", store.Delta{
			Expect: map[store.Key]store.Expected{k: {Value: []byte("stale"), Found: true}},
			Set:    map[store.Key][]byte{k: []byte("new")},
		}, store.ErrConflict},
		{"missing source", "m-missing", "m-missing2", store.Delta{}, store.ErrNotFound},
		{"live target", "m-live", "m-target", store.Delta{}, store.ErrExists},
		{"update panic", "m-panic", "m-panic2", store.Delta{
			Update: map[store.Key]store.UpdateFunc{k: func([]byte, bool) ([]byte, error) { panic("bug in handler") }},
		}, nil},
		{"too large", "m-large", "m-large2", store.Delta{MaxBytes: 5, Set: map[store.Key][]byte{k: make([]byte, 100)}}, store.ErrTooLarge},
	}
	s, _ := openTest(t, nil)
	ctx := context.Background()
	for _, tt := range tests {
		if tt.name != "missing source" {
			create(t, s, tt.from, map[string]string{"k": "old"})
		}
	}
	create(t, s, "m-target", map[string]string{"k": "target"})
	create(t, s, "mate", nil)
	g := holdFirstRound(s)
	before := s.writeTxs.Load()
	wait := plug(t, s, g)

	errs := make([]error, len(tests))
	var wg sync.WaitGroup
	for i, tt := range tests {
		wg.Go(func() { _, errs[i] = s.Move(ctx, tt.from, tt.to, tt.delta) })
	}
	wg.Go(func() {
		if _, err := s.Commit(ctx, "mate", setDelta(store.SessionKey("mate"), "landed")); err != nil {
			t.Errorf("batch-mate commit: %v", err)
		}
	})
	waitQueued(s, len(tests)+1)
	close(g.release)
	wg.Wait()
	wait()

	if got := s.writeTxs.Load() - before; got != 2 {
		t.Errorf("write transactions: got %d, want 2 (the plug's and one for everything else)", got)
	}
	if got := g.roundSizes(); len(got) != 2 || got[1] != len(tests)+1 {
		t.Errorf("round sizes: got %v, want [1 %d]", got, len(tests)+1)
	}
	if got := load(t, s, "mate")["mate"]; got != "landed" {
		t.Errorf("batch-mate: got %q, want %q", got, "landed")
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failed := tt.wantErr != nil || tt.name == "update panic"
			switch {
			case !failed && errs[i] != nil:
				t.Fatalf("Move: got %v, want nil", errs[i])
			case failed && errs[i] == nil:
				t.Fatalf("Move: got nil, want an error")
			case tt.wantErr != nil && !errors.Is(errs[i], tt.wantErr):
				t.Fatalf("Move: got %v, want %v", errs[i], tt.wantErr)
			}
			from, to := load(t, s, tt.from), load(t, s, tt.to)
			switch {
			case !failed && (from != nil || to["k"] != "old"):
				t.Errorf("after Move: from holds %v, to holds %v; want from gone and to holding k=old", from, to)
			case failed && tt.name != "missing source" && (from["k"] != "old" || len(from) != 1):
				t.Errorf("source after a failed Move: got %v, want only k=old", from)
			case failed && tt.to != "m-target" && to != nil:
				t.Errorf("target after a failed Move: got %v, want nothing", to)
			}
		})
	}
	if got := load(t, s, "m-target")["k"]; got != "target" {
		t.Errorf("live target after a refused Move: got %q, want %q", got, "target")
	}
}

// TestMoveHalfWrittenIsRolledBack fails a move after it has written: its
// transaction rolls back and runs again without it, so the session stays
// under its old ID and the batch-mates land.
func TestMoveHalfWrittenIsRolledBack(t *testing.T) {
	s, _ := openTest(t, nil)
	ctx := context.Background()
	create(t, s, "from", map[string]string{"k": "v"})
	create(t, s, "mate", nil)
	g := holdFirstRound(s)
	wait := plug(t, s, g)
	broken := errors.New("write failed")
	s.hooks.afterApply = func(o *op) error {
		if o.to != "" {
			return broken
		}
		return nil
	}
	var moveErr, mateErr error
	var wg sync.WaitGroup
	wg.Go(func() { _, moveErr = s.Move(ctx, "from", "to", store.Delta{}) })
	wg.Go(func() { _, mateErr = s.Commit(ctx, "mate", setDelta(store.SessionKey("k"), "landed")) })
	waitQueued(s, 2)
	close(g.release)
	wg.Wait()
	wait()
	if !errors.Is(moveErr, broken) {
		t.Errorf("Move: got %v, want %v", moveErr, broken)
	}
	if mateErr != nil {
		t.Errorf("batch-mate: got %v, want nil", mateErr)
	}
	if got := load(t, s, "from")["k"]; got != "v" {
		t.Errorf("source after a rolled-back Move: got %q, want %q", got, "v")
	}
	if got := load(t, s, "to"); got != nil {
		t.Errorf("target after a rolled-back Move: got %v, want nothing", got)
	}
	if got := load(t, s, "mate")["k"]; got != "landed" {
		t.Errorf("batch-mate: got %q, want %q", got, "landed")
	}
}

// TestMoveKeepsIndexes checks every index follows the session to its new
// ID: the sweeper finds it by its deadline, quota eviction by its last
// sighting, SessionsOf by its principal. checkFile at cleanup checks the
// buckets agree.
func TestMoveKeepsIndexes(t *testing.T) {
	s, clock := openTest(t, &Options{MaxSessions: 2, WhenFull: EvictLRU})
	ctx := context.Background()
	d := store.Delta{Create: true, LastSeen: clock.Now(), IdleDeadline: clock.Now().Add(time.Hour), SetPrincipal: true, Principal: "ana"}
	if _, err := s.Commit(ctx, "old", d); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := s.Move(ctx, "old", "new", store.Delta{}); err != nil {
		t.Fatalf("Move: got %v, want nil", err)
	}
	refs, err := s.SessionsOf(ctx, "ana")
	if err != nil || len(refs) != 1 || refs[0].ID != "new" {
		t.Errorf("SessionsOf after Move: got %v, %v, want only new", refs, err)
	}
	// "new" is the least recently seen: it is the one to go when a third
	// session needs room.
	clock.Advance(time.Minute)
	if _, err := s.Commit(ctx, "second", store.Delta{Create: true, LastSeen: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "third", store.Delta{Create: true, LastSeen: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := load(t, s, "new"); got != nil {
		t.Errorf("moved session after an LRU eviction: got %v, want it evicted", got)
	}
	if _, err := s.Commit(ctx, "swept", store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Move(ctx, "swept", "swept2", store.Delta{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if res, err := s.Sweep(ctx); err != nil || res.Sessions != 1 {
		t.Errorf("Sweep after Move: got %+v, %v, want the moved session swept", res, err)
	}
}

// TestMovePrincipalLimit signs a session in by moving it, the way a
// Regenerate at sign-in does: the principal's limit applies as in Commit.
func TestMovePrincipalLimit(t *testing.T) {
	tests := []struct {
		name      string
		limit     store.PrincipalLimit
		wantErr   error
		wantAlive []string
	}{
		{"refuse", store.PrincipalLimit{Max: 2}, store.ErrTooManySessions, []string{"p1", "p2", "anon"}},
		{"evict", store.PrincipalLimit{Max: 2, EvictOldest: true}, nil, []string{"p2", "signed-in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := openTest(t, nil)
			ctx := context.Background()
			for _, id := range []string{"p1", "p2"} {
				clock.Advance(time.Minute)
				d := store.Delta{Create: true, LastSeen: clock.Now(), SetPrincipal: true, Principal: "bo"}
				if _, err := s.Commit(ctx, id, d); err != nil {
					t.Fatal(err)
				}
			}
			create(t, s, "anon", map[string]string{"cart": "full"})
			_, err := s.Move(ctx, "anon", "signed-in", store.Delta{SetPrincipal: true, Principal: "bo", PrincipalLimit: tt.limit})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Move: got %v, want %v", err, tt.wantErr)
			}
			for _, id := range []string{"p1", "p2", "anon", "signed-in"} {
				want := false
				for _, alive := range tt.wantAlive {
					want = want || alive == id
				}
				if got := load(t, s, id) != nil; got != want {
					t.Errorf("%s alive: got %v, want %v", id, got, want)
				}
			}
		})
	}
}

// TestMoveQuota: a move that grows the session is held to MaxBytes like
// a commit, and one refused leaves both IDs as they were.
func TestMoveQuota(t *testing.T) {
	s, _ := openTest(t, &Options{MaxBytes: 50})
	ctx := context.Background()
	create(t, s, "from", map[string]string{"k": "1234"})
	_, err := s.Move(ctx, "from", "to", setDelta(store.SessionKey("big"), string(make([]byte, 60))))
	if !errors.Is(err, store.ErrFull) {
		t.Fatalf("Move beyond MaxBytes: got %v, want %v", err, store.ErrFull)
	}
	if got := load(t, s, "from")["k"]; got != "1234" {
		t.Errorf("source after a refused Move: got %q, want %q", got, "1234")
	}
	if _, err := s.Move(ctx, "from", "to", setDelta(store.SessionKey("small"), "x")); err != nil {
		t.Errorf("Move within MaxBytes: got %v, want nil", err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Sessions != 1 || st.Bytes != int64(len("k1234")+len("smallx")) {
		t.Errorf("Stats after Move: got %+v, %v, want 1 session of %d bytes", st, err, len("k1234")+len("smallx"))
	}
}
