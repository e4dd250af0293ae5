package storetest

import (
	"errors"
	"io"
	"slices"
	"time"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file cover the optional interfaces. Each skips
// when the store does not implement its interface.

// sessionSet is what expiringSessions made: the IDs of the sessions dead
// and alive once the clock has moved, and every one's record as it was
// while all were alive.
type sessionSet struct {
	dead, alive []string
	before      map[string]store.Record
}

// bytes sums the Meta.Bytes of ids.
func (s sessionSet) bytes(ids []string) int64 {
	var n int64
	for _, id := range ids {
		n += s.before[id].Meta.Bytes
	}
	return n
}

// expiringSessions creates sessions with staggered lifetimes, then moves
// the clock half an hour on. Some expire exactly at that moment, one was
// touched, one deleted, one never expires.
func expiringSessions(h *harness) sessionSet {
	h.t.Helper()
	start := h.now()
	const halfHour = 30 * time.Minute
	specs := []struct {
		id        string
		idle, abs time.Duration
		values    map[store.Key]string
	}{
		{"short", 10 * time.Minute, 0, map[store.Key]string{store.SessionKey("a"): "1"}},
		{"edge", halfHour, 0, map[store.Key]string{store.SessionKey("bb"): "22", store.TabKey(0, "c"): "3"}},
		{"abs", 2 * time.Hour, 20 * time.Minute, map[store.Key]string{store.SessionKey("abs"): "ab"}},
		{"long", 2 * time.Hour, 0, map[store.Key]string{store.SessionKey("d"): "4"}},
		{"touched", 10 * time.Minute, 0, map[store.Key]string{store.SessionKey("e"): "5"}},
		{"deleted", 10 * time.Minute, 0, map[store.Key]string{store.SessionKey("f"): "6"}},
		{"forever", 0, 0, map[store.Key]string{store.SessionKey("g"): "7"}},
	}
	for _, s := range specs {
		d := store.Delta{Create: true, Set: bytesOf(s.values)}
		if s.idle > 0 {
			d.IdleDeadline = start.Add(s.idle)
		}
		if s.abs > 0 {
			d.AbsDeadline = start.Add(s.abs)
		}
		h.commit(s.id, d)
	}
	h.clock.Advance(5 * time.Minute)
	h.commit("touched", store.Delta{LastSeen: h.now(), IdleDeadline: h.now().Add(time.Hour)})
	if err := h.st.Delete(h.ctx, "deleted"); err != nil {
		h.t.Fatalf("Delete: got %v, want nil", err)
	}
	set := sessionSet{
		dead:   []string{"abs", "edge", "short"},
		alive:  []string{"forever", "long", "touched"},
		before: make(map[string]store.Record),
	}
	for _, id := range append(slices.Clone(set.dead), set.alive...) {
		set.before[id] = h.load(id)
	}
	h.clock.Set(start.Add(halfHour))
	return set
}

func testSweep(h *harness) {
	sw, ok := h.st.(store.Sweeper)
	if !ok {
		h.t.Skip("store does not implement store.Sweeper")
	}
	if res, err := sw.Sweep(h.ctx); err != nil || res != (store.SweepResult{}) {
		h.t.Fatalf("Sweep of an empty store: got %+v, %v, want zero, nil", res, err)
	}
	set := expiringSessions(h)
	res, err := sw.Sweep(h.ctx)
	if err != nil {
		h.t.Fatalf("Sweep: got %v, want nil", err)
	}
	if want := (store.SweepResult{Sessions: len(set.dead), Bytes: set.bytes(set.dead)}); res != want {
		h.t.Errorf("Sweep: got %+v, want %+v", res, want)
	}
	for _, id := range set.dead {
		h.gone(id)
	}
	for _, id := range set.alive {
		if diff := diffRecord(h.load(id), set.before[id]); diff != "" {
			h.t.Errorf("session %q after Sweep: %s", id, diff)
		}
	}
	if res, err := sw.Sweep(h.ctx); err != nil || res != (store.SweepResult{}) {
		h.t.Errorf("second Sweep: got %+v, %v, want zero, nil", res, err)
	}
	if st, ok := h.st.(store.Statser); ok {
		stats, err := st.Stats(h.ctx)
		want := store.Stats{Sessions: int64(len(set.alive)), Bytes: set.bytes(set.alive)}
		if err != nil || stats.Sessions != want.Sessions || stats.Bytes != want.Bytes || stats.Expired != 0 {
			h.t.Errorf("Stats after Sweep: got %+v, %v, want %+v (FileBytes aside), nil", stats, err, want)
		}
	}
}

func testList(h *harness) {
	ls, ok := h.st.(store.Lister)
	if !ok {
		h.t.Skip("store does not implement store.Lister")
	}
	calls := 0
	if err := ls.List(h.ctx, func(string, store.Meta) bool { calls++; return true }); err != nil || calls != 0 {
		h.t.Fatalf("List of an empty store: got %d calls, %v, want 0, nil", calls, err)
	}
	alive := expiringSessions(h).alive
	seen := make(map[string]store.Meta)
	err := ls.List(h.ctx, func(id string, m store.Meta) bool {
		if _, dup := seen[id]; dup {
			h.t.Errorf("List: saw %q twice", id)
		}
		seen[id] = m
		return true
	})
	if err != nil {
		h.t.Fatalf("List: got %v, want nil", err)
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, alive) {
		h.t.Fatalf("List saw %q, want %q", ids, alive)
	}
	for _, id := range alive {
		if diff := diffMeta(seen[id], h.load(id).Meta); diff != "" {
			h.t.Errorf("List meta of %q differs from Load's: %s", id, diff)
		}
	}
	calls = 0
	if err := ls.List(h.ctx, func(string, store.Meta) bool { calls++; return false }); err != nil || calls != 1 {
		h.t.Errorf("List stopped by fn: got %d calls, %v, want 1, nil", calls, err)
	}
}

func testStats(h *harness) {
	st, ok := h.st.(store.Statser)
	if !ok {
		h.t.Skip("store does not implement store.Statser")
	}
	stats, err := st.Stats(h.ctx)
	if err != nil || stats.Sessions != 0 || stats.Bytes != 0 || stats.Expired != 0 {
		h.t.Fatalf("Stats of an empty store: got %+v, %v, want zero counts, nil", stats, err)
	}
	set := expiringSessions(h)
	// Expired sessions count until swept.
	all := append(slices.Clone(set.dead), set.alive...)
	stats, err = st.Stats(h.ctx)
	want := store.Stats{Sessions: int64(len(all)), Bytes: set.bytes(all), Expired: int64(len(set.dead))}
	if err != nil || stats.Sessions != want.Sessions || stats.Bytes != want.Bytes || stats.Expired != want.Expired {
		h.t.Errorf("Stats: got %+v, %v, want %+v (FileBytes aside), nil", stats, err, want)
	}
	if stats.FileBytes < 0 {
		h.t.Errorf("Stats.FileBytes: got %d, want at least 0", stats.FileBytes)
	}
}

func testClose(h *harness) {
	c, ok := h.st.(io.Closer)
	if !ok {
		h.t.Skip("store does not implement io.Closer")
	}
	const id = "closing"
	h.create(id, map[store.Key]string{store.SessionKey("a"): "1"})
	for i := range 2 {
		if err := c.Close(); err != nil {
			h.t.Fatalf("Close #%d: got %v, want nil", i+1, err)
		}
	}
	check := func(method string, err error) {
		h.t.Helper()
		if !errors.Is(err, store.ErrClosed) {
			h.t.Errorf("%s after Close: got %v, want %v", method, err, store.ErrClosed)
		}
	}
	_, _, err := h.st.Load(h.ctx, id)
	check("Load", err)
	_, err = h.st.Commit(h.ctx, id, store.Delta{Set: bytesOf(map[store.Key]string{store.SessionKey("b"): "2"})})
	check("Commit", err)
	_, err = h.st.Commit(h.ctx, "new", h.createDelta(nil))
	check("Commit with Create", err)
	check("Delete", h.st.Delete(h.ctx, id))
	if sw, ok := h.st.(store.Sweeper); ok {
		_, err := sw.Sweep(h.ctx)
		check("Sweep", err)
	}
	if ls, ok := h.st.(store.Lister); ok {
		check("List", ls.List(h.ctx, func(string, store.Meta) bool { return true }))
	}
	if st, ok := h.st.(store.Statser); ok {
		_, err := st.Stats(h.ctx)
		check("Stats", err)
	}
}
