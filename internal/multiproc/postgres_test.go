package multiproc

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const pgSkipMessage = "set TABKIT_PG_URL=postgres://tabkit@127.0.0.1:6433/tabkit?sslmode=disable and run a PostgreSQL (scripts/pg-test-server.sh start); `make test` does both"

// TestConcurrentAddsOnPostgres is TestConcurrentAddsAcrossProcesses with
// the two demo processes on one PostgreSQL (-store postgres://…): every
// add acknowledged through either is in the cart exactly once.
func TestConcurrentAddsOnPostgres(t *testing.T) {
	concurrentAdds(t, pgDatabase(t))
}

// pgDatabase creates a database of the test's own on the server
// TABKIT_PG_URL names, so the demo's tables (it has no table-prefix
// flag) meet nothing of other runs, drops it when t ends, and returns
// its URL. It skips t without TABKIT_PG_URL.
func pgDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TABKIT_PG_URL")
	if base == "" {
		t.Skip(pgSkipMessage)
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql is not installed (scripts/test.sh installs postgresql)")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TABKIT_PG_URL: %v", err)
	}
	name := "tabkit_multiproc_" + strings.ToLower(rand.Text()[:10])
	psql(t, base, "CREATE DATABASE "+name)
	t.Cleanup(func() { psql(t, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	return u.String()
}

// psql runs one SQL command on the server at dbURL.
func psql(t *testing.T, dbURL, sql string) {
	t.Helper()
	cmd := exec.CommandContext(context.WithoutCancel(t.Context()), "psql", dbURL, "-v", "ON_ERROR_STOP=1", "-qAtc", sql)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("psql -c %q: %v\n%s", sql, err, out)
	}
}
