package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tabkit/tabkit/internal/keylock"
	"github.com/tabkit/tabkit/store"
)

// Store is a store.Store on PostgreSQL. It is safe for concurrent use, and
// any number of Stores in any number of processes may share one database:
// every change is one transaction that holds the session's row lock.
type Store struct {
	pool *pgxpool.Pool
	// ownsPool is set by Open: Close then closes the pool too.
	ownsPool bool
	closed   atomic.Bool

	prefix      string
	q           queries
	now         store.Clock
	maxBytes    int64
	maxSessions int64
	sweepBatch  int
	maxRetries  int
	// withUser is set when Load joins the user (Options.UserJoin).
	withUser bool

	notify store.Subscribers
	locks  keylock.Locks

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var (
	_ store.Store          = (*Store)(nil)
	_ store.Sweeper        = (*Store)(nil)
	_ store.Lister         = (*Store)(nil)
	_ store.Statser        = (*Store)(nil)
	_ store.PrincipalIndex = (*Store)(nil)
	_ store.Notifier       = (*Store)(nil)
	_ io.Closer            = (*Store)(nil)
)

// New returns a Store that keeps its sessions in the database pool
// connects to, configured by opts (nil means DefaultOptions). It creates
// the store's tables when the database has none, upgrades them when they
// are older than this code, and refuses them with ErrSchemaTooNew when
// they are newer. With a UserJoin it also checks that PostgreSQL accepts
// the join. The caller keeps owning pool: Close leaves it open.
func New(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{
		pool:        pool,
		prefix:      o.TablePrefix,
		q:           newQueries(o.TablePrefix, o.UserJoin, o.UserColumns),
		now:         o.Now,
		maxBytes:    o.MaxSessionBytes,
		maxSessions: o.MaxSessions,
		sweepBatch:  o.SweepBatch,
		maxRetries:  o.MaxRetries,
		withUser:    o.UserJoin != "",
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	if err := ensureSchema(ctx, pool, s.prefix); err != nil {
		if errors.Is(err, ErrSchemaTooNew) {
			return nil, err
		}
		return nil, s.fail(ctx, "schema", err)
	}
	if s.withUser {
		if err := s.checkUserJoin(ctx); err != nil {
			return nil, err
		}
	}
	if o.SweepInterval < 0 {
		close(s.done)
		return s, nil
	}
	go s.sweepEvery(o.SweepInterval)
	return s, nil
}

// Settings Open uses unless the URL sets them: a request fails with
// store.ErrUnavailable within seconds when the server is unreachable,
// and the pool holds enough connections for a busy process, since a
// commit holds one for two round trips.
const (
	openConnectTimeout = 2 * time.Second
	openMinPoolConns   = 16
)

// Open connects to the PostgreSQL at url
// (postgres://user:password@host:5432/db?sslmode=verify-full, or any
// connection string pgxpool.ParseConfig takes, pool_max_conns included),
// checks it answers, and returns a Store, made as New makes it, that owns
// the pool: Close closes it. Without connect_timeout in the URL it uses
// 2 s; without pool_max_conns, 16 connections or 4 per CPU, whichever is
// more.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = openConnectTimeout
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(openMinPoolConns, 4*runtime.NumCPU()))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownsPool = true
	return s, nil
}

// Close stops the background sweeper, makes every later call fail with
// store.ErrClosed and, for a Store made by Open, closes the pool. It is
// idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		<-s.done
		if s.ownsPool {
			s.pool.Close()
		}
	})
	return nil
}

// Pool returns the pool the store uses, for an application that wants to
// run its own queries on the same connections.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// check does the checks every method starts with.
func (s *Store) check(ctx context.Context, id string) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return store.CheckID(id)
}

// Load implements store.Store with one query, which also returns the
// session's user when Options.UserJoin is set; a miss costs a second one,
// which asks whether a Move moved the ID away lately (store.ErrMoved).
func (s *Store) Load(ctx context.Context, id string) (store.Record, bool, error) {
	if err := s.check(ctx, id); err != nil {
		return store.Record{}, false, err
	}
	now := s.now.Now()
	var (
		rec   store.Record
		found bool
		err   error
	)
	for try := 0; ; try++ {
		rec, found, err = s.load(ctx, id, now)
		if err == nil || !retryNow(ctx, err, try, true) {
			break
		}
	}
	if errors.Is(err, errMovedAway) {
		return store.Record{}, false, store.ErrMoved
	}
	if err != nil {
		return store.Record{}, false, s.fail(ctx, "load", err)
	}
	return rec, found, nil
}

func (s *Store) load(ctx context.Context, id string, now time.Time) (store.Record, bool, error) {
	rows, err := s.pool.Query(ctx, s.q.load, []byte(id), now)
	if err != nil {
		return store.Record{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.Record{}, false, err
		}
		rows.Close()
		moved, err := isMoved(ctx, s.pool, &s.q, id, now)
		if err != nil {
			return store.Record{}, false, err
		}
		if moved {
			return store.Record{}, false, errMovedAway
		}
		return store.Record{}, false, nil
	}
	var (
		meta       []byte
		keys, vals [][]byte
		user       []byte
	)
	dest := []any{&meta, &keys, &vals}
	if s.withUser {
		dest = append(dest, &user)
	}
	if err := rows.Scan(dest...); err != nil {
		return store.Record{}, false, err
	}
	if rows.Next() {
		return store.Record{}, false, fmt.Errorf("pgstore: the user join matches several rows for session %q; it must match at most one", id)
	}
	if err := rows.Err(); err != nil {
		return store.Record{}, false, err
	}
	m, err := store.ParseMeta(meta)
	if err != nil {
		return store.Record{}, false, fmt.Errorf("pgstore: session %q: %w", id, err)
	}
	if m.Expired(now) {
		return store.Record{}, false, nil
	}
	rec := store.Record{Meta: m, Values: make(map[store.Key][]byte, len(keys)), User: user}
	if len(keys) != len(vals) {
		return store.Record{}, false, fmt.Errorf("pgstore: session %q: %w: %d keys, %d values", id, store.ErrCorrupt, len(keys), len(vals))
	}
	for i, raw := range keys {
		k, err := store.ParseKey(raw)
		if err != nil {
			return store.Record{}, false, fmt.Errorf("pgstore: session %q: %w", id, err)
		}
		rec.Values[k] = vals[i]
	}
	rec.DropExpiredValues(now)
	return rec, true, nil
}

// checkUserJoin has PostgreSQL plan the Load query, so a mistake in the
// application's join shows at New rather than at the first request.
func (s *Store) checkUserJoin(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, "EXPLAIN "+s.q.load, []byte("-"), time.Unix(0, 0))
	if err != nil {
		if isUnavailable(err) {
			return s.fail(ctx, "checking the user join", err)
		}
		return fmt.Errorf("pgstore: Options.UserJoin or UserColumns: %w", err)
	}
	return nil
}

// Delete implements store.Store with one statement; the session's values
// go with it (ON DELETE CASCADE).
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.check(ctx, id); err != nil {
		return err
	}
	var err error
	for try := 0; ; try++ {
		_, err = s.pool.Exec(ctx, s.q.forgetMoved, []byte(id))
		if err == nil || !retryNow(ctx, err, try, true) {
			break
		}
	}
	if err != nil {
		return s.fail(ctx, "delete", err)
	}
	return nil
}

// Subscribe implements store.Notifier. Only the removals made by this
// Store are reported, not those of other processes sharing the tables.
func (s *Store) Subscribe(fn func(store.Event)) (cancel func()) { return s.notify.Add(fn) }

// fail turns an error from the database into what the store promises:
// the context's error when it ended, store.ErrClosed after Close,
// store.ErrUnavailable when PostgreSQL cannot serve.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("pgstore: %s: %w", op, ctxErr)
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	return fmt.Errorf("pgstore: %s: %w", op, unavailable(err))
}

// lockKey is the key of the transaction-level advisory lock that makes
// the changes of one kind (a principal's sign-ins, creates under the
// quota, schema changes) take turns across every store on the tables
// with this prefix. Two names sharing a key only take turns needlessly.
func lockKey(prefix, kind, name string) int64 {
	h := fnv.New64a()
	for _, part := range []string{"tabkit", prefix, kind, name} {
		_, _ = h.Write([]byte(part))
		_, _ = h.Write([]byte{0})
	}
	return int64(h.Sum64())
}

// validPrincipal reports whether p fits the principal column: text
// without NUL bytes, as PostgreSQL's text type requires.
func validPrincipal(p string) bool {
	return utf8.ValidString(p) && !strings.ContainsRune(p, 0)
}

// errBadPrincipal is a caller's mistake, never a condition to branch on.
var errBadPrincipal = errors.New("pgstore: a principal must be UTF-8 text without NUL bytes")

// errBadMove is a caller's mistake, never a condition to branch on.
var errBadMove = errors.New("pgstore: Move needs two different IDs and a delta without Create")

// errMovedAway carries store.ErrMoved out of load past the retries,
// which only look at database errors.
var errMovedAway = fmt.Errorf("pgstore: %w", store.ErrMoved)
