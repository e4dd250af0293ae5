package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file race requests against each other. They are
// the reason deltas exist: whatever the interleaving, nothing a store
// acknowledged may be lost. Goroutines wait on a shared start signal so
// they really overlap; counts stay small so a store that fsyncs every
// commit still finishes quickly.

// Race runs fn(i) for i in [0, n) on n goroutines released together, so
// that they really overlap, and returns when all have.
func Race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

func testConcurrentDeltasLoseNothing(h *harness) {
	const id = "concurrent-deltas"
	const writers = 64
	created := h.create(id, nil)
	Race(writers, func(i int) {
		k := store.SessionKey(fmt.Sprintf("k%02d", i))
		if _, err := h.st.Commit(h.ctx, id, store.Delta{Set: map[store.Key][]byte{k: fmt.Appendf(nil, "v%02d", i)}}); err != nil {
			h.t.Errorf("writer %d: Commit got %v, want nil", i, err)
		}
	})
	want := make(map[store.Key]string, writers)
	for i := range writers {
		want[store.SessionKey(fmt.Sprintf("k%02d", i))] = fmt.Sprintf("v%02d", i)
	}
	rec := h.wantValues(id, want)
	if v := created.Version + writers; rec.Meta.Version != v {
		h.t.Errorf("Version: got %d, want %d (one per commit)", rec.Meta.Version, v)
	}
}

func testAtomicIncrements(h *harness) {
	const id = "increments"
	const workers, perWorker = 64, 100
	counter := store.SessionKey("counter")
	created := h.create(id, nil)
	Race(workers, func(i int) {
		for j := range perWorker {
			_, err := h.st.Commit(h.ctx, id, store.Delta{Update: map[store.Key]store.UpdateFunc{counter: increment}})
			if err != nil {
				h.t.Errorf("worker %d, increment %d: Commit got %v, want nil", i, j, err)
				return
			}
		}
	})
	const total = workers * perWorker
	rec := h.wantValues(id, map[store.Key]string{counter: strconv.Itoa(total)})
	if v := created.Version + total; rec.Meta.Version != v {
		h.t.Errorf("Version: got %d, want %d (one per commit)", rec.Meta.Version, v)
	}
}

func testConcurrentTabs(h *harness) {
	const id = "concurrent-tabs"
	const tabs = 16
	h.create(id, map[store.Key]string{store.SessionKey("user"): "alice"})
	opened := make([]uint32, tabs)
	Race(tabs, func(i int) {
		// A "new tab" request, then three "add to cart" requests in it.
		label := fmt.Sprintf("register %d", i)
		var n uint32
		m, err := h.st.Commit(h.ctx, id, store.Delta{EditMeta: openTabEdit(h.now(), label, &n)})
		if err != nil {
			h.t.Errorf("tab %d: opening got %v, want nil", i, err)
			return
		}
		if got := m.Tabs[n].Label; got != label {
			h.t.Errorf("tab %d: opened tab %d is labelled %q, want %q", i, n, got, label)
			return
		}
		opened[i] = n
		cart := store.TabKey(n, "cart")
		if _, err := h.st.Commit(h.ctx, id, store.Delta{Set: map[store.Key][]byte{cart: fmt.Appendf(nil, "%d:", i)}}); err != nil {
			h.t.Errorf("tab %d: first item got %v, want nil", i, err)
			return
		}
		for j := range 2 {
			add := func(old []byte, _ bool) ([]byte, error) { return fmt.Appendf(old, "%d", j), nil }
			if _, err := h.st.Commit(h.ctx, id, store.Delta{Update: map[store.Key]store.UpdateFunc{cart: add}}); err != nil {
				h.t.Errorf("tab %d: item %d got %v, want nil", i, j, err)
				return
			}
		}
	})
	if h.t.Failed() {
		return
	}
	want := map[store.Key]string{store.SessionKey("user"): "alice"}
	seen := make(map[uint32]int)
	for i, n := range opened {
		if other, dup := seen[n]; dup {
			h.t.Fatalf("goroutines %d and %d both opened tab %d", other, i, n)
		}
		seen[n] = i
		want[store.TabKey(n, "cart")] = fmt.Sprintf("%d:01", i)
	}
	rec := h.wantValues(id, want)
	for i, n := range opened {
		if got, label := rec.Meta.Tabs[n].Label, fmt.Sprintf("register %d", i); got != label {
			h.t.Errorf("Tabs[%d].Label: got %q, want %q", n, got, label)
		}
	}
}

func testConcurrentCreateAndDelete(h *harness) {
	const id = "create-delete"
	const racers = 8

	// Many first requests of one session: one creates it, the rest see it
	// exists.
	var winners atomic.Int32
	Race(racers, func(i int) {
		d := h.createDelta(map[store.Key]string{store.SessionKey("creator"): strconv.Itoa(i)})
		switch _, err := h.st.Commit(h.ctx, id, d); {
		case err == nil:
			winners.Add(1)
		case !errors.Is(err, store.ErrExists):
			h.t.Errorf("creator %d: Commit got %v, want nil or %v", i, err, store.ErrExists)
		}
	})
	if n := winners.Load(); n != 1 {
		h.t.Fatalf("successful creates: got %d, want 1", n)
	}

	// Writers keep committing while a logout deletes the session. A commit
	// that starts after Delete returned must fail with ErrNotFound.
	var deleted atomic.Bool
	firstWrite := make(chan struct{})
	var once sync.Once
	Race(racers+1, func(i int) {
		if i == racers {
			<-firstWrite
			if err := h.st.Delete(h.ctx, id); err != nil {
				h.t.Errorf("Delete: got %v, want nil", err)
			}
			deleted.Store(true)
			return
		}
		defer once.Do(func() { close(firstWrite) }) // never leave Delete waiting
		for j := range racers {
			afterDelete := deleted.Load()
			k := store.SessionKey(fmt.Sprintf("w%d-%d", i, j))
			_, err := h.st.Commit(h.ctx, id, store.Delta{Set: map[store.Key][]byte{k: []byte("x")}})
			switch {
			case errors.Is(err, store.ErrNotFound):
				return
			case err != nil:
				h.t.Errorf("writer %d: Commit got %v, want nil or %v", i, err, store.ErrNotFound)
				return
			case afterDelete:
				h.t.Errorf("writer %d: Commit after Delete returned got nil, want %v (the session came back)", i, store.ErrNotFound)
				return
			}
			once.Do(func() { close(firstWrite) })
		}
	})
	h.gone(id)
	h.commitErr(id, store.Delta{Set: bytesOf(map[store.Key]string{store.SessionKey("late"): "x"})}, store.ErrNotFound)

	// The ID can be used again, and nothing of the old session shows.
	h.create(id, map[store.Key]string{store.SessionKey("again"): "1"})
	h.wantValues(id, map[store.Key]string{store.SessionKey("again"): "1"})
}
