package storetest

import (
	"time"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file move the clock: a session lives until the
// earlier of its deadlines, and not a moment longer.

func testIdleExpiry(h *harness) {
	const id = "idle"
	const idle = 30 * time.Minute
	h.commit(id, store.Delta{
		Create:       true,
		IdleDeadline: h.now().Add(idle),
		Set:          bytesOf(map[store.Key]string{store.SessionKey("a"): "1"}),
	})
	h.clock.Advance(idle - time.Second)
	h.wantValues(id, map[store.Key]string{store.SessionKey("a"): "1"})
	// At the deadline itself the session is over (Meta.Expired).
	h.clock.Advance(time.Second)
	h.gone(id)
	h.commitErr(id, store.Delta{LastSeen: h.now(), IdleDeadline: h.now().Add(idle)}, store.ErrNotFound)
	h.gone(id)
}

func testAbsoluteExpiry(h *harness) {
	const id = "absolute"
	const idle, abs = 30 * time.Minute, time.Hour
	start := h.now()
	h.commit(id, store.Delta{
		Create:       true,
		IdleDeadline: start.Add(idle),
		AbsDeadline:  start.Add(abs),
		Set:          bytesOf(map[store.Key]string{store.SessionKey("a"): "1"}),
	})
	// An active user keeps pushing the idle deadline past the absolute one;
	// the absolute one still wins.
	for range 3 {
		h.clock.Advance(idle / 2)
		m := h.commit(id, store.Delta{LastSeen: h.now(), IdleDeadline: h.now().Add(idle)})
		if want := start.Add(abs); m.ExpiresAt().After(want) {
			h.t.Fatalf("ExpiresAt: got %v, want no later than the absolute deadline %v", m.ExpiresAt(), want)
		}
	}
	h.clock.Set(start.Add(abs - time.Second))
	h.wantValues(id, map[store.Key]string{store.SessionKey("a"): "1"})
	h.clock.Set(start.Add(abs))
	h.gone(id)
	h.commitErr(id, store.Delta{LastSeen: h.now(), IdleDeadline: h.now().Add(idle)}, store.ErrNotFound)
}

func testDeadlinesTouch(h *harness) {
	const id = "touch"
	const idle = 30 * time.Minute
	start := h.now()
	h.commit(id, store.Delta{
		Create:       true,
		IdleDeadline: start.Add(idle),
		Set:          bytesOf(map[store.Key]string{store.SessionKey("a"): "1"}),
	})

	h.clock.Advance(20 * time.Minute)
	touched := h.now()
	m := h.commit(id, store.Delta{LastSeen: touched, IdleDeadline: touched.Add(idle)})
	if !m.LastSeen.Equal(touched) || !m.IdleDeadline.Equal(touched.Add(idle)) {
		h.t.Fatalf("LastSeen, IdleDeadline after a touch: got %v, %v, want %v, %v", m.LastSeen, m.IdleDeadline, touched, touched.Add(idle))
	}
	// Past the first deadline, alive thanks to the touch.
	h.clock.Advance(20 * time.Minute)
	rec := h.load(id)
	if !rec.Meta.LastSeen.Equal(touched) || !rec.Meta.Created.Equal(start) {
		h.t.Fatalf("LastSeen, Created loaded: got %v, %v, want %v, %v", rec.Meta.LastSeen, rec.Meta.Created, touched, start)
	}

	// Zero deadline fields in a delta leave the session's alone.
	m = h.commit(id, store.Delta{Set: bytesOf(map[store.Key]string{store.SessionKey("b"): "2"})})
	if !m.IdleDeadline.Equal(touched.Add(idle)) || !m.AbsDeadline.IsZero() || !m.LastSeen.Equal(touched) {
		h.t.Fatalf("deadlines after a delta without any: got idle %v, abs %v, last seen %v, want %v, zero, %v",
			m.IdleDeadline, m.AbsDeadline, m.LastSeen, touched.Add(idle), touched)
	}

	// EditMeta may move deadlines too, for example to grant a longer life
	// at login.
	later := h.now().Add(2 * time.Hour)
	m = h.commit(id, store.Delta{EditMeta: func(m *store.Meta) error {
		m.IdleDeadline = later
		return nil
	}})
	if !m.IdleDeadline.Equal(later) {
		h.t.Fatalf("IdleDeadline set by EditMeta: got %v, want %v", m.IdleDeadline, later)
	}
	h.clock.Set(later.Add(-time.Second))
	h.wantValues(id, map[store.Key]string{store.SessionKey("a"): "1", store.SessionKey("b"): "2"})
	h.clock.Set(later)
	h.gone(id)
}
