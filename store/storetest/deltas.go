package storetest

import (
	"strconv"
	"strings"
	"time"

	"github.com/tabkit/tabkit/store"
)

// The subtests in this file cover what one delta does: the byte counts it
// keeps, the limit it respects, and the all-or-nothing rule when part of
// it fails.

// increment is an UpdateFunc for a decimal counter.
func increment(old []byte, found bool) ([]byte, error) {
	n := 0
	if found {
		var err error
		if n, err = strconv.Atoi(string(old)); err != nil {
			return nil, err
		}
	}
	return strconv.AppendInt(nil, int64(n)+1, 10), nil
}

// failUpdate is an UpdateFunc that scribbles on its input and fails, the
// worst a caller's function can do.
func failUpdate(old []byte, _ bool) ([]byte, error) {
	for i := range old {
		old[i] = '!'
	}
	return nil, errBoom
}

func testByteAccounting(h *harness) {
	const id = "bytes"
	m := h.create(id, map[store.Key]string{
		store.SessionKey("a"): "1",  // 2 bytes
		store.TabKey(0, "b"):  "22", // 3 bytes
	})
	if m.Bytes != 5 || m.Tabs[0].Bytes != 3 {
		h.t.Fatalf("Bytes, Tabs[0].Bytes after create: got %d, %d, want 5, 3", m.Bytes, m.Tabs[0].Bytes)
	}
	n, _ := h.openTab(id, "")
	steps := []struct {
		name string
		d    store.Delta
		// want is Meta.Bytes and the per-tab byte counts after the step.
		want    int64
		wantTab map[uint32]int64
	}{
		{
			name:    "set in a new tab",
			d:       store.Delta{Set: bytesOf(map[store.Key]string{store.TabKey(n, "c"): "333"})},
			want:    9,
			wantTab: map[uint32]int64{0: 3, n: 4},
		},
		{
			name: "overwrite longer and shorter",
			d: store.Delta{Set: bytesOf(map[store.Key]string{
				store.SessionKey("a"): "1111",
				store.TabKey(n, "c"):  "3",
			})},
			want:    10,
			wantTab: map[uint32]int64{0: 3, n: 2},
		},
		{
			name:    "delete present and missing",
			d:       store.Delta{Delete: []store.Key{store.SessionKey("a"), store.SessionKey("zz"), store.TabKey(n, "zz")}},
			want:    5,
			wantTab: map[uint32]int64{0: 3, n: 2},
		},
		{
			name: "updates",
			d: store.Delta{Update: map[store.Key]store.UpdateFunc{
				store.TabKey(n, "c"): func(old []byte, _ bool) ([]byte, error) { return append(old, "45"...), nil },
				store.TabKey(0, "d"): func([]byte, bool) ([]byte, error) { return []byte("dd"), nil },
			}},
			want:    10,
			wantTab: map[uint32]int64{0: 6, n: 4},
		},
		{
			name: "update to nil",
			d: store.Delta{Update: map[store.Key]store.UpdateFunc{
				store.TabKey(0, "b"): func([]byte, bool) ([]byte, error) { return nil, nil },
			}},
			want:    7,
			wantTab: map[uint32]int64{0: 3, n: 4},
		},
		{
			name: "delete then set, set then update",
			d: store.Delta{
				Delete: []store.Key{store.TabKey(0, "d")},
				Set: bytesOf(map[store.Key]string{
					store.TabKey(0, "d"):  "d",
					store.SessionKey("e"): "e",
				}),
				Update: map[store.Key]store.UpdateFunc{
					store.SessionKey("e"): func(old []byte, _ bool) ([]byte, error) { return append(old, "ee"...), nil },
				},
			},
			want:    10,
			wantTab: map[uint32]int64{0: 2, n: 4},
		},
		{
			name:    "close a tab",
			d:       store.Delta{EditMeta: closeTabEdit(n)},
			want:    6,
			wantTab: map[uint32]int64{0: 2},
		},
	}
	for _, step := range steps {
		got := h.commit(id, step.d)
		rec := h.load(id) // checkRecord compares the counts with the values
		if diff := diffMeta(rec.Meta, got); diff != "" {
			h.t.Fatalf("%s: loaded meta differs from Commit's: %s", step.name, diff)
		}
		if got.Bytes != step.want {
			h.t.Fatalf("%s: Bytes got %d, want %d", step.name, got.Bytes, step.want)
		}
		if len(got.Tabs) != len(step.wantTab) {
			h.t.Fatalf("%s: tabs got %v, want %d tabs", step.name, tabNumbers(got), len(step.wantTab))
		}
		for tab, want := range step.wantTab {
			if b := got.Tabs[tab].Bytes; b != want {
				h.t.Fatalf("%s: Tabs[%d].Bytes got %d, want %d", step.name, tab, b, want)
			}
		}
	}
}

func testMaxBytes(h *harness) {
	const id = "max-bytes"
	nine := strings.Repeat("9", 9)
	// A create over the limit creates nothing.
	tooBig := h.createDelta(map[store.Key]string{store.SessionKey("k"): nine + "9"})
	tooBig.MaxBytes = 10
	h.commitErr(id, tooBig, store.ErrTooLarge)

	// Exactly at the limit is allowed.
	exact := h.createDelta(map[store.Key]string{store.SessionKey("k"): nine})
	exact.MaxBytes = 10
	h.commit(id, exact)
	h.commitErr(id, store.Delta{MaxBytes: 10, Set: bytesOf(map[store.Key]string{store.SessionKey("x"): "1"})}, store.ErrTooLarge)
	h.commitErr(id, store.Delta{MaxBytes: 10, Update: map[store.Key]store.UpdateFunc{
		store.SessionKey("k"): func(old []byte, _ bool) ([]byte, error) { return append(old, '9'), nil },
	}}, store.ErrTooLarge)
	h.commit(id, store.Delta{MaxBytes: 10, Set: bytesOf(map[store.Key]string{store.SessionKey("k"): "abcdefghi"})})

	// The limit can come down (configuration changed) below what a session
	// holds: it may still shrink, just not grow.
	h.commit(id, store.Delta{Set: bytesOf(map[store.Key]string{store.SessionKey("big"): nine})}) // 10+12 = 22 bytes
	h.commitErr(id, store.Delta{MaxBytes: 10, Set: bytesOf(map[store.Key]string{store.SessionKey("x"): "1"})}, store.ErrTooLarge)
	m := h.commit(id, store.Delta{MaxBytes: 10, Set: bytesOf(map[store.Key]string{store.SessionKey("big"): "9"})})
	if m.Bytes != 14 {
		h.t.Fatalf("Bytes after shrinking: got %d, want 14", m.Bytes)
	}
	h.wantValues(id, map[store.Key]string{store.SessionKey("k"): "abcdefghi", store.SessionKey("big"): "9"})
}

func testUpdateDeletes(h *harness) {
	const id = "update-deletes"
	h.create(id, map[store.Key]string{store.SessionKey("a"): "1", store.SessionKey("b"): "2"})
	var sawMissing []string
	m := h.commit(id, store.Delta{Update: map[store.Key]store.UpdateFunc{
		store.SessionKey("a"): func([]byte, bool) ([]byte, error) { return nil, nil },
		store.SessionKey("missing"): func(old []byte, found bool) ([]byte, error) {
			sawMissing = []string{string(old), strconv.FormatBool(found)}
			return nil, nil
		},
		// An empty value is a value, unlike nil.
		store.SessionKey("b"): func([]byte, bool) ([]byte, error) { return []byte{}, nil },
	}})
	if len(sawMissing) != 2 || sawMissing[0] != "" || sawMissing[1] != "false" {
		h.t.Errorf("Update of a missing key saw (old, found): got %q, want [\"\" \"false\"]", sawMissing)
	}
	if m.Bytes != 1 {
		h.t.Errorf("Bytes: got %d, want 1", m.Bytes)
	}
	h.wantValues(id, map[store.Key]string{store.SessionKey("b"): ""})
}

func testUpdateErrorWritesNothing(h *harness) {
	const id = "update-error"
	h.create(id, map[store.Key]string{store.SessionKey("a"): "1", store.TabKey(0, "t"): "tab"})
	var n uint32
	h.commitErr(id, store.Delta{
		LastSeen: h.now().Add(time.Minute),
		EditMeta: openTabEdit(h.now(), "never", &n),
		Delete:   []store.Key{store.SessionKey("a")},
		Set:      bytesOf(map[store.Key]string{store.SessionKey("b"): "2"}),
		Update: map[store.Key]store.UpdateFunc{
			store.SessionKey("c"): increment,
			store.TabKey(0, "t"):  failUpdate,
		},
	}, errBoom)
	h.wantValues(id, map[store.Key]string{store.SessionKey("a"): "1", store.TabKey(0, "t"): "tab"})
}

func testEditMetaErrorWritesNothing(h *harness) {
	const id = "editmeta-error"
	h.create(id, map[store.Key]string{store.SessionKey("a"): "1"})
	n, _ := h.openTab(id, "kept")
	h.commit(id, store.Delta{Set: bytesOf(map[store.Key]string{store.TabKey(n, "cart"): "apple"})})
	h.commitErr(id, store.Delta{
		Set: bytesOf(map[store.Key]string{store.SessionKey("b"): "2"}),
		EditMeta: func(m *store.Meta) error {
			delete(m.Tabs, n)
			m.Tabs[n+1] = store.TabInfo{Label: "never"}
			m.NextTab += 10
			m.IdleDeadline = m.IdleDeadline.Add(time.Hour)
			return errBoom
		},
	}, errBoom)
	h.wantValues(id, map[store.Key]string{store.SessionKey("a"): "1", store.TabKey(n, "cart"): "apple"})
}
