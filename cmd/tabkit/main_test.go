package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
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

// The fixture's sessions. Alice's and Bob's IDs share no 8-character
// prefix; the twins share theirs.
const (
	aliceID = "AliceAAA-0123456789abcdefghijklmnopqrstuvw"
	bobID   = "BobBBBBB-0123456789abcdefghijklmnopqrstuvw"
	oldID   = "OldOOOOO-0123456789abcdefghijklmnopqrstuvw"
)

// created is when the fixture's live sessions were made: in the future,
// so they are live whatever the test machine's clock says.
var created = time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)

func flashList(items ...string) []byte {
	var list []byte
	for _, it := range items {
		list = binary.AppendUvarint(list, uint64(len(it)))
		list = append(list, it...)
	}
	return list
}

// writeFixture makes a closed session database at path: Alice with a
// cart in tab 1 and a flash, Bob with nothing, and one session that
// expired long ago and waits for a sweep.
func writeFixture(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	clock := created
	st, err := boltstore.Open(path, &boltstore.Options{SweepInterval: -1, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	commit := func(id string, d store.Delta) {
		t.Helper()
		if _, err := st.Commit(ctx, id, d); err != nil {
			t.Fatalf("Commit %s: %v", id, err)
		}
	}
	commit(aliceID, store.Delta{
		Create: true, LastSeen: created, IdleDeadline: created.Add(24 * time.Hour),
		EditMeta: func(m *store.Meta) error {
			m.Tabs[1] = store.TabInfo{Created: created, LastSeen: created, Label: "Front till"}
			m.NextTab = 2
			return nil
		},
		Set: map[store.Key][]byte{
			store.SessionKey("cashier"):         []byte(`"alice"`),
			store.TabKey(1, "cart"):             []byte(`{"items":[{"sku":"A1","qty":2}]}`),
			store.TabKey(1, "\x00flash:notice"): flashList(`"Added A1"`),
			store.SessionKey("opaque"):          {0xff, 0x00},
		},
	})
	clock = created.Add(time.Minute)
	commit(bobID, store.Delta{Create: true, LastSeen: clock, IdleDeadline: clock.Add(24 * time.Hour)})
	clock = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	commit(oldID, store.Delta{Create: true, LastSeen: clock, IdleDeadline: clock.Add(time.Hour)})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func fixture(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "tabkit.db")
	writeFixture(t, path)
	return path
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
	want := `ID        CREATED               LAST SEEN             EXPIRES               TABS  BYTES
BobBBBBB  2099-01-02 03:05:05Z  2099-01-02 03:05:05Z  2099-01-03 03:05:05Z  1     0
AliceAAA  2099-01-02 03:04:05Z  2099-01-02 03:04:05Z  2099-01-03 03:04:05Z  2     82
2 sessions
`
	if r.code != exitOK || r.stdout != want {
		t.Errorf("sessions: exit %d, stderr %q, stdout\n%s\nwant\n%s", r.code, r.stderr, r.stdout, want)
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings
		stderr   string
		sessions int // live sessions afterwards
	}{
		{"show by prefix", []string{"show", "AliceAAA"}, exitOK, []string{
			"session            AliceAAA\n",
			"[session] cashier (7 bytes)\n    \"alice\"\n",
			"[tab 1] cart (32 bytes)\n    {\n      \"items\": [\n",
			"[tab 1] \"\\x00flash:notice\" (flash list, 11 bytes)\n    - \"Added A1\"\n",
			"[session] opaque (2 bytes)\n    \"\\xff\\x00\" (not JSON)\n",
			"  1    Front till",
		}, "", 2},
		{"show full ID", []string{"show", aliceID}, exitOK, []string{"session            AliceAAA\n"}, "", 2},
		{"show never prints the full ID", []string{"show", "AliceAAA"}, exitOK, nil, "", 2},
		{"show short prefix", []string{"show", "Alice"}, exitUsage, nil, "at least 8", 2},
		{"show unknown", []string{"show", "Nobody00"}, exitNotFound, nil, "no such session", 2},
		{"show expired", []string{"show", "OldOOOOO"}, exitNotFound, nil, "no such session", 2},
		{"show without ID", []string{"show"}, exitUsage, nil, "takes one argument", 2},
		{"stats", []string{"stats"}, exitOK, []string{"sessions         3\n", "expired pending  1\n", "tabs             3\n", "file bytes"}, "", 2},
		{"gc", []string{"gc"}, exitOK, []string{"removed 1 expired session ("}, "", 2},
		{"delete", []string{"delete", "BobBBBBB"}, exitOK, []string{"deleted session BobBBBBB"}, "", 1},
		{"delete unknown", []string{"delete", "Nobody00"}, exitNotFound, nil, "no such session", 2},
		{"clear refuses", []string{"clear"}, exitUsage, nil, "add --force", 2},
		{"clear --force", []string{"clear", "--force"}, exitOK, []string{"deleted 2 sessions\n"}, "", 0},
		{"unknown command", []string{"frobnicate"}, exitUsage, nil, "unknown command", 2},
		{"compact", []string{"compact"}, exitOK, []string{"compacted: "}, "", 2},
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
			if strings.Contains(r.stdout, aliceID) || strings.Contains(r.stderr, aliceID) {
				t.Errorf("output shows a full session ID:\n%s%s", r.stdout, r.stderr)
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
	if len(list) != 2 || list[0].ID != "BobBBBBB" || list[1].ID != "AliceAAA" || list[1].Tabs != 2 || !list[1].Created.Equal(created) {
		t.Errorf("sessions -json: got %+v", list)
	}
	var d admin.Detail
	decode(t, runCLI(t, "-db", path, "-json", "show", "AliceAAA"), &d)
	if len(d.Values) != 4 || len(d.TabTable) != 1 || d.TabTable[0].Label != "Front till" {
		t.Errorf("show -json: got %+v", d)
	}
	for _, v := range d.Values {
		if v.Key == "\x00flash:notice" && (!v.Flash || len(v.Flashes) != 1 || string(v.Flashes[0]) != `"Added A1"`) {
			t.Errorf("show -json: flash decoded as %+v", v)
		}
	}
	var st admin.Stats
	decode(t, runCLI(t, "-db", path, "-json", "stats"), &st)
	if st.Sessions != 3 || st.Expired != 1 || st.Tabs != 3 || st.FileBytes == 0 {
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
	commands := [][]string{{"sessions"}, {"show", "AliceAAA"}, {"-json", "stats"}, {"show", "Alice"}, {"show", "Nobody00"}}
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
	if r := runCLI(t, "-admin", srv.URL, "delete", "BobBBBBB"); r.code != exitOK {
		t.Errorf("delete through -admin: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "-admin", srv.URL, "compact"); r.code != exitOK {
		t.Errorf("compact through -admin: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "-admin", srv.URL, "clear", "--force"); r.code != exitOK || r.stdout != "deleted 1 session\n" {
		t.Errorf("clear --force through -admin: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestRedis(t *testing.T) {
	url := os.Getenv("TABKIT_REDIS_URL")
	if url == "" {
		t.Skip("TABKIT_REDIS_URL is not set; scripts/redis-test-server.sh starts a server for it")
	}
	st, err := redisstore.Open(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A random ID, so runs sharing the server do not meet.
	id := fmt.Sprintf("cli-test-%d-0123456789abcdef", time.Now().UnixNano())
	ctx := context.Background()
	d := store.Delta{Create: true, IdleDeadline: time.Now().Add(time.Hour), Set: map[store.Key][]byte{store.SessionKey("who"): []byte(`"redis"`)}}
	if _, err := st.Commit(ctx, id, d); err != nil {
		t.Fatal(err)
	}
	defer st.Delete(ctx, id)
	var stats admin.Stats
	decode(t, runCLI(t, "-store", url, "-json", "stats"), &stats)
	if stats.Sessions < 1 {
		t.Errorf("stats: %+v", stats)
	}
	if r := runCLI(t, "-store", url, "show", id[:20]); r.code != exitOK || !strings.Contains(r.stdout, `"redis"`) {
		t.Errorf("show on Redis: exit %d, %s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "-store", url, "delete", id); r.code != exitOK {
		t.Errorf("delete on Redis: exit %d, %s", r.code, r.stderr)
	}
	if _, found, _ := st.Load(ctx, id); found {
		t.Error("delete on Redis left the session")
	}
	if r := runCLI(t, "-store", url, "compact"); r.code != exitFailed || !strings.Contains(r.stderr, "Redis") {
		t.Errorf("compact on Redis: exit %d, %q", r.code, r.stderr)
	}
}
