package redisstore

import (
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// FuzzDecodeSession feeds arbitrary hash fields, as a corrupted or
// hostile Redis could hold them, to the decoder of stored sessions: it
// must return a record or an error, never panic, and a record it returns
// must be self-consistent enough for the kit to use.
func FuzzDecodeSession(f *testing.F) {
	now := time.Unix(1_790_000_000, 0).UTC()
	meta := store.Meta{Created: now, NextTab: 4, Tabs: map[uint32]store.TabInfo{3: {Created: now, Label: "Register 3"}}}
	blob := string(store.AppendMeta(nil, &meta))
	f.Add(blob, "7", "12", "3=12", formatTime(now), formatDeadline(now.Add(time.Hour)), "", "", string(store.AppendKey(nil, store.TabKey(3, "cart"))), `["tea"]`)
	f.Add(blob, "1", "0", "", "", "", "", "", "s", "")
	f.Add("", "", "", "0=5;x", "-1", "9999999999999999999", "", "abc", "t", "v")
	f.Fuzz(func(t *testing.T, blob, version, bytes, tabBytes, lastSeen, idle, abs, tabZero, field, value string) {
		fields := map[string]string{
			fieldMeta: blob, fieldVersion: version, fieldBytes: bytes, fieldTabBytes: tabBytes,
			fieldLastSeen: lastSeen, fieldIdle: idle, fieldAbs: abs, fieldTabZero: tabZero,
		}
		for k, v := range fields {
			if v == "" {
				delete(fields, k)
			}
		}
		if field != "" {
			fields[field] = value
		}
		rec, err := decodeSession(fields)
		if err != nil {
			return
		}
		for k := range rec.Values {
			if k.Name == "" && !k.InTab && field != "s" {
				t.Errorf("decoded an empty session-wide key from field %q", field)
			}
		}
	})
}

// FuzzParseExpiring feeds arbitrary value deadline fields, as a
// corrupted or hostile Redis could hold them, to their parser: it must
// return deadlines or an error, never panic, and what it returns must
// come back the same through formatExpiring.
func FuzzParseExpiring(f *testing.F) {
	at := time.Unix(1_790_000_000, 5).UTC()
	f.Add(formatExpiring(map[store.Key]time.Time{store.SessionKey("otp"): at, store.TabKey(3, "hold"): at.Add(time.Hour)}))
	f.Add(formatExpiring(map[store.Key]time.Time{store.SessionKey(""): at}))
	f.Add("17900000000000000050004sotp")
	f.Add("1790000000000000005-001s")
	f.Add("17900000000000000059999s")
	f.Fuzz(func(t *testing.T, s string) {
		deadlines, err := parseExpiring(s)
		if err != nil {
			return
		}
		again, err := parseExpiring(formatExpiring(deadlines))
		if err != nil {
			t.Fatalf("parseExpiring(formatExpiring(%v)): %v", deadlines, err)
		}
		if len(again) != len(deadlines) {
			t.Fatalf("round trip of %q: got %v, want %v", s, again, deadlines)
		}
		for k, at := range deadlines {
			if !again[k].Equal(at) {
				t.Errorf("round trip of %q: %v at %v, want %v", s, k, again[k], at)
			}
		}
	})
}
