package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file cover Delta.Expect: a write computed from a
// value read earlier lands only if that value is still there, so naive
// get-modify-set code is refused instead of silently losing a write.

func expect(v string, found bool) store.Expected {
	if !found {
		return store.Expected{}
	}
	return store.Expected{Value: []byte(v), Found: true}
}

func testExpectMet(h *harness) {
	const id = "expect-met"
	list, other := store.SessionKey("list"), store.TabKey(0, "other")
	h.create(id, map[store.Key]string{list: "a"})
	h.commit(id, store.Delta{
		Expect: map[store.Key]store.Expected{list: expect("a", true), other: expect("", false)},
		Set:    map[store.Key][]byte{list: []byte("a,b"), other: []byte("x")},
	})
	h.commit(id, store.Delta{
		Expect: map[store.Key]store.Expected{list: expect("a,b", true)},
		Delete: []store.Key{list},
	})
	h.wantValues(id, map[store.Key]string{other: "x"})
}

func testExpectNotMet(h *harness) {
	list, empty := store.SessionKey("list"), store.SessionKey("empty")
	for _, tt := range []struct {
		name    string
		meant   store.Delta // what the stale request sends
		between store.Delta // what another request committed after it read
	}{
		{"changed meanwhile",
			store.Delta{Expect: map[store.Key]store.Expected{list: expect("a", true)}, Set: map[store.Key][]byte{list: []byte("a,c")}},
			store.Delta{Set: map[store.Key][]byte{list: []byte("a,b")}}},
		{"created meanwhile",
			store.Delta{Expect: map[store.Key]store.Expected{empty: expect("", false)}, Set: map[store.Key][]byte{empty: []byte("mine")}},
			store.Delta{Set: map[store.Key][]byte{empty: []byte("theirs")}}},
		{"deleted meanwhile",
			store.Delta{Expect: map[store.Key]store.Expected{list: expect("a", true)}, Set: map[store.Key][]byte{list: []byte("a,c")}},
			store.Delta{Delete: []store.Key{list}}},
		{"deleted meanwhile, then deleting",
			store.Delta{Expect: map[store.Key]store.Expected{list: expect("a", true)}, Delete: []store.Key{list}, Set: map[store.Key][]byte{empty: []byte("x")}},
			store.Delta{Set: map[store.Key][]byte{list: []byte("b")}}},
	} {
		id := "expect-" + tt.name
		h.create(id, map[store.Key]string{list: "a"})
		h.commit(id, tt.between)
		h.commitErr(id, tt.meant, store.ErrConflict)
	}
	// Another request wrote back the very bytes that were read: values
	// are compared, not versions, so that is no conflict.
	const id = "expect-same-bytes"
	h.create(id, map[store.Key]string{list: "a"})
	h.commit(id, store.Delta{Set: map[store.Key][]byte{list: []byte("a")}})
	h.commit(id, store.Delta{Expect: map[store.Key]store.Expected{list: expect("a", true)}, Set: map[store.Key][]byte{list: []byte("a,z")}})
	h.wantValues(id, map[store.Key]string{list: "a,z"})
}

func testExpectOnlyReadKeys(h *harness) {
	const id = "expect-only-read"
	a, b := store.SessionKey("a"), store.SessionKey("b")
	h.create(id, map[store.Key]string{a: "1", b: "1"})
	h.commit(id, store.Delta{Set: map[store.Key][]byte{b: []byte("2")}})
	// This request read a, not b: its write of b is a blind write and
	// lands, while its expectation on a holds.
	h.commit(id, store.Delta{
		Expect: map[store.Key]store.Expected{a: expect("1", true)},
		Set:    map[store.Key][]byte{a: []byte("x"), b: []byte("3")},
	})
	h.wantValues(id, map[store.Key]string{a: "x", b: "3"})
}

// testNaiveAppendsLoseNothing runs the get/append/set pattern with
// expectations from many writers at once, every one loading before any
// commits: one lands, the rest are refused, and every acknowledged append
// is in the final list.
func testNaiveAppendsLoseNothing(h *harness) {
	const id = "naive-appends"
	const writers = 16
	list := store.SessionKey("list")
	h.create(id, map[store.Key]string{list: ""})
	var acked [writers]atomic.Bool
	var loaded sync.WaitGroup
	loaded.Add(writers)
	Race(writers, func(i int) {
		rec, found, err := h.st.Load(h.ctx, id)
		loaded.Done()
		if err != nil || !found {
			h.t.Errorf("writer %d: Load got found=%v, %v", i, found, err)
			return
		}
		loaded.Wait()
		old := rec.Values[list]
		item := fmt.Appendf(nil, "[%02d]", i)
		_, err = h.st.Commit(h.ctx, id, store.Delta{
			Expect: map[store.Key]store.Expected{list: {Value: old, Found: true}},
			Set:    map[store.Key][]byte{list: append(bytes.Clone(old), item...)},
		})
		switch {
		case err == nil:
			acked[i].Store(true)
		case !errors.Is(err, store.ErrConflict):
			h.t.Errorf("writer %d: got %v, want nil or %v", i, err, store.ErrConflict)
		}
	})
	got := h.load(id).Values[list]
	n := 0
	for i := range writers {
		present := bytes.Contains(got, fmt.Appendf(nil, "[%02d]", i))
		if acked[i].Load() != present {
			h.t.Errorf("writer %d: acknowledged %v, in the list %v; want them equal (list %q)", i, acked[i].Load(), present, got)
		}
		if present {
			n++
		}
	}
	if n != 1 {
		h.t.Errorf("%d appends landed; want exactly one, as all read the same list (list %q)", n, got)
	}
}
