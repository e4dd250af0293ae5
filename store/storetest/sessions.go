package storetest

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file cover a single session's life: create, load,
// commit, delete, and the identifiers and key names a store must accept.

func testMissingID(h *harness) {
	rec, found, err := h.st.Load(h.ctx, "never-created")
	if err != nil || found {
		h.t.Fatalf("Load of a missing session: got found=%v, err=%v, want found=false, err=nil", found, err)
	}
	if len(rec.Values) != 0 || rec.Meta.Version != 0 {
		h.t.Errorf("Load of a missing session: got %d values, version %d, want the zero Record", len(rec.Values), rec.Meta.Version)
	}
	// Neither a write nor a bare touch may bring a session into being: only
	// Create does.
	h.commitErr("never-created", store.Delta{Set: bytesOf(map[store.Key]string{store.SessionKey("a"): "1"})}, store.ErrNotFound)
	h.commitErr("never-created", store.Delta{LastSeen: h.now(), IdleDeadline: h.now().Add(idleTimeout)}, store.ErrNotFound)
	if err := h.st.Delete(h.ctx, "never-created"); err != nil {
		h.t.Errorf("Delete of a missing session: got %v, want nil", err)
	}
	h.gone("never-created")
}

func testRoundTrip(h *harness) {
	const id = "round-trip"
	start := h.now()
	created := h.create(id, map[store.Key]string{
		store.SessionKey("user"):  "alice",
		store.SessionKey("empty"): "",
		store.TabKey(0, "cart"):   `["apple"]`,
	})
	wantTimes := []struct {
		name      string
		got, want time.Time
	}{
		{"Created", created.Created, start},
		{"LastSeen", created.LastSeen, start},
		{"IdleDeadline", created.IdleDeadline, start.Add(idleTimeout)},
		{"AbsDeadline", created.AbsDeadline, start.Add(absTimeout)},
		{"Tabs[0].Created", created.Tabs[0].Created, start},
	}
	for _, tt := range wantTimes {
		if !tt.got.Equal(tt.want) {
			h.t.Errorf("created meta %s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if created.Version == 0 {
		h.t.Errorf("created meta Version: got 0, want above 0")
	}
	if diff := diffMeta(h.load(id).Meta, created); diff != "" {
		h.t.Errorf("Load after create, meta differs from Commit's: %s", diff)
	}

	h.clock.Advance(time.Minute)
	label := "Register 2 — café ☕"
	n, _ := h.openTab(id, label)
	last := h.commit(id, store.Delta{
		LastSeen: h.now(),
		Set:      bytesOf(map[store.Key]string{store.TabKey(n, "cart"): `["pear","fig"]`}),
	})
	rec := h.wantValues(id, map[store.Key]string{
		store.SessionKey("user"):  "alice",
		store.SessionKey("empty"): "",
		store.TabKey(0, "cart"):   `["apple"]`,
		store.TabKey(n, "cart"):   `["pear","fig"]`,
	})
	if diff := diffMeta(rec.Meta, last); diff != "" {
		h.t.Errorf("Load meta differs from Commit's: %s", diff)
	}
	info := rec.Meta.Tabs[n]
	if info.Label != label || !info.Created.Equal(h.now()) {
		h.t.Errorf("Tabs[%d]: got label %q created %v, want %q created %v", n, info.Label, info.Created, label, h.now())
	}
	if !rec.Meta.Created.Equal(start) || !rec.Meta.LastSeen.Equal(h.now()) {
		h.t.Errorf("Created, LastSeen: got %v, %v, want %v, %v", rec.Meta.Created, rec.Meta.LastSeen, start, h.now())
	}
}

func testDeltaLeavesOtherKeysAlone(h *harness) {
	const id = "other-keys"
	h.create(id, map[store.Key]string{
		store.SessionKey("a"): "1",
		store.SessionKey("b"): "2",
		store.SessionKey("c"): "3",
		store.TabKey(0, "a"):  "tab",
	})
	h.commit(id, store.Delta{
		Set:    bytesOf(map[store.Key]string{store.SessionKey("b"): "22"}),
		Delete: []store.Key{store.SessionKey("c")},
		Update: map[store.Key]store.UpdateFunc{
			store.SessionKey("d"): func([]byte, bool) ([]byte, error) { return []byte("4"), nil },
		},
	})
	want := map[store.Key]string{
		store.SessionKey("a"): "1",
		store.SessionKey("b"): "22",
		store.SessionKey("d"): "4",
		store.TabKey(0, "a"):  "tab",
	}
	h.wantValues(id, want)
	// A request that only touches the deadlines must not write values back.
	h.clock.Advance(time.Minute)
	h.commit(id, store.Delta{LastSeen: h.now(), IdleDeadline: h.now().Add(idleTimeout)})
	h.wantValues(id, want)
}

func testDeleteIsIdempotent(h *harness) {
	const id = "delete-twice"
	h.create(id, map[store.Key]string{store.SessionKey("a"): "1", store.TabKey(0, "b"): "2"})
	for i := range 2 {
		if err := h.st.Delete(h.ctx, id); err != nil {
			h.t.Fatalf("Delete #%d: got %v, want nil", i+1, err)
		}
		h.gone(id)
	}
	h.commitErr(id, store.Delta{Set: bytesOf(map[store.Key]string{store.SessionKey("a"): "1"})}, store.ErrNotFound)
}

func testReturnedValuesAreCopies(h *harness) {
	const id = "copies"
	key := store.SessionKey("fruit")
	tabKey := store.TabKey(0, "fruit")
	value := []byte("apple")
	created := h.commit(id, store.Delta{
		Create:       true,
		IdleDeadline: h.now().Add(idleTimeout),
		Set:          map[store.Key][]byte{key: value, tabKey: value},
	})
	// The store must have copied what it was given...
	value[0] = 'X'
	// ...and what it returns.
	created.Tabs[0] = store.TabInfo{Label: "scribbled"}
	created.Tabs[99] = store.TabInfo{}

	rec := h.load(id)
	rec.Values[key][0] = 'Y'
	delete(rec.Values, tabKey)
	rec.Values[store.SessionKey("extra")] = []byte("x")
	delete(rec.Meta.Tabs, 0)

	updated := []byte("plum")
	h.commit(id, store.Delta{Update: map[store.Key]store.UpdateFunc{
		store.SessionKey("other"): func([]byte, bool) ([]byte, error) { return updated, nil },
	}})
	updated[0] = 'Z'

	again := h.wantValues(id, map[store.Key]string{key: "apple", tabKey: "apple", store.SessionKey("other"): "plum"})
	if info, ok := again.Meta.Tabs[0]; !ok || info.Label != "" {
		h.t.Errorf("Tabs[0] after scribbling on returned metas: got %+v (present %v), want an unlabelled entry", info, ok)
	}
	if _, ok := again.Meta.Tabs[99]; ok {
		h.t.Errorf("Tabs[99]: got an entry, want none (it was only added to a returned copy)")
	}
}

func testCreateExisting(h *harness) {
	const id = "exists"
	h.create(id, map[store.Key]string{store.SessionKey("a"): "1"})
	// A second Create must not overwrite the live session, whatever it sets.
	h.commitErr(id, h.createDelta(map[store.Key]string{store.SessionKey("a"): "2", store.SessionKey("b"): "3"}), store.ErrExists)
	h.wantValues(id, map[store.Key]string{store.SessionKey("a"): "1"})
}

func testCommitMissing(h *harness) {
	set := store.Delta{Set: bytesOf(map[store.Key]string{store.SessionKey("late"): "write"})}
	h.commitErr("commit-missing", set, store.ErrNotFound)

	// Destroyed by one request while another was still running: the late
	// commit must fail, not bring the session back.
	h.create("commit-deleted", map[store.Key]string{store.SessionKey("a"): "1"})
	if err := h.st.Delete(h.ctx, "commit-deleted"); err != nil {
		h.t.Fatalf("Delete: got %v, want nil", err)
	}
	h.commitErr("commit-deleted", set, store.ErrNotFound)
	h.gone("commit-deleted")

	h.create("commit-expired", map[store.Key]string{store.SessionKey("a"): "1"})
	h.clock.Advance(idleTimeout)
	h.commitErr("commit-expired", set, store.ErrNotFound)
	h.commitErr("commit-expired", store.Delta{LastSeen: h.now(), IdleDeadline: h.now().Add(idleTimeout)}, store.ErrNotFound)
	h.gone("commit-expired")
}

func testCreateOverExpired(h *harness) {
	const id = "reborn"
	h.create(id, map[store.Key]string{store.SessionKey("old"): "1", store.TabKey(0, "old"): "2"})
	n, _ := h.openTab(id, "old tab")
	h.commit(id, store.Delta{Set: bytesOf(map[store.Key]string{store.TabKey(n, "old"): "3"})})

	h.clock.Advance(idleTimeout)
	h.gone(id)
	start := h.now()
	m := h.create(id, map[store.Key]string{store.SessionKey("new"): "4"})
	if !m.Created.Equal(start) {
		h.t.Errorf("Created of the new session: got %v, want %v", m.Created, start)
	}
	rec := h.wantValues(id, map[store.Key]string{store.SessionKey("new"): "4"})
	if _, ok := rec.Meta.Tabs[n]; ok {
		h.t.Errorf("tabs of the new session: got %v, want tab %d of the expired one gone", tabNumbers(rec.Meta), n)
	}
}

func testInvalidID(h *harness) {
	for _, id := range []string{"", strings.Repeat("x", store.MaxIDLength+1)} {
		if _, _, err := h.st.Load(h.ctx, id); !errors.Is(err, store.ErrInvalidID) {
			h.t.Errorf("Load of a %d-byte ID: got %v, want %v", len(id), err, store.ErrInvalidID)
		}
		if _, err := h.st.Commit(h.ctx, id, h.createDelta(nil)); !errors.Is(err, store.ErrInvalidID) {
			h.t.Errorf("Commit of a %d-byte ID: got %v, want %v", len(id), err, store.ErrInvalidID)
		}
		if err := h.st.Delete(h.ctx, id); !errors.Is(err, store.ErrInvalidID) {
			h.t.Errorf("Delete of a %d-byte ID: got %v, want %v", len(id), err, store.ErrInvalidID)
		}
	}
	longest := strings.Repeat("x", store.MaxIDLength)
	h.create(longest, map[store.Key]string{store.SessionKey("a"): "1"})
	h.wantValues(longest, map[store.Key]string{store.SessionKey("a"): "1"})
}

// testIDsAreDistinct catches key layouts that build a session's storage
// names by concatenation: "a" plus a suffix must never reach "a:v".
func testIDsAreDistinct(h *harness) {
	ids := []string{"a", "a:v", "a:m", "a/x", "a\x00", "a.b", "{a}", "a*", "a?", "[a]", "a b", "ä"}
	for i, id := range ids {
		h.create(id, map[store.Key]string{store.SessionKey("owner"): id, store.TabKey(0, "n"): string(rune('A' + i))})
	}
	if err := h.st.Delete(h.ctx, "a"); err != nil {
		h.t.Fatalf("Delete(%q): got %v, want nil", "a", err)
	}
	h.gone("a")
	for i, id := range ids[1:] {
		h.wantValues(id, map[store.Key]string{store.SessionKey("owner"): id, store.TabKey(0, "n"): string(rune('A' + i + 1))})
	}
}

func testKeyNames(h *harness) {
	const id = "key-names"
	h.create(id, nil)
	n, _ := h.openTab(id, "")
	names := []string{
		"a", "a\x00", "a\x00b", "\x00", "\xff\xfe", "日本語🛒", "with space",
		"colon:slash/dot.", "{tag}", "*", strings.Repeat("n", store.MaxKeyName),
	}
	want := make(map[store.Key]string)
	for i, name := range names {
		want[store.SessionKey(name)] = "s" + name
		want[store.TabKey(0, name)] = string(rune('0' + i))
		want[store.TabKey(n, name)] = "t" + name
	}
	h.commit(id, store.Delta{Set: bytesOf(want)})
	h.wantValues(id, want)

	tooLong := strings.Repeat("n", store.MaxKeyName+1)
	for _, k := range []store.Key{store.SessionKey(tooLong), store.TabKey(n, tooLong)} {
		h.commitErr(id, store.Delta{Set: map[store.Key][]byte{k: []byte("v")}}, store.ErrTooLarge)
		h.commitErr(id, store.Delta{Update: map[store.Key]store.UpdateFunc{
			k: func([]byte, bool) ([]byte, error) { return []byte("v"), nil },
		}}, store.ErrTooLarge)
	}
	// The longest name is a name like any other: it can be deleted.
	longest := store.SessionKey(strings.Repeat("n", store.MaxKeyName))
	h.commit(id, store.Delta{Delete: []store.Key{longest}})
	delete(want, longest)
	h.wantValues(id, want)
}

func testVersionGrows(h *harness) {
	const id = "versions"
	m := h.create(id, nil)
	version := m.Version
	grow := func(what string, d store.Delta) {
		h.t.Helper()
		got := h.commit(id, d).Version
		if got != version+1 {
			h.t.Fatalf("Version after %s: got %d, want %d", what, got, version+1)
		}
		version = got
		if loaded := h.load(id).Meta.Version; loaded != version {
			h.t.Fatalf("Version loaded after %s: got %d, want %d", what, loaded, version)
		}
	}
	var n uint32
	grow("a set", store.Delta{Set: bytesOf(map[store.Key]string{store.SessionKey("a"): "1"})})
	grow("a touch", store.Delta{LastSeen: h.now()})
	grow("an EditMeta", store.Delta{EditMeta: openTabEdit(h.now(), "", &n)})
	grow("an update", store.Delta{Update: map[store.Key]store.UpdateFunc{store.SessionKey("a"): increment}})
	grow("a delete", store.Delta{Delete: []store.Key{store.SessionKey("a")}})
	grow("a delete of a missing key", store.Delta{Delete: []store.Key{store.SessionKey("a")}})
	// Failed commits leave the version where it was; commitErr checks.
	h.commitErr(id, store.Delta{Set: bytesOf(map[store.Key]string{store.TabKey(n+1, "a"): "1"})}, store.ErrNoTab)
	h.commitErr(id, store.Delta{Update: map[store.Key]store.UpdateFunc{store.SessionKey("a"): failUpdate}}, errBoom)
	h.commitErr(id, h.createDelta(nil), store.ErrExists)
}

func testContextCancelled(h *harness) {
	const id = "cancelled"
	h.create(id, map[store.Key]string{store.SessionKey("a"): "1"})
	before := h.load(id)
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	check := func(method string, err error) {
		h.t.Helper()
		if !errors.Is(err, context.Canceled) {
			h.t.Errorf("%s with a cancelled context: got %v, want %v", method, err, context.Canceled)
		}
	}

	_, _, err := h.st.Load(ctx, id)
	check("Load", err)
	_, err = h.st.Commit(ctx, id, store.Delta{
		Set:    bytesOf(map[store.Key]string{store.SessionKey("b"): "2"}),
		Update: map[store.Key]store.UpdateFunc{store.SessionKey("a"): increment},
	})
	check("Commit", err)
	_, err = h.st.Commit(ctx, "cancelled-new", h.createDelta(map[store.Key]string{store.SessionKey("a"): "1"}))
	check("Commit with Create", err)
	check("Delete", h.st.Delete(ctx, id))

	// None of them changed anything.
	if diff := diffRecord(h.load(id), before); diff != "" {
		h.t.Errorf("session after cancelled calls: %s", diff)
	}
	h.gone("cancelled-new")

	if sw, ok := h.st.(store.Sweeper); ok {
		_, err := sw.Sweep(ctx)
		check("Sweep", err)
	}
	if ls, ok := h.st.(store.Lister); ok {
		check("List", ls.List(ctx, func(string, store.Meta) bool { return true }))
	}
	if st, ok := h.st.(store.Statser); ok {
		_, err := st.Stats(ctx)
		check("Stats", err)
	}
}
