package storetest

import (
	"time"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file cover values with a time to live
// (Delta.Expires): they read as missing once their deadline passes, even
// while the session lives, and the next commit reclaims their bytes.

func testValueTTL(h *harness) {
	const id = "ttl"
	otp, keep := store.SessionKey("otp"), store.SessionKey("keep")
	h.create(id, map[store.Key]string{keep: "k"})
	deadline := h.now().Add(10 * time.Minute)
	h.commit(id, store.Delta{
		Set:     map[store.Key][]byte{otp: []byte("123456")},
		Expires: map[store.Key]time.Time{otp: deadline, keep: deadline}, // keep is not written: ignored
	})
	rec := h.wantValues(id, map[store.Key]string{keep: "k", otp: "123456"})
	if at, ok := rec.Meta.Expiring[otp]; !ok || !at.Equal(deadline) || len(rec.Meta.Expiring) != 1 {
		h.t.Fatalf("Expiring: got %v, want only %s at %v", rec.Meta.Expiring, keyString(otp), deadline)
	}

	h.clock.Set(deadline.Add(-time.Millisecond))
	h.wantValues(id, map[store.Key]string{keep: "k", otp: "123456"})
	h.clock.Set(deadline)
	rec = h.wantValues(id, map[store.Key]string{keep: "k"})
	if len(rec.Meta.Expiring) != 0 {
		h.t.Errorf("Expiring once the deadline passed: got %v, want none", rec.Meta.Expiring)
	}
	meta := h.commit(id, store.Delta{LastSeen: h.now()})
	if want := int64(len("keep") + len("k")); meta.Bytes != want {
		h.t.Errorf("Bytes after the next commit: got %d, want %d (the expired value reclaimed)", meta.Bytes, want)
	}
	// Gone for an update too: it starts from nothing.
	h.commit(id, store.Delta{Update: map[store.Key]store.UpdateFunc{otp: increment}})
	h.wantValues(id, map[store.Key]string{keep: "k", otp: "1"})
}

func testValueTTLRules(h *harness) {
	const id = "ttl-rules"
	a, b, c := store.SessionKey("a"), store.SessionKey("b"), store.SessionKey("c")
	h.create(id, nil)
	tab, _ := h.openTab(id, "")
	inTab := store.TabKey(tab, "hold")
	soon := h.now().Add(time.Minute)
	later := h.now().Add(time.Hour)
	h.commit(id, store.Delta{
		Set:     map[store.Key][]byte{a: []byte("1"), b: []byte("1"), c: []byte("1"), inTab: []byte("x")},
		Expires: map[store.Key]time.Time{a: soon, b: soon, c: soon, inTab: soon},
	})
	h.commit(id, store.Delta{
		Set:    map[store.Key][]byte{a: []byte("2")}, // a Set without a deadline makes it permanent
		Update: map[store.Key]store.UpdateFunc{b: increment, c: increment},
		// b keeps its deadline; c gets a later one.
		Expires: map[store.Key]time.Time{c: later},
	})
	rec := h.load(id)
	if _, ok := rec.Meta.Expiring[a]; ok {
		h.t.Errorf("a after a Set without a deadline: still expires at %v, want no deadline", rec.Meta.Expiring[a])
	}
	if at := rec.Meta.Expiring[b]; !at.Equal(soon) {
		h.t.Errorf("b after an Update: expires at %v, want %v (kept)", at, soon)
	}
	if at := rec.Meta.Expiring[c]; !at.Equal(later) {
		h.t.Errorf("c after an Update with a deadline: expires at %v, want %v", at, later)
	}
	h.commit(id, store.Delta{EditMeta: closeTabEdit(tab)})
	if _, ok := h.load(id).Meta.Expiring[inTab]; ok {
		h.t.Errorf("deadline of a value in a closed tab: still there, want it gone with the tab")
	}
	h.commit(id, store.Delta{Delete: []store.Key{c}})
	if _, ok := h.load(id).Meta.Expiring[c]; ok {
		h.t.Errorf("deadline of a deleted value: still there, want it gone")
	}
	h.clock.Set(soon)
	h.wantValues(id, map[store.Key]string{a: "2"})
}

func testValueTTLMoves(h *harness) {
	from, to := movePair("ttlmove")
	k := store.SessionKey("otp")
	h.create(from, nil)
	deadline := h.now().Add(time.Minute)
	h.commit(from, store.Delta{Set: map[store.Key][]byte{k: []byte("1")}, Expires: map[store.Key]time.Time{k: deadline}})
	if _, err := h.st.Move(h.ctx, from, to, store.Delta{}); err != nil {
		h.t.Fatalf("Move: got %v, want nil", err)
	}
	if at := h.load(to).Meta.Expiring[k]; !at.Equal(deadline) {
		h.t.Errorf("deadline after Move: got %v, want %v", at, deadline)
	}
	h.clock.Set(deadline)
	h.wantValues(to, nil)
	// What a request saw as missing is what the store holds.
	h.commit(to, store.Delta{
		Expect: map[store.Key]store.Expected{k: {}},
		Set:    map[store.Key][]byte{k: []byte("2")},
	})
	h.wantValues(to, map[store.Key]string{k: "2"})
}
