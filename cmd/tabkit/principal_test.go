package main

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/admin"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/redisstore"
)

// target is a store a test points tabkit at, holding the fixture.
type target struct {
	flags []string
	// noIndex, when set, says why the store keeps no index of
	// principals.
	noIndex string
}

// indexed reports whether st's type implements store.PrincipalIndex,
// and says why not otherwise.
func indexed(st store.Store, name string) string {
	if _, ok := st.(store.PrincipalIndex); ok {
		return ""
	}
	return name + " does not implement store.PrincipalIndex yet; this test runs in full once it does"
}

// targets make the fixture on every store tabkit reaches: a bbolt file,
// the admin endpoint of a memory store and of a bbolt store, and Redis
// when TABKIT_REDIS_URL is set.
var targets = []struct {
	name string
	make func(t *testing.T) target
}{
	{"file", func(t *testing.T) target {
		return target{[]string{"-db", fixture(t)}, indexed((*boltstore.Store)(nil), "boltstore")}
	}},
	{"endpoint on memory", func(t *testing.T) target {
		return target{[]string{"-admin", memoryEndpoint(t)}, ""}
	}},
	{"endpoint on file", func(t *testing.T) target {
		st, err := boltstore.Open(fixture(t), &boltstore.Options{SweepInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		srv := httptest.NewServer(admin.Handler(st))
		t.Cleanup(srv.Close)
		return target{[]string{"-admin", srv.URL}, indexed(st, "boltstore")}
	}},
	{"redis", func(t *testing.T) target {
		url := redisDB(t)
		st, err := redisstore.Open(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		writeSessions(t, st, nil)
		return target{[]string{"-store", url}, indexed(st, "redisstore")}
	}},
}

func TestPrincipals(t *testing.T) {
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			tg := tt.make(t)
			cli := func(args ...string) result { return runCLI(t, append(tg.flags, args...)...) }
			if tg.noIndex != "" {
				if r := cli("sessions", "-principal", "alice"); r.code != exitFailed || !strings.Contains(r.stderr, "no index of principals") {
					t.Errorf("sessions -principal without an index: exit %d, %q", r.code, r.stderr)
				}
				t.Skip(tg.noIndex)
			}
			front, back, bob := frontID[:8], backID[:8], bobID[:8]
			r := cli("sessions", "-principal", "alice")
			if r.code != exitOK || !strings.HasSuffix(r.stdout, "\n2 sessions of alice\n") ||
				strings.Index(r.stdout, back) > strings.Index(r.stdout, front) || strings.Contains(r.stdout, bob) || strings.Contains(r.stdout, oldID[:8]) {
				t.Errorf("sessions -principal alice: exit %d, %q\n%s", r.code, r.stderr, r.stdout)
			}
			var list []admin.Session
			decode(t, cli("-json", "sessions", "-principal", "alice"), &list)
			if len(list) != 2 || list[0].Handle != backID || list[1].Handle != frontID || list[1].Principal != "alice" {
				t.Errorf("sessions -json -principal alice: got %+v", list)
			}
			if r := cli("sessions", "-principal", "carol"); r.code != exitOK || !strings.HasSuffix(r.stdout, "\n0 sessions of carol\n") {
				t.Errorf("sessions -principal carol: exit %d, %q %q", r.code, r.stdout, r.stderr)
			}
			if r := cli("end", "-principal", "alice"); r.code != exitOK || r.stdout != "ended 2 sessions of alice\n" {
				t.Errorf("end -principal alice: exit %d, %q %q", r.code, r.stdout, r.stderr)
			}
			decode(t, cli("-json", "sessions"), &list)
			if len(list) != 1 || list[0].Handle != bobID {
				t.Errorf("after end -principal alice: %+v, want bob's session alone", list)
			}
			if r := cli("end", "-principal", "alice"); r.code != exitOK || r.stdout != "ended 0 sessions of alice\n" {
				t.Errorf("end -principal alice again: exit %d, %q %q", r.code, r.stdout, r.stderr)
			}
			var ended struct {
				Principal string
				Ended     int
			}
			decode(t, cli("end", "-principal", "bob", "-json"), &ended)
			if ended.Principal != "bob" || ended.Ended != 1 {
				t.Errorf("end -json -principal bob: got %+v", ended)
			}
		})
	}
}

// TestPrincipalQuoted shows a principal that is not plain text quoted,
// so it cannot forge lines or columns of the listing.
func TestPrincipalQuoted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tabkit.db")
	st, err := boltstore.Open(path, &boltstore.Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	p := "eve\n3 sessions\tx"
	at := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	d := store.Delta{Create: true, LastSeen: at, IdleDeadline: at.Add(time.Hour), SetPrincipal: true, Principal: p}
	if _, err := st.Commit(t.Context(), store.HashToken(token("eve")), d); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "-db", path, "sessions")
	if r.code != exitOK || strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stdout, `"eve\n3 sessions\tx"`) {
		t.Errorf("sessions: exit %d:\n%s", r.code, r.stdout)
	}
	var list []admin.Session
	decode(t, runCLI(t, "-db", path, "-json", "sessions"), &list)
	if len(list) != 1 || list[0].Principal != p {
		b, _ := json.Marshal(list)
		t.Errorf("sessions -json: %s", b)
	}
}
