package multiproc

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tabkit/tabkit/internal/demoproc"
)

const skipMessage = "set TABKIT_REDIS_URL=redis://127.0.0.1:6390/0 and run a redis-server (scripts/redis-test-server.sh start); `make test` does both"

// Databases the tests take for themselves: the demo writes its sessions
// with the store's default key prefix, so only a database of its own
// keeps a test apart from other packages' tests (which share database 0
// under prefixes of their own) and from the other test here.
const (
	dbSharedSession = 14
	dbConcurrentAdd = 15
)

// demoPIN is the cashier PIN the demo processes are started with.
const demoPIN = "2468"

// Time limits. Generous, since the race detector slows everything down;
// a healthy run takes a fraction of them. A process told to stop gets
// demoproc.ExitTimeout.
const (
	startTimeout   = 30 * time.Second
	requestTimeout = 30 * time.Second
)

// The demo binary, built at most once per test run; buildCleanup
// removes it.
var (
	buildOnce    sync.Once
	buildPath    string
	buildCleanup func()
	buildErr     error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildCleanup != nil {
		buildCleanup()
	}
	os.Exit(code)
}

// demoBinary builds cmd/pos-demo the first time a test needs it, not in
// TestMain itself: a run without Redis, or one of benchmarks only, then
// pays nothing for a build it would not use. It is race-built when the
// tests are, so a data race inside a demo process fails the test too.
func demoBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildPath, buildCleanup, buildErr = demoproc.Build(raceEnabled)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// redisURL returns the test server's URL, or skips t without one.
func redisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("TABKIT_REDIS_URL")
	if u == "" {
		tb.Skip(skipMessage)
	}
	return u
}

// testDB returns the URL of database db on the test server, emptied now
// and again when t ends, so nothing of an earlier run is seen and nothing
// is left behind.
func testDB(t *testing.T, db int) string {
	t.Helper()
	opts, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatalf("TABKIT_REDIS_URL: %v", err)
	}
	opts.DB = db
	client := redis.NewClient(opts)
	t.Cleanup(func() {
		if err := client.FlushDB(context.Background()).Err(); err != nil {
			t.Errorf("FLUSHDB %d at the end: %v", db, err)
		}
		_ = client.Close()
	})
	if err := client.FlushDB(t.Context()).Err(); err != nil {
		t.Fatalf("FLUSHDB %d: %v", db, err)
	}
	u := url.URL{Scheme: "redis", Host: opts.Addr, Path: fmt.Sprintf("/%d", db)}
	if opts.Username != "" || opts.Password != "" {
		u.User = url.UserPassword(opts.Username, opts.Password)
	}
	return u.String()
}

// dbClient is a client on the test database db, closed when t ends.
func dbClient(t *testing.T, db int) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatalf("TABKIT_REDIS_URL: %v", err)
	}
	opts.DB = db
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// startDemo starts a demo process on a free loopback port with the given
// store and signing keys (the processes of one test share theirs, so a
// cookie one signs the other accepts), waits until it answers, and stops
// it when t ends, failing t if it reported a data race or exited with an
// error. Its log is printed if t fails.
// demoArgs are a demo process's flags. On Redis the sales ledger lives in
// the shared store; on PostgreSQL it is a bbolt file, which each process
// gets of its own: never one in the package's directory, and never one
// two processes fight over.
func demoArgs(t *testing.T, storeURL string) []string {
	args := []string{"-store", storeURL, "-pin", demoPIN}
	if strings.HasPrefix(storeURL, "postgres") {
		args = append(args, "-sales-db", filepath.Join(t.TempDir(), "sales.db"))
	}
	return args
}

func startDemo(t *testing.T, name, storeURL, keys string) *demoproc.Demo {
	t.Helper()
	d := demoproc.Start(t, demoproc.Command{
		Name:             name,
		Bin:              demoBinary(t),
		Args:             demoArgs(t, storeURL),
		Env:              demoproc.Environ(keys),
		StartTimeout:     startTimeout,
		KeepRequestLines: true,
	})
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("log of %s (%s):\n%s", d.Name(), d.URL(), d.Log())
		}
	})
	d.WaitHealthy(startTimeout)
	return d
}
