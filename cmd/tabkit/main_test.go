package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/admin"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
)

// token returns a string of the shape of a kit cookie token, different
// for each name.
func token(name string) string {
	sum := sha256.Sum256([]byte("tabkit fixture " + name))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// The fixture's sessions, under hashed IDs as kit stores them: two of
// alice (the front till, with a cart, and the back office), one of bob,
// and one of alice that expired long ago and waits for a sweep.
var (
	frontID = store.HashToken(token("alice front"))
	backID  = store.HashToken(token("alice back"))
	bobID   = store.HashToken(token("bob"))
	oldID   = store.HashToken(token("old"))
)

// created is when the fixture's live sessions were made: in the future,
// so they are live whatever the test machine's clock says.
var created = time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)

// pinDeadline is when the front till's "pin-attempts" value expires.
var pinDeadline = created.Add(10 * time.Minute)

func flashList(items ...string) []byte {
	var list []byte
	for _, it := range items {
		list = binary.AppendUvarint(list, uint64(len(it)))
		list = append(list, it...)
	}
	return list
}

// writeSessions commits the fixture's sessions to st, whose clock
// setClock sets (nil: st's clock is real time, and the expired session
// is left out).
func writeSessions(t *testing.T, st store.Store, setClock func(time.Time)) {
	t.Helper()
	ctx := context.Background()
	clock := func(at time.Time) {
		if setClock != nil {
			setClock(at)
		}
	}
	commit := func(id string, d store.Delta) {
		t.Helper()
		if _, err := st.Commit(ctx, id, d); err != nil {
			t.Fatalf("Commit %s: %v", id[:8], err)
		}
	}
	alice := store.Delta{SetPrincipal: true, Principal: "alice"}
	clock(created)
	front := alice
	front.Create, front.LastSeen, front.IdleDeadline = true, created, created.Add(24*time.Hour)
	front.EditMeta = func(m *store.Meta) error {
		m.Tabs[1] = store.TabInfo{Created: created, LastSeen: created, Label: "Front till"}
		m.NextTab = 2
		return nil
	}
	front.Set = map[store.Key][]byte{
		store.SessionKey("cashier"):         []byte(`"alice"`),
		store.SessionKey("pin-attempts"):    []byte(`3`),
		store.TabKey(1, "cart"):             []byte(`{"items":[{"sku":"A1","qty":2}]}`),
		store.TabKey(1, "\x00flash:notice"): flashList(`"Added A1"`),
		store.SessionKey("opaque"):          {0xff, 0x00},
	}
	front.Expires = map[store.Key]time.Time{store.SessionKey("pin-attempts"): pinDeadline}
	commit(frontID, front)
	at := created.Add(time.Minute)
	clock(at)
	commit(bobID, store.Delta{Create: true, LastSeen: at, IdleDeadline: at.Add(24 * time.Hour), SetPrincipal: true, Principal: "bob"})
	at = created.Add(2 * time.Minute)
	clock(at)
	back := alice
	back.Create, back.LastSeen, back.IdleDeadline = true, at, at.Add(24*time.Hour)
	commit(backID, back)
	if setClock == nil {
		return
	}
	at = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	clock(at)
	old := alice
	old.Create, old.LastSeen, old.IdleDeadline = true, at, at.Add(time.Hour)
	commit(oldID, old)
}

// writeFixture makes a closed session database at path.
func writeFixture(t *testing.T, path string) {
	t.Helper()
	var clock time.Time
	st, err := boltstore.Open(path, &boltstore.Options{SweepInterval: -1, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	writeSessions(t, st, func(at time.Time) { clock = at })
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func fixture(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "tabkit.db")
	writeFixture(t, path)
	return path
}

// memoryEndpoint serves the fixture from a memory store through the
// admin endpoint, as a running application would.
func memoryEndpoint(t *testing.T) string {
	var mu sync.Mutex
	clock := created
	st := store.NewMemoryWith(store.MemoryOptions{SweepInterval: -1, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}})
	t.Cleanup(func() { st.Close() })
	writeSessions(t, st, func(at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		clock = at
	})
	mu.Lock()
	clock = created.Add(3 * time.Minute) // after the last commit
	mu.Unlock()
	srv := httptest.NewServer(admin.Handler(st))
	t.Cleanup(srv.Close)
	return srv.URL
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

func TestSessionsText(t *testing.T) {
	path := fixture(t)
	r := runCLI(t, "-db", path, "sessions")
	want := fmt.Sprintf(`ID        PRINCIPAL  CREATED               LAST SEEN             EXPIRES               TABS  BYTES
%s  alice      2099-01-02 03:06:05Z  2099-01-02 03:06:05Z  2099-01-03 03:06:05Z  1     0
%s  bob        2099-01-02 03:05:05Z  2099-01-02 03:05:05Z  2099-01-03 03:05:05Z  1     0
%s  alice      2099-01-02 03:04:05Z  2099-01-02 03:04:05Z  2099-01-03 03:04:05Z  2     95
3 sessions
`, backID[:8], bobID[:8], frontID[:8])
	if r.code != exitOK || r.stdout != want {
		t.Errorf("sessions: exit %d, stderr %q, stdout\n%s\nwant\n%s", r.code, r.stderr, r.stdout, want)
	}
}

func TestCommands(t *testing.T) {
	front, bob := frontID[:8], bobID[:8]
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings
		stderr   string
		sessions int // live sessions afterwards
	}{
		{"show by prefix", []string{"show", front}, exitOK, []string{
			"session            " + front + "\n",
			"handle             " + frontID + "\n",
			"principal          alice\n",
			"[session] cashier (7 bytes)\n    \"alice\"\n",
			"[session] pin-attempts (1 bytes, expires 2099-01-02 03:14:05Z)\n    3\n",
			"[tab 1] cart (32 bytes)\n    {\n      \"items\": [\n",
			"[tab 1] \"\\x00flash:notice\" (flash list, 11 bytes)\n    - \"Added A1\"\n",
			"[session] opaque (2 bytes)\n    \"\\xff\\x00\" (not JSON)\n",
			"  1    Front till",
		}, "", 3},
		{"show full ID", []string{"show", frontID}, exitOK, []string{"session            " + front + "\n"}, "", 3},
		{"show short prefix", []string{"show", front[:5]}, exitUsage, nil, "at least 8", 3},
		{"show unknown", []string{"show", "Nobody00"}, exitNotFound, nil, "no such session", 3},
		{"show expired", []string{"show", oldID[:8]}, exitNotFound, nil, "no such session", 3},
		{"show without ID", []string{"show"}, exitUsage, nil, "takes one argument", 3},
		{"stats", []string{"stats"}, exitOK, []string{"sessions         4\n", "expired pending  1\n", "tabs             4\n", "file bytes"}, "", 3},
		{"gc", []string{"gc"}, exitOK, []string{"removed 1 expired session ("}, "", 3},
		{"delete", []string{"delete", bob}, exitOK, []string{"deleted session " + bob}, "", 2},
		{"delete unknown", []string{"delete", "Nobody00"}, exitNotFound, nil, "no such session", 3},
		{"clear refuses", []string{"clear"}, exitUsage, nil, "add --force", 3},
		{"clear --force", []string{"clear", "--force"}, exitOK, []string{"deleted 3 sessions\n"}, "", 0},
		{"unknown command", []string{"frobnicate"}, exitUsage, nil, "unknown command", 3},
		{"compact", []string{"compact"}, exitOK, []string{"compacted: "}, "", 3},
		{"end without -principal", []string{"end"}, exitUsage, nil, "end needs -principal", 3},
		{"end of the empty principal", []string{"end", "-principal", ""}, exitUsage, nil, "no principal given", 3},
		{"-principal where it means nothing", []string{"stats", "-principal", "alice"}, exitUsage, nil, "stats takes no -principal", 3},
		{"sessions of the empty principal", []string{"sessions", "-principal="}, exitUsage, nil, "no principal given", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fixture(t)
			r := runCLI(t, append([]string{"-db", path}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tt.stderr) || tt.stderr == "" && r.stderr != "" {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.stderr)
			}
			var list []admin.Session
			r = runCLI(t, "-db", path, "-json", "sessions")
			if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
				t.Fatalf("sessions -json: %v\n%s", err, r.stdout)
			}
			if len(list) != tt.sessions {
				t.Errorf("%d sessions afterwards, want %d", len(list), tt.sessions)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	path := fixture(t)
	var list []admin.Session
	decode(t, runCLI(t, "-db", path, "sessions", "-json"), &list)
	if len(list) != 3 || list[0].Handle != backID || list[1].Principal != "bob" || list[2].ID != frontID[:8] ||
		list[2].Principal != "alice" || list[2].Tabs != 2 || !list[2].Created.Equal(created) {
		t.Errorf("sessions -json: got %+v", list)
	}
	var d admin.Detail
	decode(t, runCLI(t, "-db", path, "-json", "show", frontID[:8]), &d)
	if d.Handle != frontID || d.Principal != "alice" || len(d.Values) != 5 || len(d.TabTable) != 1 || d.TabTable[0].Label != "Front till" {
		t.Errorf("show -json: got %+v", d)
	}
	for _, v := range d.Values {
		if v.Key == "\x00flash:notice" && (!v.Flash || len(v.Flashes) != 1 || string(v.Flashes[0]) != `"Added A1"`) {
			t.Errorf("show -json: flash decoded as %+v", v)
		}
		if (v.Key == "pin-attempts") != v.Expires.Equal(pinDeadline) {
			t.Errorf("show -json: %s expires %v", v.Key, v.Expires)
		}
	}
	var st admin.Stats
	decode(t, runCLI(t, "-db", path, "-json", "stats"), &st)
	if st.Sessions != 4 || st.Expired != 1 || st.Tabs != 4 || st.FileBytes == 0 {
		t.Errorf("stats -json: got %+v", st)
	}
	var swept admin.SweepResult
	decode(t, runCLI(t, "-db", path, "-json", "gc"), &swept)
	if swept.Sessions != 1 {
		t.Errorf("gc -json: got %+v", swept)
	}
}

func decode(t *testing.T, r result, into any) {
	t.Helper()
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), into); err != nil {
		t.Fatalf("%v in\n%s", err, r.stdout)
	}
}

func TestLockedFile(t *testing.T) {
	path := fixture(t)
	st, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	began := time.Now()
	r := runCLI(t, "-db", path, "-timeout", "50ms", "sessions")
	if r.code != exitInUse {
		t.Errorf("exit %d, want %d", r.code, exitInUse)
	}
	want := "tabkit: " + path + " is in use by another process (a running pos-demo?); use -admin http://127.0.0.1:PORT or stop it\n"
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("took %v to give up", took)
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	r := runCLI(t, "-db", path, "sessions")
	if r.code != exitNotFound || !strings.Contains(r.stderr, "no such database file") {
		t.Errorf("exit %d, stderr %q; want %d, no such database file", r.code, r.stderr, exitNotFound)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a missing file was created")
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database\n"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "-db", path, "sessions")
	if r.code != exitFailed || !strings.Contains(r.stderr, "not a") {
		t.Errorf("exit %d, stderr %q; want %d, not a bbolt database", r.code, r.stderr, exitFailed)
	}
}

func TestCompactShrinksFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tabkit.db")
	st, err := boltstore.Open(path, &boltstore.Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	big := bytes.Repeat([]byte("y"), 256<<10)
	for i := range 20 {
		id := "session-" + string(rune('a'+i)) + "-0123456789"
		if _, err := st.Commit(ctx, id, store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("blob"): big}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < 20; i++ {
		if err := st.Delete(ctx, "session-"+string(rune('a'+i))+"-0123456789"); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	var res admin.CompactResult
	decode(t, runCLI(t, "-db", path, "-json", "compact"), &res)
	after, _ := os.Stat(path)
	if res.Before != before.Size() || res.After != after.Size() || after.Size() >= before.Size()/2 {
		t.Errorf("compact: %+v; file %d bytes before, %d after", res, before.Size(), after.Size())
	}
	var d admin.Detail
	decode(t, runCLI(t, "-db", path, "-json", "show", "session-a-0123456789"), &d)
	if d.Bytes != int64(len(big)+len("blob")) {
		t.Errorf("after compact the session has %d bytes, want %d", d.Bytes, len(big)+len("blob"))
	}
}

// TestAdminEndpoint runs the commands through a running store's admin
// endpoint and expects what they print on the stopped file.
func TestAdminEndpoint(t *testing.T) {
	path := fixture(t)
	commands := [][]string{{"sessions"}, {"show", frontID[:8]}, {"-json", "stats"}, {"show", "Alice"}, {"show", "Nobody00"}, {"-json", "show", frontID}}
	var onFile []result
	for _, args := range commands {
		onFile = append(onFile, runCLI(t, append([]string{"-db", path}, args...)...))
	}
	st, err := boltstore.Open(path, &boltstore.Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(admin.Handler(st))
	defer srv.Close()
	for i, args := range commands {
		got := runCLI(t, append([]string{"-admin", srv.URL}, args...)...)
		want := onFile[i]
		if got.code != want.code || got.stdout != want.stdout {
			t.Errorf("%v: through -admin exit %d:\n%s\non the file exit %d:\n%s", args, got.code, got.stdout, want.code, want.stdout)
		}
	}
	if r := runCLI(t, "-admin", srv.URL, "clear"); r.code != exitUsage {
		t.Errorf("clear through -admin without --force: exit %d, want %d", r.code, exitUsage)
	}
	if r := runCLI(t, "-admin", srv.URL, "delete", bobID[:8]); r.code != exitOK {
		t.Errorf("delete through -admin: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "-admin", srv.URL, "compact"); r.code != exitOK {
		t.Errorf("compact through -admin: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "-admin", srv.URL, "clear", "--force"); r.code != exitOK || r.stdout != "deleted 2 sessions\n" {
		t.Errorf("clear --force through -admin: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}
