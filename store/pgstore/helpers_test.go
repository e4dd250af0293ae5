package pgstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tabkit/tabkit/store"
)

const skipMessage = "set TABKIT_PG_URL=postgres://tabkit@127.0.0.1:6433/tabkit?sslmode=disable and run a PostgreSQL (scripts/pg-test-server.sh start); scripts/test.sh does both"

// pgURL returns the test server's URL, or skips tb without one.
func pgURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("TABKIT_PG_URL")
	if url == "" {
		tb.Skip(skipMessage)
	}
	return url
}

// uniquePrefix returns a table prefix no other test uses, and drops the
// store's tables and functions under it when tb ends.
func uniquePrefix(tb testing.TB, url string) string {
	tb.Helper()
	prefix := "t" + strings.ToLower(rand.Text()[:10]) + "_"
	tb.Cleanup(func() { dropTables(tb, url, prefix) })
	return prefix
}

// dropTables removes what the store made under prefix, with a connection
// of its own: the store under test is closed by then.
func dropTables(tb testing.TB, url, prefix string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Errorf("cleanup: connect: %v", err)
		return
	}
	defer conn.Close(ctx)
	sql := fmt.Sprintf(`DROP TABLE IF EXISTS %[1]svalues, %[1]ssessions, %[1]scounts, %[1]sschema, %[1]susers CASCADE;
DROP FUNCTION IF EXISTS %[1]ssessions_added(), %[1]ssessions_removed(), %[1]ssessions_truncated();`, prefix)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Errorf("cleanup: drop %s*: %v", prefix, err)
	}
}

// testStore is a Store on the test server with tables of its own, and
// the counter of what its pool sends.
type testStore struct {
	*Store
	url    string
	trips  *tripCounter
	prefix string
}

// newTestStore opens a Store with opts (TablePrefix filled in when empty,
// the background sweeper off unless set) on a pool of its own that counts
// what it sends, closed with the store when tb ends. conns bounds the
// pool; zero means pgxpool's default.
func newTestStore(tb testing.TB, opts Options, conns int32) *testStore {
	tb.Helper()
	url := pgURL(tb)
	if opts.TablePrefix == "" {
		opts.TablePrefix = uniquePrefix(tb, url)
	}
	if opts.SweepInterval == 0 {
		opts.SweepInterval = -1
	}
	trips := &tripCounter{}
	pool := newCountingPool(tb, url, trips, conns)
	s, err := New(tb.Context(), pool, &opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return &testStore{Store: s, url: url, trips: trips, prefix: opts.TablePrefix}
}

// newCountingPool makes a pool on url whose connections count their
// round trips and statements in trips, and closes it when tb ends. Its
// connections are never pinged on acquire, so only what the store sends
// is counted.
func newCountingPool(tb testing.TB, url string, trips *tripCounter, conns int32) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatalf("ParseConfig: %v", err)
	}
	if conns > 0 {
		cfg.MaxConns = conns
	}
	cfg.ConnConfig.Tracer = trips
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, trips: trips}, nil
	}
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool, err := pgxpool.NewWithConfig(tb.Context(), cfg)
	if err != nil {
		tb.Fatalf("pgxpool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// tripCounter counts what a pool sends: round trips, seen on the wire
// (a write after a read starts one), and statements, seen by pgx's
// tracer (a query is one, a batch one per statement queued).
type tripCounter struct {
	// mu guards every field.
	mu         sync.Mutex
	trips      int
	statements []string
}

// take returns what was counted since the last take.
func (c *tripCounter) take() (trips int, statements []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	trips, statements = c.trips, c.statements
	c.trips, c.statements = 0, nil
	return trips, statements
}

func (c *tripCounter) statement(sql string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first, _, _ := strings.Cut(strings.TrimSpace(sql), "\n")
	c.statements = append(c.statements, first)
}

func (c *tripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c.statement(data.SQL)
	return ctx
}

func (c *tripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *tripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	for _, q := range data.Batch.QueuedQueries {
		c.statement(q.SQL)
	}
	return ctx
}

func (c *tripCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *tripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// countingConn counts a round trip each time the client starts writing
// after it has read (or first writes).
type countingConn struct {
	net.Conn
	trips *tripCounter
	// mu guards writing.
	mu      sync.Mutex
	writing bool
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if !c.writing {
		c.writing = true
		c.trips.mu.Lock()
		c.trips.trips++
		c.trips.mu.Unlock()
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *countingConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
	return c.Conn.Read(b)
}

// execSQL runs sql on the test server with a connection of its own.
func execSQL(tb testing.TB, url, sql string, args ...any) {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), url)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(tb.Context(), sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// queryInt runs sql, which returns one integer, on a connection of its
// own.
func queryInt(tb testing.TB, url, sql string, args ...any) int64 {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), url)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(tb.Context(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

// mustCommit commits d and fails tb on an error.
func mustCommit(tb testing.TB, s store.Store, id string, d store.Delta) store.Meta {
	tb.Helper()
	m, err := s.Commit(tb.Context(), id, d)
	if err != nil {
		tb.Fatalf("Commit(%q): %v", id, err)
	}
	return m
}
