package storetest

import (
	"time"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file cover the tab table: namespaces, which tabs
// may be written, what closing a tab takes with it, and tab numbers.

func testTabNamespaceIsolated(h *harness) {
	const id = "namespaces"
	h.create(id, nil)
	t1, _ := h.openTab(id, "one")
	t2, _ := h.openTab(id, "two")
	want := map[store.Key]string{
		store.SessionKey("cart"): "session",
		store.TabKey(0, "cart"):  "tab 0",
		store.TabKey(t1, "cart"): "tab 1",
		store.TabKey(t2, "cart"): "tab 2",
	}
	h.commit(id, store.Delta{Set: bytesOf(want)})
	h.wantValues(id, want)

	appendBang := func(old []byte, _ bool) ([]byte, error) { return append(old, '!'), nil }
	h.commit(id, store.Delta{
		Delete: []store.Key{store.TabKey(t1, "cart")},
		Update: map[store.Key]store.UpdateFunc{
			store.SessionKey("cart"): appendBang,
			store.TabKey(t2, "cart"): appendBang,
		},
	})
	h.wantValues(id, map[store.Key]string{
		store.SessionKey("cart"): "session!",
		store.TabKey(0, "cart"):  "tab 0",
		store.TabKey(t2, "cart"): "tab 2!",
	})
}

func testTabNotOpen(h *harness) {
	const id = "tab-not-open"
	h.create(id, map[store.Key]string{store.SessionKey("a"): "1"})
	const stranger = 7
	h.commitErr(id, store.Delta{Set: bytesOf(map[store.Key]string{store.TabKey(stranger, "x"): "1"})}, store.ErrNoTab)
	h.commitErr(id, store.Delta{Update: map[store.Key]store.UpdateFunc{store.TabKey(stranger, "x"): increment}}, store.ErrNoTab)
	// One bad key spoils the whole delta.
	h.commitErr(id, store.Delta{Set: bytesOf(map[store.Key]string{
		store.SessionKey("b"):       "2",
		store.TabKey(stranger, "x"): "1",
	})}, store.ErrNoTab)
	// Deleting from a tab that is not open deletes nothing, which is fine.
	h.commit(id, store.Delta{Delete: []store.Key{store.TabKey(stranger, "x")}})

	// Tab 0 needs no opening, and gets a table entry once it holds a value.
	m := h.commit(id, store.Delta{Set: bytesOf(map[store.Key]string{store.TabKey(0, "x"): "1"})})
	if info, ok := m.Tabs[0]; !ok || !info.Created.Equal(h.now()) {
		h.t.Fatalf("Tabs[0] after its first value: got %+v (present %v), want an entry created %v", info, ok, h.now())
	}

	// A tab that was open and closed is as closed as one never opened.
	n, _ := h.openTab(id, "short-lived")
	h.commit(id, store.Delta{EditMeta: closeTabEdit(n)})
	h.commitErr(id, store.Delta{Set: bytesOf(map[store.Key]string{store.TabKey(n, "x"): "1"})}, store.ErrNoTab)
	h.wantValues(id, map[store.Key]string{store.SessionKey("a"): "1", store.TabKey(0, "x"): "1"})
}

func testEditMetaDropsTabValues(h *harness) {
	const id = "drop-tab"
	h.create(id, map[store.Key]string{store.SessionKey("s"): "session", store.TabKey(0, "z"): "zero"})
	a, _ := h.openTab(id, "a")
	b, _ := h.openTab(id, "b")
	h.commit(id, store.Delta{Set: bytesOf(map[store.Key]string{
		store.TabKey(a, "cart"): "apple",
		store.TabKey(a, "note"): "n",
		store.TabKey(b, "cart"): "pear",
	})})
	before := h.load(id)

	m := h.commit(id, store.Delta{EditMeta: closeTabEdit(a)})
	if _, ok := m.Tabs[a]; ok {
		h.t.Fatalf("Tabs after closing %d: got %v, want it gone", a, tabNumbers(m))
	}
	if want := before.Meta.Bytes - before.Meta.Tabs[a].Bytes; m.Bytes != want {
		h.t.Errorf("Bytes after closing tab %d: got %d, want %d", a, m.Bytes, want)
	}
	rec := h.wantValues(id, map[store.Key]string{
		store.SessionKey("s"):   "session",
		store.TabKey(0, "z"):    "zero",
		store.TabKey(b, "cart"): "pear",
	})
	if got, want := rec.Meta.Tabs[b], before.Meta.Tabs[b]; got.Bytes != want.Bytes || got.Label != want.Label {
		h.t.Errorf("Tabs[%d] after closing tab %d: got %+v, want %+v", b, a, got, want)
	}

	// A delta cannot close a tab and write to it: the write would vanish
	// with the tab.
	h.commitErr(id, store.Delta{
		EditMeta: closeTabEdit(b),
		Set:      bytesOf(map[store.Key]string{store.TabKey(b, "cart"): "plum"}),
	}, store.ErrNoTab)
	h.commitErr(id, store.Delta{
		EditMeta: closeTabEdit(0),
		Set:      bytesOf(map[store.Key]string{store.TabKey(0, "z"): "again"}),
	}, store.ErrNoTab)

	// Closing tab 0 clears it; it is open again, empty, right after.
	m = h.commit(id, store.Delta{
		EditMeta: closeTabEdit(0),
		Delete:   []store.Key{store.TabKey(0, "z")},
	})
	if _, ok := m.Tabs[0]; ok {
		h.t.Fatalf("Tabs after closing tab 0: got %v, want no entry for 0", tabNumbers(m))
	}
	h.wantValues(id, map[store.Key]string{store.SessionKey("s"): "session", store.TabKey(b, "cart"): "pear"})
	h.commit(id, store.Delta{Set: bytesOf(map[store.Key]string{store.TabKey(0, "fresh"): "1"})})
	h.wantValues(id, map[store.Key]string{
		store.SessionKey("s"):    "session",
		store.TabKey(b, "cart"):  "pear",
		store.TabKey(0, "fresh"): "1",
	})
}

func testTabNumbersNeverReused(h *harness) {
	const id = "tab-numbers"
	m := h.create(id, nil)
	var highest uint32 // above every tab number ever open
	nextTab := m.NextTab
	check := func(what string, m store.Meta) {
		h.t.Helper()
		for n := range m.Tabs {
			highest = max(highest, n+1)
		}
		if m.NextTab < nextTab || m.NextTab < highest {
			h.t.Fatalf("NextTab after %s: got %d, want at least %d (never lower, above every tab ever open)", what, m.NextTab, max(nextTab, highest))
		}
		nextTab = m.NextTab
	}
	var opened []uint32
	for range 3 {
		n, m := h.openTab(id, "")
		if n < highest {
			h.t.Fatalf("new tab number: got %d, want at least %d", n, highest)
		}
		opened = append(opened, n)
		check("opening a tab", m)
	}
	last := opened[len(opened)-1]
	check("closing the newest tab", h.commit(id, store.Delta{EditMeta: closeTabEdit(last)}))
	check("lowering NextTab", h.commit(id, store.Delta{EditMeta: func(m *store.Meta) error {
		m.NextTab = 0
		return nil
	}}))
	// A tab opened by number, without moving NextTab: the store moves it.
	const far = 100
	now := h.now()
	check("opening tab 100", h.commit(id, store.Delta{EditMeta: func(m *store.Meta) error {
		m.Tabs[far] = store.TabInfo{Created: now, LastSeen: now}
		return nil
	}}))
	check("closing tab 100", h.commit(id, store.Delta{EditMeta: closeTabEdit(far)}))
	h.clock.Advance(time.Minute)
	n, m := h.openTab(id, "")
	if n <= far {
		h.t.Fatalf("tab number after tab %d was closed: got %d, want above it", far, n)
	}
	check("opening a tab after 100", m)
	check("loading", h.load(id).Meta)
}
