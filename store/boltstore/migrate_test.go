package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// format1Session is a session as file format 1 stored it: under the
// token of its cookie.
type format1Session struct {
	token  string
	meta   store.Meta
	values map[store.Key][]byte
}

// writeFormat1 writes sessions into a new file in the layout of file
// format 1, byte by byte as that version did, without this version's
// helpers: five buckets, every key built from the raw token, meta in
// meta format 1.
func writeFormat1(t *testing.T, path string, sessions []format1Session) {
	t.Helper()
	nanos := func(tm time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(tm.UnixNano())) }
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		var bk [5]*bolt.Bucket
		for i, name := range []string{"meta", "values", "expiry", "lastseen", "stats"} {
			var err error
			if bk[i], err = tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		meta, values, expiry, lastSeen, stats := bk[0], bk[1], bk[2], bk[3], bk[4]
		var total int64
		for _, s := range sessions {
			if err := meta.Put([]byte(s.token), metaFormat1(t, s.meta)); err != nil {
				return err
			}
			for k, v := range s.values {
				key := append([]byte{byte(len(s.token))}, s.token...)
				if err := values.Put(store.AppendKey(key, k), v); err != nil {
					return err
				}
			}
			if at := s.meta.ExpiresAt(); !at.IsZero() {
				if err := expiry.Put(append(nanos(at), s.token...), nil); err != nil {
					return err
				}
			}
			if err := lastSeen.Put(append(nanos(s.meta.LastSeen), s.token...), nil); err != nil {
				return err
			}
			total += s.meta.Bytes
		}
		for k, v := range map[string]int64{"format": 1, "sessions": int64(len(sessions)), "bytes": total} {
			if err := stats.Put([]byte(k), binary.BigEndian.AppendUint64(nil, uint64(v))); err != nil {
				return err
			}
		}
		return nil
	})
}

// metaFormat1 encodes m as meta format 1. Format 2 only appended the
// principal and the value deadlines, so for a meta without either it is
// format 2 with the other format byte and without the two empty counts.
func metaFormat1(t *testing.T, m store.Meta) []byte {
	t.Helper()
	if m.Principal != "" || len(m.Expiring) > 0 {
		t.Fatal("meta format 1 has no principal and no value deadlines")
	}
	b := store.AppendMeta(nil, &m)
	if !bytes.HasSuffix(b, []byte{0, 0}) {
		t.Fatalf("meta format 2 of %+v does not end in two empty counts", m)
	}
	b = append([]byte{1}, b[1:len(b)-2]...)
	if _, err := store.ParseMeta(b); err != nil {
		t.Fatalf("meta format 1 does not parse: %v", err)
	}
	return b
}

// format1Sessions makes n sessions in the shape kit gave them: a token, a
// tab or two, values in both namespaces, deadlines spread so that some
// expire soon.
func format1Sessions(t *testing.T, n int) []format1Session {
	var sessions []format1Session
	for i := range n {
		values := map[store.Key][]byte{
			store.SessionKey("user"):  []byte("user" + string(rune('a'+i%26))),
			store.TabKey(0, "cart"):   bytes.Repeat([]byte{byte(i)}, i%7),
			store.TabKey(1, "draft"):  []byte("draft"),
			store.SessionKey("empty"): {},
		}
		m := store.Meta{
			Created:      start.Add(-time.Hour),
			LastSeen:     start.Add(-time.Duration(n-i) * time.Minute),
			IdleDeadline: start.Add(time.Duration(i+1) * time.Minute),
			AbsDeadline:  start.Add(24 * time.Hour),
			NextTab:      2,
			Tabs:         map[uint32]store.TabInfo{0: {Created: start}, 1: {Created: start, Label: "register"}},
			Version:      uint64(i + 3),
		}
		for k, v := range values {
			size := int64(len(k.Name) + len(v))
			m.Bytes += size
			if k.InTab {
				info := m.Tabs[k.Tab]
				info.Bytes += size
				m.Tabs[k.Tab] = info
			}
		}
		sessions = append(sessions, format1Session{token: newToken(t), meta: m, values: values})
	}
	return sessions
}

func TestMigrateFormat1(t *testing.T) {
	const n = 30
	path := filepath.Join(t.TempDir(), "sessions.db")
	sessions := format1Sessions(t, n)
	writeFormat1(t, path, sessions)
	var tokens []string
	for _, s := range sessions {
		tokens = append(tokens, s.token)
	}
	if leaks := tokenLeaks(t, readFile(t, path), tokens); len(leaks) != n {
		t.Fatalf("format-1 file holds %d of %d tokens, want all; the leak check would prove nothing", len(leaks), n)
	}

	var logs bytes.Buffer
	clock := start
	opts := &Options{
		SweepInterval: -1,
		Now:           func() time.Time { return clock },
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
		MaxSessions:   n,
		WhenFull:      EvictLRU,
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open of a format-1 file: got %v, want nil", err)
	}
	if got := logs.String(); !strings.Contains(got, "migrated") || !strings.Contains(got, "sessions=30") {
		t.Errorf("log: got %q, want a migration of 30 sessions", got)
	}
	// The pages that held the tokens were freed, not wiped: Open rewrote
	// the file so that they are gone.
	if leaks := tokenLeaks(t, readFile(t, path), tokens); len(leaks) > 0 {
		t.Errorf("%d tokens still in the file just migrated, e.g. %q", len(leaks), leaks[0])
	}
	ctx := context.Background()
	for i, old := range sessions {
		if _, found, err := s.Load(ctx, old.token); err != nil || found {
			t.Errorf("session %d under its token: got found=%v, %v, want nothing", i, found, err)
		}
		rec, found, err := s.Load(ctx, store.HashToken(old.token))
		if err != nil || !found {
			t.Fatalf("session %d under its hashed token: got found=%v, %v, want it", i, found, err)
		}
		if rec.Meta.Version != old.meta.Version || rec.Meta.Bytes != old.meta.Bytes || !rec.Meta.LastSeen.Equal(old.meta.LastSeen) ||
			!rec.Meta.IdleDeadline.Equal(old.meta.IdleDeadline) || rec.Meta.Tabs[1].Label != "register" || rec.Meta.NextTab != 2 {
			t.Errorf("session %d meta: got %+v, want %+v", i, rec.Meta, old.meta)
		}
		if !maps.EqualFunc(rec.Values, old.values, bytes.Equal) {
			t.Errorf("session %d values: got %v, want %v", i, rec.Values, old.values)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Sessions != n {
		t.Errorf("Stats: got %+v, %v, want %d sessions", st, err, n)
	}
	// The expiry index moved with the sessions: the first five are due.
	clock = start.Add(5 * time.Minute)
	if res, err := s.Sweep(ctx); err != nil || res.Sessions != 5 {
		t.Errorf("Sweep: got %+v, %v, want 5 sessions", res, err)
	}
	// So did the last-seen index: once six new sessions fill the store
	// again, the least recently seen migrated session makes room.
	for _, id := range []string{"new1", "new2", "new3", "new4", "new5", "new6"} {
		if _, err := s.Commit(ctx, id, store.Delta{Create: true, LastSeen: clock}); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, _ := s.Load(ctx, store.HashToken(sessions[5].token)); found {
		t.Error("least recently seen migrated session: still there, want it evicted")
	}
	if _, found, _ := s.Load(ctx, store.HashToken(sessions[6].token)); !found {
		t.Error("second least recently seen migrated session: gone, want it kept")
	}
	// Migrated sessions take principals like any other.
	id := store.HashToken(sessions[10].token)
	if _, err := s.Commit(ctx, id, store.Delta{SetPrincipal: true, Principal: "ana"}); err != nil {
		t.Fatal(err)
	}
	if refs, err := s.SessionsOf(ctx, "ana"); err != nil || len(refs) != 1 || refs[0].ID != id {
		t.Errorf("SessionsOf: got %v, %v, want the migrated session", refs, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
	if leaks := tokenLeaks(t, readFile(t, path), tokens); len(leaks) > 0 {
		t.Errorf("%d tokens still in the migrated file, e.g. %q", len(leaks), leaks[0])
	}

	// A second Open finds format 2: nothing to migrate.
	logs.Reset()
	s, err = Open(path, opts)
	if err != nil {
		t.Fatalf("reopen: got %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("log of the second Open: got %q, want nothing", logs.String())
	}
}

// TestMigrateKeepsOtherIDs: only IDs of the shape of kit's tokens are
// hashed. One already hashed (a kit that hashed its tokens wrote the
// file) or one an application chose stays where its owner looks.
func TestMigrateKeepsOtherIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	sessions := format1Sessions(t, 4)
	raw := sessions[0].token
	hashed := store.HashToken(sessions[1].token)
	sessions[1].token = hashed
	sessions[2].token = "cart-of-terminal-7"
	sessions[3].token = raw[:42] + "." // a token's length, not its alphabet
	writeFormat1(t, path, sessions)
	var logs bytes.Buffer
	s, err := Open(path, &Options{SweepInterval: -1, Now: func() time.Time { return start }, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{store.HashToken(raw), hashed, sessions[2].token, sessions[3].token} {
		if _, found, err := s.Load(context.Background(), id); err != nil || !found {
			t.Errorf("Load(%q) after the migration: got found=%v, %v, want the session", id, found, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
	if got := logs.String(); !strings.Contains(got, "sessions=4 rekeyed=1") {
		t.Errorf("log: got %q, want 4 sessions of which 1 re-keyed", got)
	}
}

// TestMigrateCorruptChangesNothing: a value key that cannot be re-keyed
// fails the migration, and the file is left exactly as it was.
func TestMigrateCorruptChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	writeFormat1(t, path, format1Sessions(t, 3))
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketValues).Put([]byte{200, 'x'}, []byte("orphan"))
	})
	before := readFile(t, path)
	s, err := Open(path, &Options{SweepInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		s.Close()
		t.Fatal("Open: got nil, want an error")
	}
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "format 1 to 2") {
		t.Errorf("Open: got %v, want a failed migration wrapping %v", err, store.ErrCorrupt)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Error("a failed migration changed the file")
	}
}

func TestOpenRefusesNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketValues, bucketExpiry, bucketLastSeen, bucketStats, bucketPrincipals} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketStats).Put(statFormat, be(fileFormat+1))
	})
	before := readFile(t, path)
	s, err := Open(path, &Options{SweepInterval: -1})
	if err == nil {
		s.Close()
		t.Fatal("Open: got nil, want an error")
	}
	if !errors.Is(err, ErrNotDatabase) || !strings.Contains(err.Error(), "newer version") {
		t.Errorf("Open: got %v, want ErrNotDatabase saying the file is newer", err)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Error("Open changed a file it refused")
	}
}
