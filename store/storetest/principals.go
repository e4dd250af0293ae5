package storetest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file cover Meta.Principal and, when the store has
// one, its PrincipalIndex and Notifier.

// principalIndex returns the store's index or skips the subtest.
func (h *harness) principalIndex() store.PrincipalIndex {
	h.t.Helper()
	idx, ok := h.st.(store.PrincipalIndex)
	if !ok {
		h.t.Skip("store does not implement store.PrincipalIndex")
	}
	return idx
}

// sessionsOf returns the sorted IDs the index lists for p.
func (h *harness) sessionsOf(p string) []string {
	h.t.Helper()
	refs, err := h.principalIndex().SessionsOf(h.ctx, p)
	if err != nil {
		h.t.Fatalf("SessionsOf(%q): got %v, want nil", p, err)
	}
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		if r.Meta.Principal != p {
			h.t.Errorf("SessionsOf(%q) lists %q with principal %q", p, r.ID, r.Meta.Principal)
		}
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

func (h *harness) wantSessionsOf(p string, want ...string) {
	h.t.Helper()
	slices.Sort(want)
	if got := h.sessionsOf(p); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		h.t.Errorf("SessionsOf(%q): got %q, want %q", p, got, want)
	}
}

// events collects what a Notifier reports.
type events struct {
	mu   sync.Mutex
	list []store.Event
}

// subscribe returns the store's event log, or nil when it has no Notifier.
func (h *harness) subscribe() *events {
	n, ok := h.st.(store.Notifier)
	if !ok {
		return nil
	}
	ev := &events{}
	cancel := n.Subscribe(func(e store.Event) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.list = append(ev.list, e)
	})
	h.t.Cleanup(cancel)
	return ev
}

// take returns and forgets what was reported so far, as "kind id principal".
func (ev *events) take() []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var got []string
	for _, e := range ev.list {
		got = append(got, fmt.Sprintf("%v %s %s", e.Kind, e.ID, e.Principal))
	}
	ev.list = nil
	slices.Sort(got)
	return got
}

func (h *harness) wantEvents(ev *events, want ...string) {
	h.t.Helper()
	if ev == nil {
		return
	}
	slices.Sort(want)
	if got := ev.take(); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		h.t.Errorf("events: got %q, want %q", got, want)
	}
}

func setPrincipal(p string) store.Delta { return store.Delta{SetPrincipal: true, Principal: p} }

func testPrincipal(h *harness) {
	const id = "principal"
	d := h.createDelta(nil)
	d.SetPrincipal, d.Principal = true, "alice"
	h.commit(id, d)
	if got := h.load(id).Meta.Principal; got != "alice" {
		h.t.Fatalf("Principal: got %q, want %q", got, "alice")
	}
	h.commit(id, store.Delta{Set: map[store.Key][]byte{store.SessionKey("x"): []byte("y")}})
	if got := h.load(id).Meta.Principal; got != "alice" {
		h.t.Fatalf("Principal after a commit that does not set it: got %q, want %q", got, "alice")
	}
	h.commit(id, setPrincipal("bob"))
	if got := h.load(id).Meta.Principal; got != "bob" {
		h.t.Fatalf("Principal after a change: got %q, want %q", got, "bob")
	}
	h.commit(id, setPrincipal(""))
	if got := h.load(id).Meta.Principal; got != "" {
		h.t.Fatalf("Principal after clearing: got %q, want none", got)
	}
}

func testPrincipalIndex(h *harness) {
	h.principalIndex()
	a, b, other := "index-a", "index-b", "index-other"
	for _, id := range []string{a, b, other} {
		h.create(id, nil)
	}
	h.commit(a, setPrincipal("alice"))
	h.commit(b, setPrincipal("alice"))
	h.commit(other, setPrincipal("bob"))
	h.wantSessionsOf("alice", a, b)
	h.wantSessionsOf("bob", other)
	h.wantSessionsOf("nobody")

	h.commit(b, setPrincipal("bob"))
	h.wantSessionsOf("alice", a)
	h.wantSessionsOf("bob", b, other)
	h.commit(other, setPrincipal(""))
	h.wantSessionsOf("bob", b)

	if err := h.st.Delete(h.ctx, b); err != nil {
		h.t.Fatalf("Delete: got %v, want nil", err)
	}
	h.wantSessionsOf("bob")

	from, to := movePair("index")
	d := h.createDelta(nil)
	d.SetPrincipal, d.Principal = true, "alice"
	h.commit(from, d)
	h.wantSessionsOf("alice", a, from)
	if _, err := h.st.Move(h.ctx, from, to, store.Delta{}); err != nil {
		h.t.Fatalf("Move: got %v, want nil", err)
	}
	h.wantSessionsOf("alice", a, to)
	if got := h.load(to).Meta.Principal; got != "alice" {
		h.t.Errorf("Principal after Move: got %q, want %q", got, "alice")
	}
}

func testPrincipalExpiry(h *harness) {
	h.principalIndex()
	ev := h.subscribe()
	const short, long = "expiry-short", "expiry-long"
	for _, s := range []struct {
		id   string
		idle time.Duration
	}{{short, 10 * time.Minute}, {long, 2 * time.Hour}} {
		h.commit(s.id, store.Delta{Create: true, IdleDeadline: h.now().Add(s.idle), SetPrincipal: true, Principal: "carol"})
	}
	h.clock.Advance(10 * time.Minute)
	// Expired is gone from the index at once, swept or not.
	h.wantSessionsOf("carol", long)
	if sw, ok := h.st.(store.Sweeper); ok {
		if _, err := sw.Sweep(h.ctx); err != nil {
			h.t.Fatalf("Sweep: got %v, want nil", err)
		}
		h.wantSessionsOf("carol", long)
		h.wantEvents(ev, "expired "+short+" carol")
	}
}

func testPrincipalSignInsAtOnce(h *harness) {
	h.principalIndex()
	const n = 64
	ids := make([]string, n)
	Race(n, func(i int) {
		ids[i] = fmt.Sprintf("signin-%02d", i)
		d := h.createDelta(map[store.Key]string{store.SessionKey("user"): "dave"})
		d.SetPrincipal, d.Principal = true, "dave"
		if _, err := h.st.Commit(h.ctx, ids[i], d); err != nil {
			h.t.Errorf("sign-in %d: got %v, want nil", i, err)
		}
	})
	h.wantSessionsOf("dave", ids...)
	// Signing out everywhere is deleting each listed session.
	refs, err := h.principalIndex().SessionsOf(h.ctx, "dave")
	if err != nil {
		h.t.Fatalf("SessionsOf: got %v, want nil", err)
	}
	Race(len(refs), func(i int) {
		if err := h.st.Delete(h.ctx, refs[i].ID); err != nil {
			h.t.Errorf("Delete(%q): got %v, want nil", refs[i].ID, err)
		}
	})
	h.wantSessionsOf("dave")
	for _, id := range ids {
		h.gone(id)
	}
}

func testPrincipalLimitRefuses(h *harness) {
	h.principalIndex()
	limit := store.PrincipalLimit{Max: 2}
	join := func(id string) store.Delta {
		d := h.createDelta(nil)
		d.SetPrincipal, d.Principal, d.PrincipalLimit = true, "erin", limit
		return d
	}
	h.commit("limit-1", join("limit-1"))
	h.commit("limit-2", join("limit-2"))
	h.commitErr("limit-3", join("limit-3"), store.ErrTooManySessions)
	h.gone("limit-3")
	// An existing session signing in is refused alike, and keeps its data.
	h.create("limit-4", map[store.Key]string{store.SessionKey("a"): "1"})
	h.commitErr("limit-4", store.Delta{SetPrincipal: true, Principal: "erin", PrincipalLimit: limit}, store.ErrTooManySessions)
	// A session already counted may commit under the limit as before.
	h.commit("limit-1", store.Delta{SetPrincipal: true, Principal: "erin", PrincipalLimit: limit, Set: map[store.Key][]byte{store.SessionKey("b"): []byte("2")}})
	// An expired session no longer counts.
	h.clock.Advance(idleTimeout)
	h.commit("limit-5", join("limit-5"))
	h.wantSessionsOf("erin", "limit-5")
}

func testPrincipalLimitEvicts(h *harness) {
	h.principalIndex()
	ev := h.subscribe()
	limit := store.PrincipalLimit{Max: 2, EvictOldest: true}
	join := func() store.Delta {
		d := h.createDelta(nil)
		d.SetPrincipal, d.Principal, d.PrincipalLimit = true, "frank", limit
		d.LastSeen = h.now()
		return d
	}
	h.commit("evict-old", join())
	h.clock.Advance(time.Minute)
	h.commit("evict-mid", join())
	h.clock.Advance(time.Minute)
	h.commit("evict-old", store.Delta{LastSeen: h.now()}) // now the most recently seen
	h.clock.Advance(time.Minute)
	h.commit("evict-new", join())
	h.gone("evict-mid")
	h.wantSessionsOf("frank", "evict-new", "evict-old")
	h.wantEvents(ev, "evicted evict-mid frank")
}
