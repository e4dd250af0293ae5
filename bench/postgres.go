package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tabkit/tabkit/store/pgstore"
)

// postgresLibraries are tabkit on PostgreSQL and its peer, scs's pgx
// store, on the same server. Each app gets a schema of its own (scs's
// table name is fixed), chosen through search_path and dropped when the
// app closes, so runs never see each other's sessions.
func postgresLibraries(serverURL string) []Library {
	return []Library{
		{Name: "tabkit-postgres", Durable: true, New: func(dir string, o Options) (*App, error) {
			schemaURL, drop, err := newSchema(serverURL)
			if err != nil {
				return nil, err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			st, err := pgstore.Open(ctx, schemaURL, &pgstore.Options{MaxSessions: o.MaxSessions, SweepInterval: -1})
			if err != nil {
				return nil, errors.Join(err, drop())
			}
			app, err := newTabkit(st, st.Close, o)
			if err != nil {
				return nil, errors.Join(err, st.Close(), drop())
			}
			app.closers = append([]func() error{drop}, app.closers...)
			return app, nil
		}},
		{Name: "scs-pgxstore", Durable: true, New: func(dir string, o Options) (*App, error) {
			schemaURL, drop, err := newSchema(serverURL)
			if err != nil {
				return nil, err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			pool, err := pgxpool.New(ctx, schemaURL)
			if err == nil {
				// The table and index scs's pgxstore documents.
				_, err = pool.Exec(ctx, `CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);`)
			}
			if err != nil {
				if pool != nil {
					pool.Close()
				}
				return nil, errors.Join(err, drop())
			}
			st := pgxstore.NewWithCleanupInterval(pool, 0)
			stored := func() (int, error) {
				var n int
				err := pool.QueryRow(context.Background(), "SELECT count(*) FROM sessions").Scan(&n)
				return n, err
			}
			closePool := func() error { pool.Close(); return nil }
			app := newSCS(st, stored, closePool, o)
			app.closers = append([]func() error{drop}, app.closers...)
			return app, nil
		}},
	}
}

// newSchema creates a schema of its own on the server and returns a URL
// whose connections use it, and a function that drops it.
func newSchema(serverURL string) (schemaURL string, drop func() error, err error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, err
	}
	name := "bench_" + strings.ToLower(rand.Text()[:10])
	run := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pool, err := pgxpool.New(ctx, serverURL)
		if err != nil {
			return err
		}
		defer pool.Close()
		_, err = pool.Exec(ctx, sql)
		return err
	}
	if err := run("CREATE SCHEMA " + name); err != nil {
		return "", nil, fmt.Errorf("postgres: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), func() error { return run("DROP SCHEMA " + name + " CASCADE") }, nil
}
