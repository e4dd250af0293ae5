package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tabkit/tabkit/store/redisstore"
)

// redisTestDB is the database of the test server these tests take for
// themselves: tabkit reaches a Redis store under the default key prefix,
// so only a database of its own keeps them apart from other packages'
// tests (which share database 0 under prefixes of their own, and
// internal/multiproc, which takes 14 and 15).
const redisTestDB = 13

// redisDB returns the URL of the test server's database redisTestDB,
// emptied now and when t ends, or skips t without a server.
func redisDB(t *testing.T) string {
	t.Helper()
	client := redisClient(t)
	t.Cleanup(func() {
		if err := client.FlushDB(context.Background()).Err(); err != nil {
			t.Errorf("FLUSHDB %d at the end: %v", redisTestDB, err)
		}
	})
	if err := client.FlushDB(t.Context()).Err(); err != nil {
		t.Fatalf("FLUSHDB %d: %v", redisTestDB, err)
	}
	opts := client.Options()
	u := url.URL{Scheme: "redis", Host: opts.Addr, Path: fmt.Sprintf("/%d", redisTestDB)}
	if opts.Username != "" || opts.Password != "" {
		u.User = url.UserPassword(opts.Username, opts.Password)
	}
	return u.String()
}

// redisClient is a client of the test database, closed when t ends.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	raw := os.Getenv("TABKIT_REDIS_URL")
	if raw == "" {
		t.Skip("TABKIT_REDIS_URL is not set; scripts/redis-test-server.sh starts a server for it")
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("TABKIT_REDIS_URL: %v", err)
	}
	opts.DB = redisTestDB
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	return client
}

func TestRedis(t *testing.T) {
	url := redisDB(t)
	st, err := redisstore.Open(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	writeSessions(t, st, nil)
	var stats struct{ Sessions int }
	decode(t, runCLI(t, "-store", url, "-json", "stats"), &stats)
	if stats.Sessions != 3 {
		t.Errorf("stats: %+v, want 3 sessions", stats)
	}
	if r := runCLI(t, "-store", url, "show", frontID[:8]); r.code != exitOK || !strings.Contains(r.stdout, `"alice"`) ||
		!strings.Contains(r.stdout, "handle             "+frontID+"\n") {
		t.Errorf("show on Redis: exit %d, %s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "-store", url, "delete", bobID); r.code != exitOK {
		t.Errorf("delete on Redis: exit %d, %s", r.code, r.stderr)
	}
	if _, found, _ := st.Load(t.Context(), bobID); found {
		t.Error("delete on Redis left the session")
	}
	if r := runCLI(t, "-store", url, "compact"); r.code != exitFailed || !strings.Contains(r.stderr, "Redis") {
		t.Errorf("compact on Redis: exit %d, %q", r.code, r.stderr)
	}
}
