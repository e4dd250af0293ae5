package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Store is a store.Store in one bbolt file. It also implements
// store.Sweeper, store.Lister, store.Statser, store.PrincipalIndex,
// store.Notifier and io.Closer. It is safe for concurrent use.
type Store struct {
	db      *bolt.DB
	opts    Options
	commits committer
	notify  store.Subscribers

	// closeMu is held for reading by every call in progress and for
	// writing by Close, so Close waits for them before closing the file.
	// It guards closed.
	closeMu sync.RWMutex
	closed  bool

	stopSweeper context.CancelFunc
	sweeperDone chan struct{}
	closeOnce   sync.Once
	closeErr    error

	// writeTxs counts the write transactions of commit rounds, so tests can
	// see how many commits shared one.
	writeTxs atomic.Int64
	// hooks lets tests stop and break the committer at chosen points;
	// they are set before the store is used and never changed after.
	hooks testHooks
}

type testHooks struct {
	// beforeRound runs when a leader has taken a batch, before its
	// transaction starts.
	beforeRound func(batch []*op)
	// afterApply runs after an op has written; an error it returns is
	// treated as a failed write of that op.
	afterApply func(o *op) error
	// beforeCommit runs at the end of a round's transaction; an error it
	// returns fails the transaction as a failed commit would.
	beforeCommit func() error
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Sweeper = (*Store)(nil)
	_ store.Lister  = (*Store)(nil)
	_ store.Statser = (*Store)(nil)
)

// Open opens the session database at path, creating it when missing, and
// starts its background sweeper. A nil opts means DefaultOptions. It
// returns an error wrapping ErrLocked when another process holds the
// file, and one wrapping ErrNotDatabase when the file is something else.
func Open(path string, opts *Options) (*Store, error) {
	o := DefaultOptions
	if opts != nil {
		o = *opts
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	// bbolt's default of syncing every commit stays on: an acknowledged
	// commit is on disk.
	db, err := bolt.Open(path, o.FileMode, &bolt.Options{Timeout: o.lockTimeout()})
	if err != nil {
		return nil, openError(path, &o, err)
	}
	migrated, err := prepare(db, path, o.Logger)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if migrated > 0 {
		// The migration freed the pages that held the sessions under
		// their tokens, and bbolt does not wipe free pages: rewriting the
		// file leaves no token in it.
		if db, err = rewrite(db, path, &o); err != nil {
			return nil, fmt.Errorf("boltstore: %s: rewriting after the migration to format %d: %w", path, fileFormat, err)
		}
	}
	s := &Store{db: db, opts: o, sweeperDone: make(chan struct{})}
	s.commits.run = s.runBatch
	ctx, cancel := context.WithCancel(context.Background())
	s.stopSweeper = cancel
	if o.SweepInterval > 0 {
		go s.sweepEvery(ctx, o.SweepInterval)
	} else {
		close(s.sweeperDone)
	}
	return s, nil
}

func openError(path string, o *Options, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %s (gave up after %v)", ErrLocked, path, max(o.Timeout, 0))
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return fmt.Errorf("%w: %s is not a bbolt database: %w", ErrNotDatabase, path, err)
	default:
		return fmt.Errorf("boltstore: open %s: %w", path, err)
	}
}

// prepare creates the buckets in a new file, checks that an existing one
// is a session database of a known format, so Open never scribbles into
// another program's bbolt file, and migrates one of format 1. It returns
// how many sessions a migration re-keyed (0 when there was none).
func prepare(db *bolt.DB, path string, log *slog.Logger) (migrated int, err error) {
	var empty bool
	var format int64
	err = db.View(func(tx *bolt.Tx) error {
		empty = tx.Bucket(bucketStats) == nil && tx.ForEach(func([]byte, *bolt.Bucket) error {
			return errors.New("not empty")
		}) == nil
		if empty {
			return nil
		}
		stats := tx.Bucket(bucketStats)
		if stats == nil {
			return fmt.Errorf("%w: %s is a bbolt database of another program", ErrNotDatabase, path)
		}
		switch format = readInt(stats, statFormat); {
		case format > fileFormat:
			return fmt.Errorf("%w: %s has file format %d, written by a newer version of tabkit; this version reads formats %d and %d",
				ErrNotDatabase, path, format, fileFormat1, fileFormat)
		case format != fileFormat && format != fileFormat1:
			return fmt.Errorf("%w: %s has unknown file format %d", ErrNotDatabase, path, format)
		case format == fileFormat:
			b, err := openBuckets(tx)
			if err == nil {
				_, err = b.principals()
			}
			if err != nil {
				return fmt.Errorf("boltstore: %s: %w", path, err)
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return 0, err
	case empty:
		return 0, initialise(db, path)
	case format == fileFormat1:
		return migrate(db, path, log)
	}
	return 0, nil
}

// initialise makes the buckets of an empty file.
func initialise(db *bolt.DB, path string) error {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketValues, bucketExpiry, bucketLastSeen, bucketPrincipals} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		stats, err := tx.CreateBucket(bucketStats)
		if err != nil {
			return err
		}
		return stats.Put(statFormat, be64(fileFormat))
	})
	if err != nil {
		return fmt.Errorf("boltstore: initialise %s: %w", path, err)
	}
	return nil
}

// enter starts a call: it fails when ctx is done or the store is closed,
// and otherwise holds off Close until the matching s.closeMu.RUnlock.
func (s *Store) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

// Load implements store.Store. It is one read transaction; the record's
// meta and values are copied out before it ends.
func (s *Store) Load(ctx context.Context, id string) (store.Record, bool, error) {
	if err := store.CheckID(id); err != nil {
		return store.Record{}, false, err
	}
	if err := s.enter(ctx); err != nil {
		return store.Record{}, false, err
	}
	defer s.closeMu.RUnlock()
	now := s.opts.Now.Now()
	var rec store.Record
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		// A read needs two of the five buckets; opening each costs a
		// lookup, and Load is the hot path of every request.
		b := buckets{meta: tx.Bucket(bucketMeta), values: tx.Bucket(bucketValues)}
		if b.meta == nil || b.values == nil {
			return fmt.Errorf("%w: missing bucket", store.ErrCorrupt)
		}
		m, ok, err := getMeta(b.meta, id)
		if err != nil {
			return err
		}
		if !ok || m.Expired(now) {
			return movedErr(tx, id, now)
		}
		values, err := loadValues(b, id)
		if err != nil {
			return err
		}
		rec, found = store.Record{Meta: m, Values: values}, true
		return nil
	})
	if errors.Is(err, store.ErrMoved) {
		return store.Record{}, false, err
	}
	if err != nil {
		return store.Record{}, false, s.readError(err)
	}
	// Values past their deadline stay on disk until the next commit
	// reclaims them; they read as missing from now on.
	rec.DropExpiredValues(now)
	return rec, found, nil
}

// loadValues copies session id's values out of the transaction: bbolt's
// slices point into the memory map, which is unmapped when the file grows.
func loadValues(b buckets, id string) (map[store.Key][]byte, error) {
	prefix := sessionPrefix(nil, id)
	values := make(map[store.Key][]byte)
	c := b.values.Cursor()
	for k, v := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, v = c.Next() {
		key, err := store.ParseKey(k[len(prefix):])
		if err != nil {
			return nil, fmt.Errorf("boltstore: session %q: %w", id, err)
		}
		values[key] = append(make([]byte, 0, len(v)), v...)
	}
	return values, nil
}

// Commit implements store.Store. Concurrent commits share one write
// transaction and one fsync; Commit returns once its change is on disk.
// Delta.EditMeta and Delta.Update functions run inside that transaction
// and hold up the commits sharing it, so they must be quick; a panic in
// one of them fails only its own commit.
func (s *Store) Commit(ctx context.Context, id string, d store.Delta) (store.Meta, error) {
	if err := store.CheckID(id); err != nil {
		return store.Meta{}, err
	}
	return s.write(newOp(ctx, id, &d))
}

// Delete implements store.Store. It is durable when it returns, and rides
// in the same shared transactions as Commit.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := store.CheckID(id); err != nil {
		return err
	}
	_, err := s.write(newOp(ctx, id, nil))
	return err
}

// write runs o through the committer, then reports what its transaction
// removed on its own. Subscribers hear of it after closeMu is released:
// one that calls the store must not find a Close or Compact waiting for
// this very call.
func (s *Store) write(o *op) (store.Meta, error) {
	if err := s.enter(o.ctx); err != nil {
		return store.Meta{}, err
	}
	m, err := s.commits.submit(o)
	s.closeMu.RUnlock()
	// An op abandoned in the queue never ran and has no events; any other
	// is done, and its events were set before done was closed.
	s.notify.Send(o.events)
	return m, err
}

// runBatch is the committer's round: one write transaction for the whole
// batch. An op that fails before writing fails alone; one that fails
// half-way through its writes makes the transaction roll back, and the
// round runs again without it. When the transaction itself fails every op
// in it gets the error.
func (s *Store) runBatch(batch []*op) {
	if s.hooks.beforeRound != nil {
		s.hooks.beforeRound(batch)
	}
	began := time.Now()
	pending := batch
	for len(pending) > 0 {
		type result struct {
			meta   store.Meta
			events removals
			err    error
		}
		results := make([]result, len(pending))
		failed := -1
		s.writeTxs.Add(1)
		err := s.db.Update(func(tx *bolt.Tx) error {
			b, err := openBuckets(tx)
			if err != nil {
				return err
			}
			now := s.opts.Now.Now()
			changed := false
			for i, o := range pending {
				var rm removals
				m, wrote, err := s.apply(b, o, now, &rm)
				if isWriteFailure(err) {
					failed = i
					return err
				}
				results[i] = result{m, rm, err}
				changed = changed || (wrote && err == nil)
			}
			if s.hooks.beforeCommit != nil {
				if err := s.hooks.beforeCommit(); err != nil {
					return err
				}
			}
			if !changed {
				// Rolling back saves the fsync. What failed ops may have
				// written (reclaiming expired sessions) is cleanup that a
				// later sweep redoes.
				return errNothingChanged
			}
			return nil
		})
		// Removals are reported only when the transaction committed; in
		// one rolled back because nothing changed they never happened.
		committed := err == nil
		if errors.Is(err, errNothingChanged) {
			err = nil
		}
		if failed >= 0 {
			pending[failed].finish(store.Meta{}, s.writeError(err))
			pending = append(pending[:failed:failed], pending[failed+1:]...)
			continue
		}
		for i, o := range pending {
			if err != nil {
				o.finish(store.Meta{}, s.writeError(err))
				continue
			}
			if committed {
				o.events = results[i].events
			}
			o.finish(results[i].meta, results[i].err)
		}
		s.observe(Event{Kind: EventRound, Ops: len(pending), Duration: time.Since(began), Err: err})
		return
	}
}

// errNothingChanged rolls back a round in which no op changed anything.
var errNothingChanged = errors.New("boltstore: nothing changed")

// apply runs one op in a round's transaction and reports whether it wrote
// anything. Sessions it removed on its own are recorded in rm.
func (s *Store) apply(b buckets, o *op, now time.Time, rm *removals) (m store.Meta, wrote bool, err error) {
	switch {
	case o.delta == nil:
		wrote, err = deleteInTx(b, o.id)
	case o.to != "":
		m, err = s.moveInTx(b, o.id, o.to, o.delta, now, rm)
		wrote = err == nil
	default:
		m, err = s.commitInTx(b, o.id, o.delta, now, rm)
		wrote = err == nil
	}
	if err == nil && s.hooks.afterApply != nil {
		err = failedWrite(s.hooks.afterApply(o))
	}
	return m, wrote, err
}

// writeError turns a failed write transaction into the error callers
// branch on: a full disk is store.ErrUnavailable, as it may pass.
func (s *Store) writeError(err error) error {
	var w *writeFailure
	if errors.As(err, &w) {
		err = w.err
	}
	switch {
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return store.ErrClosed
	case isDiskFull(err):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	case errors.Is(err, store.ErrCorrupt), errors.Is(err, store.ErrFull):
		// ErrFull ends up here when an op that had evicted sessions
		// still did not fit and was rolled back.
		return err
	default:
		return fmt.Errorf("boltstore: write: %w", err)
	}
}

func (s *Store) readError(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}

// listChunk is how many sessions List reads per transaction: fn runs
// between transactions, so it may call the store.
const listChunk = 256

// List implements store.Lister. Sessions are visited in ID order; ones
// committed or deleted while List runs may or may not be seen.
func (s *Store) List(ctx context.Context, fn func(id string, m store.Meta) bool) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	type entry struct {
		id   string
		meta store.Meta
	}
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := s.opts.Now.Now()
		chunk := make([]entry, 0, listChunk)
		more := false
		err := s.db.View(func(tx *bolt.Tx) error {
			b, err := openBuckets(tx)
			if err != nil {
				return err
			}
			c := b.meta.Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil; k, v = c.Next() {
				if len(chunk) == listChunk {
					more = true
					return nil
				}
				after = append(after[:0], k...)
				m, err := store.ParseMeta(v)
				if err != nil {
					return fmt.Errorf("boltstore: session %q: %w", k, err)
				}
				if !m.Expired(now) {
					chunk = append(chunk, entry{string(k), m})
				}
			}
			return nil
		})
		if err != nil {
			return s.readError(err)
		}
		for _, e := range chunk {
			if !fn(e.id, e.meta) {
				return nil
			}
		}
		if !more {
			return nil
		}
	}
}

// Stats implements store.Statser. Sessions and Bytes come from counters
// kept with every commit; Expired walks only the due part of the expiry
// index.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	if err := s.enter(ctx); err != nil {
		return store.Stats{}, err
	}
	defer s.closeMu.RUnlock()
	now := s.opts.Now.Now()
	var st store.Stats
	err := s.db.View(func(tx *bolt.Tx) error {
		b, err := openBuckets(tx)
		if err != nil {
			return err
		}
		c := readCounters(b.stats)
		st.Sessions, st.Bytes = c.sessions, c.bytes
		due := indexNanos(now)
		cur := b.expiry.Cursor()
		for k, _ := cur.First(); len(k) >= 8 && binary.BigEndian.Uint64(k) <= due; k, _ = cur.Next() {
			st.Expired++
		}
		return nil
	})
	if err != nil {
		return store.Stats{}, s.readError(err)
	}
	if fi, err := os.Stat(s.db.Path()); err == nil {
		st.FileBytes = fi.Size()
	}
	return st, nil
}

// Close stops the background sweeper, waits for calls in progress and
// closes the file. It is idempotent; afterwards every method returns
// store.ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopSweeper()
		<-s.sweeperDone
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// Path returns the database file's path.
func (s *Store) Path() string {
	// Compact swaps s.db while it holds closeMu.
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	return s.db.Path()
}

func be64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
