package pgstore

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// cluster is a PostgreSQL of the test's own, run by
// scripts/pg-test-server.sh on a free loopback port, so the test can stop
// and start it without disturbing any other test.
type cluster struct {
	t    *testing.T
	env  []string
	url  string
	port int
}

// startCluster initdbs and starts a private cluster, and removes it when
// t ends. It skips t where PostgreSQL is not installed.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	if _, err := exec.LookPath("initdb"); err != nil {
		if found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(found) == 0 {
			t.Skip("PostgreSQL is not installed (scripts/test.sh installs it)")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	// Not t.TempDir: the postgres user must be able to reach the
	// directory, which the script creates and hands over.
	dir := filepath.Join(os.TempDir(), "tabkit-pg-test-"+strings.ToLower(rand.Text()[:8]))
	c := &cluster{
		t:    t,
		env:  append(os.Environ(), "TABKIT_PG_PORT="+strconv.Itoa(port), "TABKIT_PG_DIR="+dir),
		port: port,
	}
	t.Cleanup(func() { c.run("clean") })
	c.url = strings.TrimSpace(c.run("start"))
	return c
}

// run runs the script with cmd and returns what it printed.
func (c *cluster) run(cmd string) string {
	c.t.Helper()
	script := exec.Command("../../scripts/pg-test-server.sh", cmd)
	script.Env = c.env
	var stderr strings.Builder
	script.Stderr = &stderr
	out, err := script.Output()
	if err != nil {
		c.t.Fatalf("pg-test-server.sh %s: %v\n%s", cmd, err, stderr.String())
	}
	return string(out)
}

// TestOutageAndRecovery stops the server under the store, with a commit
// in the middle of its transaction: the commit and every call while the
// server is down fail with store.ErrUnavailable and change nothing; once
// the server is back the store serves again by itself, and the data is
// what was acknowledged. Then the server terminates the store's
// connections (an admin's pg_terminate_backend), with the same outcome.
func TestOutageAndRecovery(t *testing.T) {
	srv := startCluster(t)
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	ctx := t.Context()
	s, err := Open(ctx, srv.url, &Options{Now: clock.Now, SweepInterval: -1})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	n := store.SessionKey("n")
	const id = "outage"
	mustCommit(t, s, id, store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Hour), Set: map[store.Key][]byte{n: []byte("0")}})
	mustCommit(t, s, "other", store.Delta{Create: true, SetPrincipal: true, Principal: "ann"})

	// A commit whose Update function runs while the server goes away.
	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := s.Commit(ctx, id, store.Delta{Update: map[store.Key]store.UpdateFunc{n: func(old []byte, _ bool) ([]byte, error) {
			once.Do(func() { close(inside) })
			<-release
			return []byte("lost"), nil
		}}})
		done <- err
	}()
	<-inside
	srv.run("stop")
	close(release)
	if err := <-done; !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("commit in flight when the server stopped: got %v, want %v", err, store.ErrUnavailable)
	}

	// Every call fails at once while the server is down.
	down := time.Now()
	calls := []struct {
		name string
		call func() error
	}{
		{"Load", func() error { _, _, err := s.Load(ctx, id); return err }},
		{"Commit", func() error {
			_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{n: []byte("x")}})
			return err
		}},
		{"Commit with Create", func() error { _, err := s.Commit(ctx, "new", store.Delta{Create: true}); return err }},
		{"Move", func() error { _, err := s.Move(ctx, id, "moved", store.Delta{}); return err }},
		{"Delete", func() error { return s.Delete(ctx, "other") }},
		{"Sweep", func() error { _, err := s.Sweep(ctx); return err }},
		{"List", func() error { return s.List(ctx, func(string, store.Meta) bool { return true }) }},
		{"Stats", func() error { _, err := s.Stats(ctx); return err }},
		{"SessionsOf", func() error { _, err := s.SessionsOf(ctx, "ann"); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while the server is down: got %v, want %v", c.name, err, store.ErrUnavailable)
		}
	}
	if took := time.Since(down); took > 10*time.Second {
		t.Errorf("%d calls while the server is down took %v, want them to fail fast", len(calls), took)
	}

	srv.run("start")
	back := time.Now()
	recovered := waitRecovered(t, s, id)
	t.Logf("the store served again %v after the server was started", time.Since(back).Round(time.Millisecond))
	if got := string(recovered.Values[n]); got != "0" {
		t.Errorf("value after the outage: got %q, want %q (the commit cut off by the stop never happened)", got, "0")
	}
	for _, other := range []string{"other", "new", "moved"} {
		_, found, err := s.Load(ctx, other)
		if want := other == "other"; err != nil || found != want {
			t.Errorf("Load(%q) after the outage: got found=%v, %v, want %v (the calls that failed changed nothing)", other, found, err, want)
		}
	}
	mustCommit(t, s, id, store.Delta{Update: map[store.Key]store.UpdateFunc{n: func([]byte, bool) ([]byte, error) { return []byte("1"), nil }}})

	// An admin terminates every connection of the database.
	admin, err := pgx.Connect(ctx, srv.url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"); err != nil {
		t.Fatal(err)
	}
	failures := 0
	for i := range 10 {
		_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{store.SessionKey("after"): []byte(strconv.Itoa(i))}})
		switch {
		case errors.Is(err, store.ErrUnavailable):
			failures++
		case err != nil:
			t.Fatalf("commit %d after the connections were terminated: got %v, want nil or %v", i, err, store.ErrUnavailable)
		}
	}
	t.Logf("commits after the connections were terminated: %d of 10 failed", failures)
	if failures > 1 {
		t.Errorf("commits after the connections were terminated: %d of 10 failed, want at most the first", failures)
	}
	rec := waitRecovered(t, s, id)
	if got := string(rec.Values[store.SessionKey("after")]); got != "9" {
		t.Errorf("value after the terminated connections: got %q, want %q", got, "9")
	}
}

// waitRecovered loads id until the store serves again, for at most 30
// seconds, and fails t on any error other than store.ErrUnavailable.
func waitRecovered(t *testing.T, s *Store, id string) store.Record {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, found, err := s.Load(t.Context(), id)
		switch {
		case err == nil && found:
			return rec
		case err == nil:
			t.Fatalf("Load(%q) after the outage: not found", id)
		case !errors.Is(err, store.ErrUnavailable):
			t.Fatalf("Load(%q) while the server comes back: got %v, want nil or %v", id, err, store.ErrUnavailable)
		case time.Now().After(deadline):
			t.Fatalf("the store did not recover within 30 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
