package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tabkit/tabkit/store"
)

// Commit implements store.Store. It is one transaction of two round
// trips: the first begins it, locks the session's row (SELECT … FOR
// UPDATE) and reads the values the delta names; store.PlanCommit then
// decides what the delta means, running its EditMeta and Update
// functions while the lock is held; the second round trip writes the
// plan (an update of the session's row, upserts and deletes of value
// rows) and commits.
func (s *Store) Commit(ctx context.Context, id string, d store.Delta) (store.Meta, error) {
	if err := s.check(ctx, id); err != nil {
		return store.Meta{}, err
	}
	return s.change(ctx, "commit", id, "", d)
}

// Move implements store.Store: a Commit that locks both rows (in the
// order of their IDs) and renames the session's row; its values follow
// through ON UPDATE CASCADE.
func (s *Store) Move(ctx context.Context, from, to string, d store.Delta) (store.Meta, error) {
	if err := s.check(ctx, from); err != nil {
		return store.Meta{}, err
	}
	if err := store.CheckID(to); err != nil {
		return store.Meta{}, err
	}
	if d.Create || from == to {
		return store.Meta{}, errBadMove
	}
	return s.change(ctx, "move", from, to, d)
}

// change runs a Commit (to == "") or a Move, after the Store's other
// commits of the same sessions (see keylock). Subscribers hear of
// the sessions it removed once it let go of them.
func (s *Store) change(ctx context.Context, op, id, to string, d store.Delta) (store.Meta, error) {
	if s.maxBytes > 0 && (d.MaxBytes == 0 || s.maxBytes < d.MaxBytes) {
		d.MaxBytes = s.maxBytes
	}
	if d.SetPrincipal && !validPrincipal(d.Principal) {
		return store.Meta{}, errBadPrincipal
	}
	ids := []string{id}
	if to != "" {
		ids = append(ids, to)
	}
	unlock, err := s.locks.Lock(ctx, ids...)
	if err != nil {
		return store.Meta{}, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	var removed []store.Event
	meta, err := s.changeLocked(ctx, op, id, to, &d, &removed)
	unlock()
	s.notify.Send(removed)
	return meta, err
}

// changeLocked is change once the sessions' local locks are held; it
// adds the sessions it removed to *removed. It starts over when
// PostgreSQL broke a deadlock by aborting it, when nothing reached the
// server, and once after a sweep when the store was full.
func (s *Store) changeLocked(ctx context.Context, op, id, to string, d *store.Delta, removed *[]store.Event) (store.Meta, error) {
	swept := false
	for try := 0; ; try++ {
		a := attempt{s: s, id: id, to: to, d: d}
		meta, err := a.run(ctx)
		var dbErr *dbError
		switch {
		case err == nil:
			*removed = append(*removed, a.evicted...)
			return meta, nil
		case errors.Is(err, store.ErrFull) && !swept:
			swept = true
			_, err := s.sweep(ctx, func(events []store.Event) { *removed = append(*removed, events...) })
			if err != nil {
				return store.Meta{}, err
			}
		case !errors.As(err, &dbErr):
			// What the delta itself came to: ErrNotFound, ErrConflict, an
			// Update function's error...
			return store.Meta{}, err
		case isDeadlock(dbErr.err) && try < s.maxRetries, retryNow(ctx, dbErr.err, try, dbErr.uncommitted):
		default:
			return store.Meta{}, s.fail(ctx, op, dbErr.err)
		}
	}
}

// dbError marks an error of the database, as opposed to the outcome of
// the delta, inside an attempt.
type dbError struct {
	err error
	// uncommitted is set when the error came before the transaction sent
	// its COMMIT, so nothing of it took effect.
	uncommitted bool
}

func (e *dbError) Error() string { return e.err.Error() }
func (e *dbError) Unwrap() error { return e.err }

// attempt is one transaction of a Commit or Move.
type attempt struct {
	s      *Store
	id, to string
	d      *store.Delta
	now    time.Time
	conn   *pgx.Conn

	// What the first round trip read.
	// others are the principal's other live sessions, when the delta
	// joins a principal under a limit.
	others []store.SessionRef
	// count is the number of stored sessions, when the delta creates one
	// under MaxSessions.
	count int64
	// fromRow and toRow say the rows of id and to exist, live or not.
	fromRow, toRow bool
	// current is id's meta when it is live.
	current *store.Meta
	toLive  bool
	// values holds the values read, by encoded key; asked holds every
	// encoded key read, found or not.
	values map[string][]byte
	asked  map[string]bool

	evicted []store.Event
}

func (a *attempt) run(ctx context.Context) (store.Meta, error) {
	pc, err := a.s.pool.Acquire(ctx)
	if err != nil {
		return store.Meta{}, &dbError{err, true}
	}
	defer pc.Release()
	a.conn = pc.Conn()
	a.now = a.s.now.Now()
	committed := false
	defer func() {
		if !committed {
			a.rollback(ctx)
		}
	}()

	if err := a.lock(ctx); err != nil {
		return store.Meta{}, &dbError{err, true}
	}
	if a.to != "" {
		switch {
		case a.current == nil:
			return store.Meta{}, a.notFound(ctx)
		case a.toLive:
			return store.Meta{}, store.ErrExists
		}
	}
	if err := a.readExpiredValues(ctx); err != nil {
		return store.Meta{}, &dbError{err, true}
	}
	plan, err := store.PlanCommit(a.now, a.current, a.read(ctx), a.d)
	if errors.Is(err, store.ErrNotFound) {
		return store.Meta{}, a.notFound(ctx)
	}
	if err != nil {
		return store.Meta{}, err
	}
	if a.d.Create && a.s.maxSessions > 0 && !a.fromRow && a.count >= a.s.maxSessions {
		return store.Meta{}, fmt.Errorf("%w: %d sessions, limit %d", store.ErrFull, a.count, a.s.maxSessions)
	}
	var victims []string
	if a.d.JoinsPrincipal(a.current) {
		if victims, err = a.d.PrincipalLimit.Victims(a.others); err != nil {
			return store.Meta{}, err
		}
	}
	if err := a.write(ctx, &plan, victims); err != nil {
		return store.Meta{}, err
	}
	committed = true
	for _, v := range victims {
		a.evicted = append(a.evicted, store.Event{Kind: store.EventEvicted, ID: v, Principal: a.d.Principal, At: a.now})
	}
	return plan.Meta, nil
}

// lock is the first round trip: it begins the transaction, takes the
// advisory locks the delta needs, locks the rows and reads what the
// plan needs. Locks are always taken in this order (a principal's, the
// quota's, then rows by ID), so transactions wait for each other in a
// line, not a circle.
func (a *attempt) lock(ctx context.Context) error {
	ids := [][]byte{[]byte(a.id)}
	if a.to != "" {
		ids = append(ids, []byte(a.to))
	}
	keys := deltaKeys(a.d)
	joins := a.d.SetPrincipal && a.d.Principal != "" && a.d.PrincipalLimit.Max > 0
	quota := a.d.Create && a.s.maxSessions > 0
	q := &a.s.q

	b := &pgx.Batch{}
	b.Queue("begin")
	if joins {
		b.Queue("SELECT pg_advisory_xact_lock($1)", lockKey(a.s.prefix, "principal", a.d.Principal))
		b.Queue(q.others, a.d.Principal, ids, a.now)
	}
	if quota {
		b.Queue("SELECT pg_advisory_xact_lock($1)", lockKey(a.s.prefix, "quota", ""))
		b.Queue(q.counted)
	}
	b.Queue(q.lockRows, ids)
	if len(keys) > 0 {
		b.Queue(q.readValues, []byte(a.id), keys)
	}
	br := a.conn.SendBatch(ctx, b)
	err := a.readLock(br, joins, quota, keys)
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	return err
}

// readLock reads the results of lock's batch in the order it queued them.
func (a *attempt) readLock(br pgx.BatchResults, joins, quota bool, keys [][]byte) error {
	if _, err := br.Exec(); err != nil {
		return err
	}
	if joins {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if err := readSessions(br, a.now, func(ref store.SessionRef) { a.others = append(a.others, ref) }); err != nil {
			return err
		}
	}
	if quota {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if err := br.QueryRow().Scan(&a.count); err != nil {
			return err
		}
	}
	err := readRows(br, func(id string, m store.Meta) {
		live := !m.Expired(a.now)
		switch id {
		case a.id:
			a.fromRow = true
			if live {
				a.current = &m
			}
		case a.to:
			a.toRow, a.toLive = true, live
		}
	})
	if err != nil || len(keys) == 0 {
		return err
	}
	return a.readValues(br.Query, keys)
}

// readExpiredValues reads the values whose time to live ran out, which
// the plan removes (and must count the bytes of), unless the first round
// trip read them already. It costs a round trip only then.
func (a *attempt) readExpiredValues(ctx context.Context) error {
	if a.current == nil {
		return nil
	}
	var missing [][]byte
	for k := range a.current.Expiring {
		enc := store.AppendKey(nil, k)
		if a.current.ValueExpired(k, a.now) && !a.asked[string(enc)] {
			missing = append(missing, enc)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return a.readValues(func() (pgx.Rows, error) {
		return a.conn.Query(ctx, a.s.q.readValues, []byte(a.id), missing)
	}, missing)
}

// read is the plan's view of the stored values: those read before, and
// any other one with a query of its own (PlanCommit asks for no key that
// deltaKeys and readExpiredValues did not list, so that never happens).
func (a *attempt) read(ctx context.Context) store.ValueReader {
	return func(k store.Key) ([]byte, bool, error) {
		enc := store.AppendKey(nil, k)
		if !a.asked[string(enc)] {
			err := a.readValues(func() (pgx.Rows, error) {
				return a.conn.Query(ctx, a.s.q.readValues, []byte(a.id), [][]byte{enc})
			}, [][]byte{enc})
			if err != nil {
				return nil, false, &dbError{err, true}
			}
		}
		v, ok := a.values[string(enc)]
		return v, ok, nil
	}
}

// readValues runs query, a readValues statement for keys, and keeps what
// it returns.
func (a *attempt) readValues(query func() (pgx.Rows, error), keys [][]byte) error {
	if a.asked == nil {
		a.asked = make(map[string]bool, len(keys))
		a.values = make(map[string][]byte, len(keys))
	}
	for _, k := range keys {
		a.asked[string(k)] = true
	}
	rows, err := query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		a.values[string(k)] = v
	}
	return rows.Err()
}

// write is the second round trip: the plan's changes and the commit.
// Victims go first, so the rows this transaction locks are all locked
// before the session counter (which a trigger locks when a session row
// is inserted or deleted).
func (a *attempt) write(ctx context.Context, plan *store.Plan, victims []string) error {
	q := &a.s.q
	m := &plan.Meta
	target := a.id
	if a.to != "" {
		target = a.to
	}
	row := []any{[]byte(a.id), store.AppendMeta(nil, m), principalArg(m.Principal), deadlineArg(m.ExpiresAt()), m.LastSeen, m.Bytes, int64(m.Version)}

	b := &pgx.Batch{}
	if len(victims) > 0 {
		b.Queue(q.deleteSessions, bytesOf(victims))
	}
	switch {
	case a.to != "":
		if a.toRow {
			b.Queue(q.deleteSession, []byte(a.to)) // expired, or Move would have refused
		}
		b.Queue(q.moveSession, append(row, []byte(a.to))...)
		b.Queue(q.markMoved, []byte(a.id), a.now.Add(store.MovedGrace))
	case a.current == nil && a.fromRow:
		// A create over an expired session: the row is ours, its values
		// are not.
		b.Queue(q.deleteAllValues, []byte(a.id))
		b.Queue(q.updateSession, row...)
	case a.current == nil:
		b.Queue(q.insertSession, row...)
	default:
		b.Queue(q.updateSession, row...)
	}
	if len(plan.DropTabs) > 0 {
		prefixes := make([][]byte, len(plan.DropTabs))
		for i, tab := range plan.DropTabs {
			prefixes[i] = store.AppendTabKeyPrefix(nil, tab)
		}
		b.Queue(q.dropTabs, []byte(target), prefixes)
	}
	if len(plan.Remove) > 0 {
		keys := make([][]byte, len(plan.Remove))
		for i, k := range plan.Remove {
			keys[i] = store.AppendKey(nil, k)
		}
		b.Queue(q.deleteValues, []byte(target), keys)
	}
	if len(plan.Put) > 0 {
		keys := make([][]byte, 0, len(plan.Put))
		vals := make([][]byte, 0, len(plan.Put))
		for k, v := range plan.Put {
			keys = append(keys, store.AppendKey(nil, k))
			vals = append(vals, v)
		}
		b.Queue(q.putValues, []byte(target), keys, vals)
	}
	b.Queue("commit")

	br := a.conn.SendBatch(ctx, b)
	var err error
	for range b.Len() {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err == nil && a.conn.PgConn().TxStatus() != 'I' {
		err = errors.New("pgstore: the transaction is still open after its commit")
	}
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err, a.s.prefix+"sessions_pkey"):
		// Another transaction created the session (or moved one to
		// this ID) after this one found no row to lock.
		return store.ErrExists
	}
	return &dbError{err, false}
}

// notFound is the error for a session id that is not live:
// store.ErrMoved while a Move moved it away lately, store.ErrNotFound
// otherwise.
func (a *attempt) notFound(ctx context.Context) error {
	moved, err := isMoved(ctx, a.conn, &a.s.q, a.id, a.now)
	switch {
	case err != nil:
		return &dbError{err, true}
	case moved:
		return store.ErrMoved
	}
	return store.ErrNotFound
}

// isMoved reports whether id is a recent Move's source.
func isMoved(ctx context.Context, conn interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, q *queries, id string, now time.Time) (bool, error) {
	var moved bool
	err := conn.QueryRow(ctx, q.movedAt, []byte(id), now).Scan(&moved)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return moved, err
}

// rollback ends a transaction that did not commit. When it cannot, the
// pool drops the connection as it comes back (it is not idle), and the
// server rolls back.
func (a *attempt) rollback(ctx context.Context) {
	if a.conn == nil || a.conn.IsClosed() || a.conn.PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = a.conn.Exec(ctx, "rollback")
}

// deltaKeys returns the encoded keys whose values PlanCommit may read for
// d, each once.
func deltaKeys(d *store.Delta) [][]byte {
	n := len(d.Expect) + len(d.Delete) + len(d.Set) + len(d.Update)
	if n == 0 {
		return nil
	}
	seen := make(map[store.Key]bool, n)
	keys := make([][]byte, 0, n)
	add := func(k store.Key) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, store.AppendKey(nil, k))
		}
	}
	for k := range d.Expect {
		add(k)
	}
	for _, k := range d.Delete {
		add(k)
	}
	for k := range d.Set {
		add(k)
	}
	for k := range d.Update {
		add(k)
	}
	return keys
}

// readRows reads (id, meta) rows of the next result of br.
func readRows(br pgx.BatchResults, fn func(id string, m store.Meta)) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	return scanSessions(rows, fn)
}

// readSessions reads the live sessions among the (id, meta) rows of the
// next result of br.
func readSessions(br pgx.BatchResults, now time.Time, fn func(store.SessionRef)) error {
	return readRows(br, func(id string, m store.Meta) {
		if !m.Expired(now) {
			fn(store.SessionRef{ID: id, Meta: m})
		}
	})
}

// scanSessions calls fn for each (id, meta) row and closes rows.
func scanSessions(rows pgx.Rows, fn func(id string, m store.Meta)) error {
	defer rows.Close()
	for rows.Next() {
		var id, meta []byte
		if err := rows.Scan(&id, &meta); err != nil {
			return err
		}
		m, err := store.ParseMeta(meta)
		if err != nil {
			return fmt.Errorf("pgstore: session %q: %w", id, err)
		}
		fn(string(id), m)
	}
	return rows.Err()
}

// principalArg is the principal column's value: NULL for none.
func principalArg(p string) any {
	if p == "" {
		return nil
	}
	return p
}

// deadlineArg is the expires_at column's value: NULL for never, and
// otherwise the deadline rounded up to PostgreSQL's microseconds, so a
// session the column shows as expired is expired by its meta too.
func deadlineArg(at time.Time) any {
	if at.IsZero() {
		return nil
	}
	up := at.Truncate(time.Microsecond)
	if up.Before(at) {
		up = up.Add(time.Microsecond)
	}
	return up
}

func bytesOf(ids []string) [][]byte {
	b := make([][]byte, len(ids))
	for i, id := range ids {
		b[i] = []byte(id)
	}
	return b
}

// isUniqueViolation reports whether err is a unique violation of the
// constraint named.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}
