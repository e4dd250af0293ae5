package store_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// sameMeta compares metas the way a round trip through the codec can be
// expected to keep them: times by instant, a nil tab table equal to an
// empty one.
func sameMeta(a, b store.Meta) bool {
	if !a.Created.Equal(b.Created) || !a.LastSeen.Equal(b.LastSeen) ||
		!a.IdleDeadline.Equal(b.IdleDeadline) || !a.AbsDeadline.Equal(b.AbsDeadline) ||
		a.NextTab != b.NextTab || a.Bytes != b.Bytes || a.Version != b.Version ||
		len(a.Tabs) != len(b.Tabs) {
		return false
	}
	for n, x := range a.Tabs {
		y, ok := b.Tabs[n]
		if !ok || !x.Created.Equal(y.Created) || !x.LastSeen.Equal(y.LastSeen) || x.Label != y.Label || x.Bytes != y.Bytes {
			return false
		}
	}
	if a.Principal != b.Principal || len(a.Expiring) != len(b.Expiring) {
		return false
	}
	for k, x := range a.Expiring {
		if y, ok := b.Expiring[k]; !ok || !x.Equal(y) {
			return false
		}
	}
	return true
}

var codecNow = time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.UTC)

func sampleMetas() []struct {
	name string
	meta store.Meta
} {
	paris := time.FixedZone("CET", 3600)
	return []struct {
		name string
		meta store.Meta
	}{
		{"zero", store.Meta{}},
		{"empty tab table", store.Meta{Tabs: map[uint32]store.TabInfo{}, NextTab: 1}},
		{"full", store.Meta{
			Created:      codecNow,
			LastSeen:     codecNow.Add(time.Minute),
			IdleDeadline: codecNow.Add(time.Hour),
			AbsDeadline:  codecNow.Add(24 * time.Hour),
			Tabs: map[uint32]store.TabInfo{
				0: {Created: codecNow, LastSeen: codecNow, Bytes: 12},
				3: {Created: codecNow.Add(time.Second), LastSeen: codecNow.Add(2 * time.Second), Label: "Kasse 3 — Café ☕", Bytes: 300},
				7: {Label: "zero times"},
			},
			NextTab:   8,
			Principal: "cashier-7 ✓",
			Expiring: map[store.Key]time.Time{
				store.SessionKey("otp"): codecNow.Add(5 * time.Minute),
				store.TabKey(3, "hold"): codecNow.Add(time.Second),
			},
			Bytes:   312,
			Version: 42,
		}},
		{"extremes", store.Meta{
			Created: time.Unix(0, 1),
			Tabs: map[uint32]store.TabInfo{
				math.MaxUint32 - 1: {Label: string([]byte{0, 0xff, '\n'}), Bytes: math.MaxInt64},
				1:                  {Bytes: -1},
			},
			NextTab: math.MaxUint32,
			Bytes:   math.MinInt64,
			Version: math.MaxUint64,
		}},
		{"other time zone", store.Meta{Created: codecNow.In(paris), LastSeen: time.Date(2262, 1, 1, 0, 0, 0, 0, paris)}},
		{"before 1970", store.Meta{Created: time.Date(1969, 12, 31, 23, 59, 59, 999, time.UTC)}},
	}
}

func TestMetaRoundTrip(t *testing.T) {
	for _, tt := range sampleMetas() {
		t.Run(tt.name, func(t *testing.T) {
			b := store.AppendMeta(nil, &tt.meta)
			got, err := store.ParseMeta(b)
			if err != nil {
				t.Fatalf("ParseMeta: got %v, want nil", err)
			}
			if !sameMeta(got, tt.meta) {
				t.Errorf("ParseMeta: got %+v, want %+v", got, tt.meta)
			}
			// Tabs are written in order, so equal metas encode alike, and
			// AppendMeta appends rather than overwrites.
			prefix := []byte("prefix")
			again := store.AppendMeta(slices.Clone(prefix), &got)
			if !bytes.Equal(again, append(prefix, b...)) {
				t.Errorf("AppendMeta of the parsed meta: got %x, want %x", again, append(prefix, b...))
			}
		})
	}
}

// rawMeta builds a meta encoding field by field, to make inputs AppendMeta
// never writes.
func rawMeta(nextTab, tabCount uint64, tabs ...[]byte) []byte {
	b := []byte{1, 0, 0, 0, 0} // format, four zero times
	b = binary.AppendUvarint(b, nextTab)
	b = binary.AppendVarint(b, 0)
	b = binary.AppendUvarint(b, 0)
	b = binary.AppendUvarint(b, tabCount)
	for _, tab := range tabs {
		b = append(b, tab...)
	}
	return b
}

func rawTab(n, labelLen uint64, label string) []byte {
	b := binary.AppendUvarint(nil, n)
	b = append(b, 0, 0, 0) // two zero times, zero bytes
	b = binary.AppendUvarint(b, labelLen)
	return append(b, label...)
}

func TestParseMetaCorrupt(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
	}{
		{"nil", nil},
		{"format 0", []byte{0}},
		{"format 3", append([]byte{3}, store.AppendMeta(nil, &store.Meta{})[1:]...)},
		{"format 2 without its fields", append([]byte{2}, rawMeta(1, 0)[1:]...)},
		{"deadline key corrupt", append(store.AppendMeta(nil, &store.Meta{})[:len(store.AppendMeta(nil, &store.Meta{}))-1], 1, 1, 'x', 0)},
		{"trailing byte", append(store.AppendMeta(nil, &store.Meta{NextTab: 1}), 0)},
		{"varint too long", append([]byte{1}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"NextTab past uint32", rawMeta(math.MaxUint32+1, 0)},
		{"tab number past uint32", rawMeta(1, 1, rawTab(math.MaxUint32+1, 0, ""))},
		{"tab count past input", rawMeta(1, 2, rawTab(1, 0, ""))},
		{"tab count absurd", rawMeta(1, math.MaxUint64)},
		{"tab twice", rawMeta(3, 2, rawTab(1, 0, ""), rawTab(1, 0, ""))},
		{"label past end", rawMeta(2, 1, rawTab(1, 5, "abc"))},
		{"label length absurd", rawMeta(2, 1, rawTab(1, math.MaxUint64, "abc"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := store.ParseMeta(tt.input); !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("ParseMeta(%x): got %+v, %v, want %v", tt.input, m, err, store.ErrCorrupt)
			}
		})
	}
	// The builders above make valid encodings when told the truth.
	if _, err := store.ParseMeta(rawMeta(3, 2, rawTab(1, 3, "abc"), rawTab(2, 0, ""))); err != nil {
		t.Fatalf("ParseMeta of a valid hand-made encoding: got %v, want nil", err)
	}
}

func TestParseMetaTruncated(t *testing.T) {
	for _, tt := range sampleMetas() {
		b := store.AppendMeta(nil, &tt.meta)
		for n := range len(b) {
			if _, err := store.ParseMeta(b[:n]); !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("%s cut to %d of %d bytes: got %v, want %v", tt.name, n, len(b), err, store.ErrCorrupt)
			}
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	tests := []struct {
		key  store.Key
		want []byte
	}{
		{store.SessionKey("cart"), []byte("scart")},
		{store.SessionKey(""), []byte("s")},
		{store.SessionKey("a\x00b"), []byte("sa\x00b")},
		{store.SessionKey("日本"), []byte("s日本")},
		{store.TabKey(0, "cart"), []byte("t\x00\x00\x00\x00cart")},
		{store.TabKey(258, ""), []byte("t\x00\x00\x01\x02")},
		{store.TabKey(math.MaxUint32, "🛒"), []byte("t\xff\xff\xff\xff🛒")},
	}
	for _, tt := range tests {
		b := store.AppendKey(nil, tt.key)
		if !bytes.Equal(b, tt.want) {
			t.Errorf("AppendKey(%+v): got %q, want %q", tt.key, b, tt.want)
		}
		got, err := store.ParseKey(b)
		if err != nil || got != tt.key {
			t.Errorf("ParseKey(%q): got %+v, %v, want %+v, nil", b, got, err, tt.key)
		}
	}
}

func TestParseKeyCorrupt(t *testing.T) {
	for _, input := range []string{"", "x", "Scart", "t", "t\x00", "t\x00\x00\x00"} {
		if k, err := store.ParseKey([]byte(input)); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("ParseKey(%q): got %+v, %v, want %v", input, k, err, store.ErrCorrupt)
		}
	}
}

// TestKeyOrder checks the order backends rely on for range scans:
// session-wide keys first, then tab by tab in numeric order, each tab's
// keys under its prefix and no other tab's.
func TestKeyOrder(t *testing.T) {
	ordered := []store.Key{
		store.SessionKey(""),
		store.SessionKey("a"),
		store.SessionKey("\xff\xff"),
		store.TabKey(0, ""),
		store.TabKey(0, "zzz"),
		store.TabKey(1, "a"),
		store.TabKey(255, "a"),
		store.TabKey(256, ""),
		store.TabKey(math.MaxUint32, "a"),
	}
	for i := 1; i < len(ordered); i++ {
		a, b := store.AppendKey(nil, ordered[i-1]), store.AppendKey(nil, ordered[i])
		if bytes.Compare(a, b) >= 0 {
			t.Errorf("AppendKey(%+v) = %q sorts at or after AppendKey(%+v) = %q, want before", ordered[i-1], a, ordered[i], b)
		}
	}
	for _, k := range ordered {
		enc := store.AppendKey(nil, k)
		for _, tab := range []uint32{0, 1, 255, 256, math.MaxUint32} {
			got := bytes.HasPrefix(enc, store.AppendTabKeyPrefix(nil, tab))
			if want := k.InTab && k.Tab == tab; got != want {
				t.Errorf("AppendKey(%+v) has tab %d's prefix: got %v, want %v", k, tab, got, want)
			}
		}
	}
}

func FuzzParseMeta(f *testing.F) {
	for _, tt := range sampleMetas() {
		f.Add(store.AppendMeta(nil, &tt.meta))
	}
	f.Add(rawMeta(3, 2, rawTab(1, 3, "abc"), rawTab(2, 0, "")))
	f.Add(rawMeta(1, math.MaxUint64))
	f.Add(rawMeta(1, 0)) // format 1, as older stores wrote it
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := store.ParseMeta(b)
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("ParseMeta(%x): got %v, want an error wrapping %v", b, err, store.ErrCorrupt)
			}
			return
		}
		// Varints may be written longer than needed, so only the second
		// encoding is canonical.
		enc := store.AppendMeta(nil, &m)
		again, err := store.ParseMeta(enc)
		if err != nil {
			t.Fatalf("ParseMeta(AppendMeta(%+v)): got %v, want nil", m, err)
		}
		if !sameMeta(again, m) {
			t.Fatalf("round trip of %x: got %+v, want %+v", b, again, m)
		}
		if enc2 := store.AppendMeta(nil, &again); !bytes.Equal(enc2, enc) {
			t.Fatalf("re-encoding of %x: got %x, want %x", b, enc2, enc)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"scart", "s", "t\x00\x00\x00\x00cart", "t\xff\xff\xff\xff", "t\x00", "x", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := store.ParseKey(b)
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("ParseKey(%q): got %v, want an error wrapping %v", b, err, store.ErrCorrupt)
			}
			return
		}
		if enc := store.AppendKey(nil, k); !bytes.Equal(enc, b) {
			t.Fatalf("AppendKey(ParseKey(%q)): got %q, want the input back", b, enc)
		}
	})
}
