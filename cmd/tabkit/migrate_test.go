package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/admin"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/redisstore"
)

// testdata/format1.db is a file as tabkit wrote them before session IDs
// were hashed (format 1, sessions keyed by their cookie token), made by
// testdata/mkformat1 at the commit before hashed IDs: sessions of ann
// (a cart in tab 1), bob and cy, live until 2099, and one that expired
// in 2001. Their tokens are token(name).
var legacyLive = []string{"ann", "bob", "cy"}

// legacyFile returns a copy of testdata/format1.db.
func legacyFile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "format1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestListTokenKeyed lists a file from before hashed IDs: the sessions
// still under their tokens are counted, and a boltstore that migrates
// files when it opens them leaves none.
func TestListTokenKeyed(t *testing.T) {
	path := legacyFile(t)
	r := runCLI(t, "-db", path, "sessions")
	note := "\n3 sessions\n3 sessions stored under the cookie token, out of kit's reach: run tabkit migrate\n"
	var list []admin.Session
	decode(t, runCLI(t, "-db", path, "-json", "sessions"), &list)
	migrated := len(list) == 3 && list[0].Handle != "" && list[1].Handle != "" && list[2].Handle != ""
	if r.code != exitOK || !strings.HasSuffix(r.stdout, note) && !migrated {
		t.Errorf("sessions: exit %d, %q\n%s", r.code, r.stderr, r.stdout)
	}
	for _, s := range list {
		if s.Handle == "" && !s.KeyedByToken {
			t.Errorf("a session neither hashed nor keyed by token: %+v", s)
		}
	}
}

func TestMigrateFile(t *testing.T) {
	path := legacyFile(t)
	var m fileMigration
	decode(t, runCLI(t, "-db", path, "-json", "migrate"), &m)
	if m.FormatBefore != 1 || m.FormatAfter < 1 || m.TokenKeyed != 3 || m.RekeyedOnOpen+m.Rekeyed != 3 || m.Compacted == nil {
		t.Errorf("migrate: got %+v", m)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(legacyLive, "old") {
		if bytes.Contains(raw, []byte(token(name))) {
			t.Errorf("the file still holds %s's token", name)
		}
	}
	var list []admin.Session
	decode(t, runCLI(t, "-db", path, "-json", "sessions"), &list)
	handles := map[string]bool{}
	for _, s := range list {
		handles[s.Handle] = true
	}
	for _, name := range legacyLive {
		if !handles[store.HashToken(token(name))] {
			t.Errorf("%s's session is not under its hash: %+v", name, list)
		}
	}
	if len(list) != len(legacyLive) {
		t.Errorf("%d sessions after migrate, want %d", len(list), len(legacyLive))
	}
	var d admin.Detail
	decode(t, runCLI(t, "-db", path, "-json", "show", store.HashToken(token("ann"))), &d)
	if len(d.TabTable) != 1 || d.TabTable[0].Label != "Front till" || len(d.Values) != 2 || !strings.Contains(string(d.Values[1].JSON), "TEA-002") {
		t.Errorf("ann's session after migrate: %+v", d)
	}

	// Again: nothing left to do.
	r := runCLI(t, "-db", path, "migrate")
	if r.code != exitOK || !strings.Contains(r.stdout, "no session was stored under its cookie token\n") || strings.Contains(r.stdout, "rewrote") {
		t.Errorf("migrate again: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestMigrateText(t *testing.T) {
	path := legacyFile(t)
	r := runCLI(t, "-db", path, "migrate")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, path+": format 1 before, format ") ||
		!strings.Contains(r.stdout, "moved 3 sessions from their cookie tokens to their hashes") ||
		!strings.Contains(r.stdout, "\nremoved ") || !strings.Contains(r.stdout, "rewrote the file without the old keys") {
		t.Errorf("migrate: exit %d, %q\n%s", r.code, r.stderr, r.stdout)
	}
}

func TestMigrateErrors(t *testing.T) {
	t.Run("locked", func(t *testing.T) {
		path := legacyFile(t)
		st, err := boltstore.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if r := runCLI(t, "-db", path, "-timeout", "50ms", "migrate"); r.code != exitInUse || !strings.Contains(r.stderr, "in use by another process") {
			t.Errorf("exit %d, %q; want %d", r.code, r.stderr, exitInUse)
		}
	})
	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "typo.db")
		if r := runCLI(t, "-db", path, "migrate"); r.code != exitNotFound {
			t.Errorf("exit %d, %q; want %d", r.code, r.stderr, exitNotFound)
		}
		if _, err := os.Stat(path); err == nil {
			t.Error("a missing file was created")
		}
	})
	t.Run("not a database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "notes.txt")
		if err := os.WriteFile(path, bytes.Repeat([]byte("not a database\n"), 1000), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := runCLI(t, "-db", path, "migrate"); r.code != exitFailed || !strings.Contains(r.stderr, "not a bbolt database") {
			t.Errorf("exit %d, %q; want %d", r.code, r.stderr, exitFailed)
		}
	})
	t.Run("arguments", func(t *testing.T) {
		if r := runCLI(t, "-db", legacyFile(t), "migrate", "now"); r.code != exitUsage {
			t.Errorf("exit %d, %q; want %d", r.code, r.stderr, exitUsage)
		}
	})
}

// commitLegacy stores sessions under their tokens, as kit did before
// IDs were hashed.
func commitLegacy(t *testing.T, st store.Store, names ...string) {
	t.Helper()
	at := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range names {
		d := store.Delta{Create: true, LastSeen: at, IdleDeadline: at.Add(time.Hour),
			Set: map[store.Key][]byte{store.SessionKey("cashier"): []byte(`"` + name + `"`)}}
		if _, err := st.Commit(context.Background(), token(name), d); err != nil {
			t.Fatal(err)
		}
	}
}

// wantMoved checks that each session is under its hash and no longer
// under its token.
func wantMoved(t *testing.T, st store.Store, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, found, err := st.Load(t.Context(), token(name)); found || err != nil {
			t.Errorf("%s: still under its token (%v)", name, err)
		}
		rec, found, err := st.Load(t.Context(), store.HashToken(token(name)))
		if !found || err != nil || string(rec.Values[store.SessionKey("cashier")]) != `"`+name+`"` {
			t.Errorf("%s: under its hash %v, %v: %+v", name, found, err, rec)
		}
	}
}

func TestMigrateEndpoint(t *testing.T) {
	st := store.NewMemoryWith(store.MemoryOptions{SweepInterval: -1})
	defer st.Close()
	commitLegacy(t, st, "ann", "bob")
	srv := httptest.NewServer(admin.Handler(st))
	defer srv.Close()
	if r := runCLI(t, "-admin", srv.URL, "migrate"); r.code != exitOK || r.stdout != "moved 2 sessions from their cookie tokens to their hashes\n" {
		t.Errorf("migrate through -admin: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	wantMoved(t, st, "ann", "bob")
	var res admin.RekeyResult
	decode(t, runCLI(t, "-admin", srv.URL, "-json", "migrate"), &res)
	if res.Rekeyed != 0 {
		t.Errorf("second migrate -json: got %+v", res)
	}
}

// TestMigrateRedis moves sessions stored under their tokens, then finds
// no key or value in the database that holds a token.
func TestMigrateRedis(t *testing.T) {
	url := redisDB(t)
	st, err := redisstore.Open(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	commitLegacy(t, st, "ann", "bob", "cy")
	if r := runCLI(t, "-store", url, "migrate"); r.code != exitOK || r.stdout != "moved 3 sessions from their cookie tokens to their hashes\n" {
		t.Errorf("migrate on Redis: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	wantMoved(t, st, "ann", "bob", "cy")
	client := redisClient(t)
	keys, err := client.Keys(t.Context(), "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("KEYS: %v, %v", keys, err)
	}
	var everything strings.Builder
	for _, k := range keys {
		everything.WriteString(k + "\n")
		switch typ := client.Type(t.Context(), k).Val(); typ {
		case "hash":
			for f, v := range client.HGetAll(t.Context(), k).Val() {
				everything.WriteString(f + "=" + v + "\n")
			}
		case "set":
			for _, m := range client.SMembers(t.Context(), k).Val() {
				everything.WriteString(m + "\n")
			}
		case "zset":
			for _, m := range client.ZRange(t.Context(), k, 0, -1).Val() {
				everything.WriteString(m + "\n")
			}
		case "string":
			everything.WriteString(client.Get(t.Context(), k).Val() + "\n")
		default:
			t.Errorf("key %s of type %s not searched", k, typ)
		}
	}
	for _, name := range []string{"ann", "bob", "cy"} {
		if strings.Contains(everything.String(), token(name)) {
			t.Errorf("Redis still holds %s's token:\n%s", name, everything.String())
		}
	}
}
