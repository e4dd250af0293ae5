package pgstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// TestLayout checks what the store leaves in its tables, which the
// conformance suite cannot see: a row per live session under its hashed
// ID, a row per value under its encoded key, nothing left of deleted or
// moved sessions or closed tabs, the looked-up columns agreeing with the
// meta, the session counter agreeing with the rows, and no cookie token
// anywhere.
func TestLayout(t *testing.T) {
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	s := newTestStore(t, Options{Now: clock.Now}, 0)
	now := clock.Now()
	// Tokens as kit makes them; the store only ever sees their hashes.
	tokens := map[string]string{}
	for _, name := range []string{"kept", "moved", "moved-to", "deleted", "tabs"} {
		tokens[name] = rand.Text()
	}
	// A regenerated token keeps the family bytes of the old one.
	tokens["moved-to"] = tokens["moved"][:store.FamilyPrefix] + tokens["moved-to"][store.FamilyPrefix:]
	id := func(name string) string { return store.HashToken(tokens[name]) }
	create := func(name string, set map[store.Key][]byte) {
		t.Helper()
		mustCommit(t, s, id(name), store.Delta{Create: true, IdleDeadline: now.Add(time.Hour + 1500*time.Nanosecond), AbsDeadline: now.Add(24 * time.Hour), Set: set})
	}
	openTab := func(name string) uint32 {
		t.Helper()
		var n uint32
		mustCommit(t, s, id(name), store.Delta{EditMeta: func(m *store.Meta) error {
			n = m.NextTab
			m.Tabs[n] = store.TabInfo{Created: now, LastSeen: now, Label: "till"}
			return nil
		}})
		return n
	}

	create("kept", map[store.Key][]byte{store.SessionKey("user"): []byte("ann"), store.TabKey(0, "cart"): []byte("[1]")})
	tab := openTab("kept")
	mustCommit(t, s, id("kept"), store.Delta{
		Set:          map[store.Key][]byte{store.TabKey(tab, "cart"): []byte("[2]"), store.SessionKey("otp"): []byte("123456")},
		Expires:      map[store.Key]time.Time{store.SessionKey("otp"): now.Add(time.Minute)},
		SetPrincipal: true, Principal: "ann",
	})
	create("moved", map[store.Key][]byte{store.SessionKey("theme"): []byte("dark")})
	if _, err := s.Move(t.Context(), id("moved"), id("moved-to"), store.Delta{}); err != nil {
		t.Fatalf("Move: %v", err)
	}
	create("deleted", map[store.Key][]byte{store.SessionKey("x"): []byte("y")})
	if err := s.Delete(t.Context(), id("deleted")); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	create("tabs", nil)
	closing := openTab("tabs")
	mustCommit(t, s, id("tabs"), store.Delta{Set: map[store.Key][]byte{store.TabKey(closing, "a"): []byte("1"), store.TabKey(closing, "b"): []byte("2")}})
	mustCommit(t, s, id("tabs"), store.Delta{EditMeta: func(m *store.Meta) error { delete(m.Tabs, closing); return nil }})

	conn, err := pgx.Connect(t.Context(), s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	// Values: exactly those the live sessions hold, under encoded keys.
	wantValues := map[string]map[string]string{
		id("kept"): {
			string(store.AppendKey(nil, store.SessionKey("user"))):  "ann",
			string(store.AppendKey(nil, store.TabKey(0, "cart"))):   "[1]",
			string(store.AppendKey(nil, store.TabKey(tab, "cart"))): "[2]",
			string(store.AppendKey(nil, store.SessionKey("otp"))):   "123456",
		},
		id("moved-to"): {string(store.AppendKey(nil, store.SessionKey("theme"))): "dark"},
	}
	gotValues := map[string]map[string]string{}
	rows, _ := conn.Query(t.Context(), "SELECT session_id, key, value FROM "+s.prefix+"values")
	var sid, key, value []byte
	_, err = pgx.ForEachRow(rows, []any{&sid, &key, &value}, func() error {
		if gotValues[string(sid)] == nil {
			gotValues[string(sid)] = map[string]string{}
		}
		gotValues[string(sid)][string(key)] = string(value)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(gotValues, wantValues, maps.Equal) {
		t.Errorf("value rows: got %q, want %q", gotValues, wantValues)
	}

	// Sessions: a row per live session, its columns agreeing with its meta.
	var ids []string
	rows, _ = conn.Query(t.Context(), "SELECT id, meta, principal, expires_at, last_seen, bytes, version FROM "+s.prefix+"sessions")
	var (
		meta              []byte
		principal         *string
		expires, lastSeen time.Time
		size, version     int64
	)
	_, err = pgx.ForEachRow(rows, []any{&sid, &meta, &principal, &expires, &lastSeen, &size, &version}, func() error {
		ids = append(ids, string(sid))
		m, err := store.ParseMeta(meta)
		if err != nil {
			return err
		}
		wantPrincipal := (*string)(nil)
		if m.Principal != "" {
			wantPrincipal = &m.Principal
		}
		// The deadline is 1.5 µs past a millisecond: the column rounds up.
		wantExpires := m.ExpiresAt().Truncate(time.Microsecond).Add(time.Microsecond)
		switch {
		case (principal == nil) != (wantPrincipal == nil) || principal != nil && *principal != *wantPrincipal:
			t.Errorf("session %q principal column: got %v, want %q", sid, principal, m.Principal)
		case !expires.Equal(wantExpires):
			t.Errorf("session %q expires_at: got %v, want %v (%v rounded up to the microsecond)", sid, expires, wantExpires, m.ExpiresAt())
		case !lastSeen.Equal(m.LastSeen) || size != m.Bytes || uint64(version) != m.Version:
			t.Errorf("session %q columns last_seen, bytes, version: got %v, %d, %d, want %v, %d, %d", sid, lastSeen, size, version, m.LastSeen, m.Bytes, m.Version)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	// "tabs" lives on without a value: its only ones went with their tab.
	if want := slices.Sorted(slices.Values([]string{id("kept"), id("moved-to"), id("tabs")})); !slices.Equal(ids, want) {
		t.Errorf("session rows: got %q, want %q", ids, want)
	}
	if n := queryInt(t, s.url, "SELECT sessions FROM "+s.prefix+"counts"); n != int64(len(ids)) {
		t.Errorf("session counter: got %d, want %d (the rows)", n, len(ids))
	}

	// No token, in any form, in any column of any table.
	tablesHolding := func(needle []byte) []string {
		t.Helper()
		var holding []string
		for _, table := range []string{"sessions", "values", "counts", "schema"} {
			rows, err := conn.Query(t.Context(), "SELECT * FROM "+s.prefix+table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				for _, raw := range rows.RawValues() {
					if bytes.Contains(raw, needle) && !slices.Contains(holding, table) {
						holding = append(holding, table)
					}
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
		}
		return holding
	}
	for name, tok := range tokens {
		for _, form := range []string{tok, hex.EncodeToString([]byte(tok))} {
			if tables := tablesHolding([]byte(form)); len(tables) > 0 {
				t.Errorf("the token of session %q (as %q) is in %v", name, form, tables)
			}
		}
	}
	// The scan finds what is there: a value, and a hashed ID.
	if got := tablesHolding([]byte("123456")); !slices.Equal(got, []string{"values"}) {
		t.Errorf("tables holding a value: got %v, want [values]", got)
	}
	if got := tablesHolding([]byte(id("kept"))); !slices.Equal(got, []string{"sessions", "values"}) {
		t.Errorf("tables holding a hashed ID: got %v, want [sessions values]", got)
	}
}
