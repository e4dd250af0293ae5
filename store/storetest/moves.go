package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file cover Move, which Regenerate uses: a session
// moves to a new ID carrying every write acknowledged before it, and its
// old ID is dead from then on.

// movePair returns two IDs of one family, as a session and the ID it is
// regenerated to have.
func movePair(name string) (from, to string) {
	family := fmt.Sprintf("%-6.6s", name)
	return store.HashToken(family + "-old-" + name), store.HashToken(family + "-new-" + name)
}

func testMoveCarriesEverything(h *harness) {
	from, to := movePair("carries")
	created := h.create(from, map[store.Key]string{store.SessionKey("user"): "alice"})
	tab, _ := h.openTab(from, "till")
	// Written by other requests after the mover loaded the session.
	h.commit(from, store.Delta{
		Set:          map[store.Key][]byte{store.TabKey(tab, "cart"): []byte("apples")},
		SetPrincipal: true, Principal: "alice",
	})
	h.commit(from, store.Delta{Set: map[store.Key][]byte{store.SessionKey("theme"): []byte("dark")}})
	before := h.load(from)

	meta, err := h.st.Move(h.ctx, from, to, store.Delta{Set: map[store.Key][]byte{store.SessionKey("signed-in"): []byte("yes")}})
	if err != nil {
		h.t.Fatalf("Move: got %v, want nil", err)
	}
	h.gone(from)
	rec := h.wantValues(to, map[store.Key]string{
		store.SessionKey("user"):      "alice",
		store.SessionKey("theme"):     "dark",
		store.SessionKey("signed-in"): "yes",
		store.TabKey(tab, "cart"):     "apples",
	})
	if diff := diffMeta(meta, rec.Meta); diff != "" {
		h.t.Errorf("Move's meta against Load's: %s", diff)
	}
	switch {
	case !rec.Meta.Created.Equal(created.Created):
		h.t.Errorf("Created after Move: got %v, want %v (the session's, kept)", rec.Meta.Created, created.Created)
	case rec.Meta.Principal != "alice":
		h.t.Errorf("Principal after Move: got %q, want %q", rec.Meta.Principal, "alice")
	case rec.Meta.NextTab != before.Meta.NextTab || rec.Meta.Tabs[tab].Label != "till":
		h.t.Errorf("tab table after Move: got %v (NextTab %d), want %v (NextTab %d)", tabNumbers(rec.Meta), rec.Meta.NextTab, tabNumbers(before.Meta), before.Meta.NextTab)
	case !rec.Meta.IdleDeadline.Equal(before.Meta.IdleDeadline) || !rec.Meta.AbsDeadline.Equal(before.Meta.AbsDeadline):
		h.t.Errorf("deadlines after Move: got %v / %v, want %v / %v", rec.Meta.IdleDeadline, rec.Meta.AbsDeadline, before.Meta.IdleDeadline, before.Meta.AbsDeadline)
	}
}

func testMoveRefusesLaterCommits(h *harness) {
	from, to := movePair("later")
	h.create(from, map[store.Key]string{store.SessionKey("a"): "1"})
	if _, err := h.st.Move(h.ctx, from, to, store.Delta{}); err != nil {
		h.t.Fatalf("Move: got %v, want nil", err)
	}
	// A request that loaded the old ID before the move commits now: it
	// must be refused, not acknowledged into a record nobody can reach.
	late := store.Delta{Set: map[store.Key][]byte{store.SessionKey("late"): []byte("x")}}
	if _, err := h.st.Commit(h.ctx, from, late); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("Commit to the old ID after Move: got %v, want %v", err, store.ErrNotFound)
	}
	late.Update = map[store.Key]store.UpdateFunc{store.SessionKey("n"): increment}
	late.Set = nil
	if _, err := h.st.Commit(h.ctx, from, late); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("Update of the old ID after Move: got %v, want %v", err, store.ErrNotFound)
	}
	if _, err := h.st.Move(h.ctx, from, to, store.Delta{}); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("second Move from the old ID: got %v, want %v", err, store.ErrNotFound)
	}
	h.gone(from)
	h.wantValues(to, map[store.Key]string{store.SessionKey("a"): "1"})
}

func testMoveAfterDelete(h *harness) {
	from, to := movePair("deleted")
	h.create(from, map[store.Key]string{store.SessionKey("cart"): "full"})
	// Sign-out won the race: the data stays destroyed and the new ID is
	// never born.
	if err := h.st.Delete(h.ctx, from); err != nil {
		h.t.Fatalf("Delete: got %v, want nil", err)
	}
	if _, err := h.st.Move(h.ctx, from, to, store.Delta{}); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("Move of a deleted session: got %v, want %v", err, store.ErrNotFound)
	}
	h.gone(from)
	h.gone(to)
}

func testMoveOntoLive(h *harness) {
	from, to := movePair("onto")
	h.create(from, map[store.Key]string{store.SessionKey("a"): "from"})
	h.create(to, map[store.Key]string{store.SessionKey("a"): "to"})
	before := h.load(from)
	if _, err := h.st.Move(h.ctx, from, to, store.Delta{}); !errors.Is(err, store.ErrExists) {
		h.t.Fatalf("Move onto a live ID: got %v, want %v", err, store.ErrExists)
	}
	if diff := diffRecord(h.load(from), before); diff != "" {
		h.t.Errorf("source after a refused Move: %s", diff)
	}
	h.wantValues(to, map[store.Key]string{store.SessionKey("a"): "to"})
}

func testMoveOntoExpired(h *harness) {
	from, to := movePair("expired")
	h.create(to, map[store.Key]string{store.SessionKey("stale"): "x"})
	h.clock.Advance(idleTimeout + 1)
	h.create(from, map[store.Key]string{store.SessionKey("a"): "1"})
	if _, err := h.st.Move(h.ctx, from, to, store.Delta{}); err != nil {
		h.t.Fatalf("Move onto an expired ID: got %v, want nil", err)
	}
	h.wantValues(to, map[store.Key]string{store.SessionKey("a"): "1"})
}

func testMoveFailureChangesNothing(h *harness) {
	from, to := movePair("failure")
	k := store.SessionKey("a")
	h.create(from, map[store.Key]string{k: "1"})
	before := h.load(from)
	for _, tt := range []struct {
		name string
		d    store.Delta
		want error
	}{
		{"conflict", store.Delta{Expect: map[store.Key]store.Expected{k: {Value: []byte("0"), Found: true}}, Set: map[store.Key][]byte{k: []byte("2")}}, store.ErrConflict},
		{"update error", store.Delta{Update: map[store.Key]store.UpdateFunc{k: failUpdate}}, errBoom},
		{"too large", store.Delta{Set: map[store.Key][]byte{k: []byte(strings.Repeat("x", 100))}, MaxBytes: 10}, store.ErrTooLarge},
		{"tab not open", store.Delta{Set: map[store.Key][]byte{store.TabKey(99, "x"): []byte("y")}}, store.ErrNoTab},
	} {
		if _, err := h.st.Move(h.ctx, from, to, tt.d); !errors.Is(err, tt.want) {
			h.t.Fatalf("Move with %s: got %v, want %v", tt.name, err, tt.want)
		}
		if diff := diffRecord(h.load(from), before); diff != "" {
			h.t.Fatalf("source after Move failed with %s: %s", tt.name, diff)
		}
		h.gone(to)
	}
}

func testMoveRacesCommits(h *harness) {
	from, to := movePair("races")
	h.create(from, nil)
	const writers = 32
	var acked [writers]atomic.Bool
	Race(writers+1, func(i int) {
		if i == writers {
			if _, err := h.st.Move(h.ctx, from, to, store.Delta{}); err != nil {
				h.t.Errorf("Move: got %v, want nil", err)
			}
			return
		}
		k := store.SessionKey(fmt.Sprintf("k%02d", i))
		_, err := h.st.Commit(h.ctx, from, store.Delta{Set: map[store.Key][]byte{k: []byte("v")}})
		switch {
		case err == nil:
			acked[i].Store(true)
		case !errors.Is(err, store.ErrNotFound):
			h.t.Errorf("writer %d: got %v, want nil or %v", i, err, store.ErrNotFound)
		}
	})
	h.gone(from)
	rec := h.load(to)
	for i := range writers {
		k := store.SessionKey(fmt.Sprintf("k%02d", i))
		_, kept := rec.Values[k]
		if acked[i].Load() != kept {
			h.t.Errorf("writer %d: acknowledged %v, present after Move %v; want them equal", i, acked[i].Load(), kept)
		}
	}
}

func testMoveBadArguments(h *harness) {
	from, to := movePair("bad")
	h.create(from, nil)
	if _, err := h.st.Move(h.ctx, from, to, store.Delta{Create: true}); err == nil {
		h.t.Errorf("Move with Create: got nil, want an error")
	}
	if _, err := h.st.Move(h.ctx, from, from, store.Delta{}); err == nil {
		h.t.Errorf("Move onto itself: got nil, want an error")
	}
	if _, err := h.st.Move(h.ctx, from, "", store.Delta{}); !errors.Is(err, store.ErrInvalidID) {
		h.t.Errorf("Move to an empty ID: got %v, want %v", err, store.ErrInvalidID)
	}
	h.load(from)
}

// testMoveLeavesATrace checks what a request that raced a Move sees of
// the old ID for a while: ErrMoved, not a session that simply ended, so
// it neither creates a new one nor drops the browser's cookie.
func testMoveLeavesATrace(h *harness) {
	from, to := movePair("trace")
	h.create(from, map[store.Key]string{store.SessionKey("a"): "1"})
	if _, err := h.st.Move(h.ctx, from, to, store.Delta{}); err != nil {
		h.t.Fatalf("Move: got %v, want nil", err)
	}
	if _, found, err := h.st.Load(h.ctx, from); found || !errors.Is(err, store.ErrMoved) {
		h.t.Fatalf("Load of the old ID after Move: got found=%v, %v, want %v", found, err, store.ErrMoved)
	}
	_, err := h.st.Commit(h.ctx, from, store.Delta{Set: map[store.Key][]byte{store.SessionKey("b"): []byte("2")}})
	if !errors.Is(err, store.ErrMoved) || !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("Commit to the old ID after Move: got %v, want %v (which is also %v)", err, store.ErrMoved, store.ErrNotFound)
	}
	h.clock.Advance(store.MovedGrace)
	if sw, ok := h.st.(store.Sweeper); ok {
		if _, err := sw.Sweep(h.ctx); err != nil {
			h.t.Fatalf("Sweep: got %v, want nil", err)
		}
	}
	if _, found, err := h.st.Load(h.ctx, from); found || err != nil {
		h.t.Fatalf("Load of the old ID once MovedGrace passed: got found=%v, %v, want nothing", found, err)
	}
	h.wantValues(to, map[store.Key]string{store.SessionKey("a"): "1"})

	// Deleting the old ID ends the trace at once.
	from2, to2 := movePair("trace2")
	h.create(from2, nil)
	if _, err := h.st.Move(h.ctx, from2, to2, store.Delta{}); err != nil {
		h.t.Fatalf("Move: got %v, want nil", err)
	}
	if err := h.st.Delete(h.ctx, from2); err != nil {
		h.t.Fatalf("Delete of the old ID: got %v, want nil", err)
	}
	if _, found, err := h.st.Load(h.ctx, from2); found || err != nil {
		h.t.Fatalf("Load of the old ID after its Delete: got found=%v, %v, want nothing", found, err)
	}
	h.load(to2)
}
