package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// signOutLogs are the backends of the sign-out notes, each with a limit
// of the given size where it keeps one (Redis bounds them by TTL only).
var signOutLogs = []struct {
	name    string
	bounded bool
	open    func(t *testing.T, limit int) signOutLog
}{
	{"memory", true, func(t *testing.T, limit int) signOutLog {
		m := newMemorySignOuts()
		m.limit = limit
		return m
	}},
	{"bolt", true, func(t *testing.T, limit int) signOutLog {
		l, err := openBoltLedger(filepath.Join(t.TempDir(), "sales.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		l.signOutLimit = limit
		return l
	}},
	{"redis", false, func(t *testing.T, limit int) signOutLog {
		u := os.Getenv("TABKIT_REDIS_URL")
		if u == "" {
			t.Skip("TABKIT_REDIS_URL is not set")
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		prefix := "pos-test:{" + hex.EncodeToString(b[:]) + "}:"
		l, err := openRedisLedger(u, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx := context.Background()
			keys, _ := l.client.Keys(ctx, prefix+"*").Result()
			if len(keys) > 0 {
				l.client.Del(ctx, keys...)
			}
			_ = l.Close()
		})
		return l
	}},
}

func TestSignOutLog(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, backend := range signOutLogs {
		t.Run(backend.name, func(t *testing.T) {
			ctx := context.Background()
			const limit = 5
			l := backend.open(t, limit)
			lookup := func(handle string, now time.Time) (signOut, bool) {
				t.Helper()
				n, found, err := l.SignOut(ctx, handle, now)
				if err != nil {
					t.Fatal(err)
				}
				return n, found
			}
			note := func(handle string, n signOut) {
				t.Helper()
				if err := l.NoteSignOut(ctx, handle, n); err != nil {
					t.Fatal(err)
				}
			}

			if _, found := lookup("nobody", t0); found {
				t.Error("a note for a handle never noted")
			}
			first := signOut{Kind: endedElsewhere, By: "Ann", At: t0}
			note("h1", first)
			if got, found := lookup("h1", t0.Add(time.Hour)); !found || got.Kind != first.Kind || got.By != "Ann" || !got.At.Equal(t0) {
				t.Errorf("note h1: got %+v, %v; want %+v", got, found, first)
			}
			if _, found := lookup("h1", t0.Add(signOutTTL+time.Second)); found {
				t.Error("a note older than signOutTTL is still read")
			}
			// A later note of the same handle replaces the first.
			note("h1", signOut{Kind: endedByOperator, At: t0.Add(time.Minute)})
			if got, _ := lookup("h1", t0.Add(time.Hour)); got.Kind != endedByOperator {
				t.Errorf("replaced note: got %+v", got)
			}
			if !backend.bounded {
				return
			}
			// More notes than the limit: the oldest go, h1 first.
			for i := 2; i <= limit+1; i++ {
				note(fmt.Sprintf("h%d", i), signOut{Kind: endedHere, At: t0.Add(time.Duration(i) * time.Minute)})
			}
			if _, found := lookup("h1", t0.Add(time.Hour)); found {
				t.Errorf("the oldest note outlived a full log of %d", limit)
			}
			for i := 2; i <= limit+1; i++ {
				if _, found := lookup(fmt.Sprintf("h%d", i), t0.Add(time.Hour)); !found {
					t.Errorf("note h%d was pruned, want the %d newest kept", i, limit)
				}
			}
			// A note long after: every older one has expired and goes.
			late := t0.Add(signOutTTL + time.Hour)
			note("late", signOut{Kind: endedHere, At: late})
			for i := 2; i <= limit+1; i++ {
				if _, found := lookup(fmt.Sprintf("h%d", i), t0.Add(time.Hour)); found {
					t.Errorf("expired note h%d was kept", i)
				}
			}
			if _, found := lookup("late", late); !found {
				t.Error("the late note is gone")
			}
		})
	}
}

// TestSignOutLogStaysBounded: replacing notes of the same handles over
// and over keeps the log (and the memory log's order) within its limit.
func TestSignOutLogStaysBounded(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	m := newMemorySignOuts()
	m.limit = 4
	for i := range 100 {
		if err := m.NoteSignOut(context.Background(), fmt.Sprintf("h%d", i%6), signOut{Kind: endedHere, At: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if len(m.notes) > m.limit || len(m.order) > 2*m.limit {
			t.Fatalf("after %d notes: %d notes, %d in order; limit %d", i+1, len(m.notes), len(m.order), m.limit)
		}
	}
}

func TestBoltSignOutsSurviveAReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sales.db")
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	l, err := openBoltLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.NoteSignOut(context.Background(), "h", signOut{Kind: endedElsewhere, By: "Ann", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = openBoltLedger(path); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n, found, err := l.SignOut(context.Background(), "h", at); err != nil || !found || n.By != "Ann" {
		t.Errorf("after reopening: got %+v, %v, %v", n, found, err)
	}
}

// TestEndingsSayWhy: the Observe hook learns why a session ends from the
// request ending it, by handle or by principal, only while it does; any
// other ending was the operator's.
func TestEndingsSayWhy(t *testing.T) {
	e := newEndings()
	self := signOut{Kind: endedHere}
	others := signOut{Kind: endedElsewhere, By: "Ann"}
	doneSelf := e.ending("h1", self)
	doneA := e.endingOthers("Ann", others)
	doneB := e.endingOthers("Ann", others)
	tests := []struct {
		handle, principal string
		want              signOutKind
		found             bool
	}{
		{"h1", "Ann", endedHere, true},
		{"h2", "Ann", endedElsewhere, true},
		{"h2", "Bob", "", false},
		{"h2", "", "", false},
	}
	for _, tt := range tests {
		if got, found := e.reason(tt.handle, tt.principal); found != tt.found || got.Kind != tt.want {
			t.Errorf("reason(%q, %q): got %v, %v; want %v, %v", tt.handle, tt.principal, got.Kind, found, tt.want, tt.found)
		}
	}
	doneSelf()
	doneA()
	if _, found := e.reason("h1", ""); found {
		t.Error("a handle's reason outlived its request")
	}
	if _, found := e.reason("h2", "Ann"); !found {
		t.Error("one of two requests ending Ann's others finished, and the other's reason went with it")
	}
	doneB()
	if _, found := e.reason("h2", "Ann"); found {
		t.Error("a principal's reason outlived its requests")
	}

	// Concurrent use, for the race detector.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			done := e.endingOthers(fmt.Sprint(i%2), others)
			e.reason("x", fmt.Sprint(i%2))
			done()
		})
	}
	wg.Wait()
	if len(e.byPrincipal) != 0 || len(e.byHandle) != 0 {
		t.Errorf("left behind: %v, %v", e.byPrincipal, e.byHandle)
	}
}

func FuzzParseNotice(f *testing.F) {
	for _, seed := range []string{signedOutNotice, "ended.abcd.efgh", "refused.x", "ended.", "refused.a b", "ended.<script>", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		handle, refused, ok := parseNotice(v)
		if !ok {
			if handle != "" {
				t.Errorf("parseNotice(%q): a handle from a refused value", v)
			}
			return
		}
		if v == signedOutNotice {
			return
		}
		if !validHandle(handle) || len(handle) > maxHandleLen {
			t.Errorf("parseNotice(%q): handle %q of a bad shape", v, handle)
		}
		if endedNotice(handle, refused) != v {
			t.Errorf("parseNotice(%q) = %q, %v, which does not make the same value", v, handle, refused)
		}
	})
}
