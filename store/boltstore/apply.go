package boltstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/tabkit/tabkit/store"
)

// writeFailure marks an error that happened after an op had started
// writing: the transaction holds half of that op and must be rolled back.
// Every other error of an op happens before its first write, so its
// batch-mates can still commit.
type writeFailure struct{ err error }

func (w *writeFailure) Error() string { return w.err.Error() }
func (w *writeFailure) Unwrap() error { return w.err }

func failedWrite(err error) error {
	if err == nil {
		return nil
	}
	return &writeFailure{err: err}
}

func isWriteFailure(err error) bool {
	var w *writeFailure
	return errors.As(err, &w)
}

// commitInTx applies d to session id inside a write transaction. It plans
// the whole change with store.PlanCommit, which only reads, and writes
// only once the plan stands, so an error before the writes leaves nothing
// behind. Sessions it removes on its own are recorded in rm.
func (s *Store) commitInTx(b buckets, id string, d *store.Delta, now time.Time, rm *removals) (store.Meta, error) {
	stored, hasStored, err := getMeta(b.meta, id)
	if err != nil {
		return store.Meta{}, err
	}
	var current *store.Meta
	if hasStored && !stored.Expired(now) {
		current = &stored
	}
	plan, err := s.plan(now, current, valueReader(b.values, id), d)
	if errors.Is(err, store.ErrNotFound) {
		if moved := movedErr(b.tx, id, now); moved != nil {
			return store.Meta{}, moved
		}
	}
	if err != nil {
		return store.Meta{}, err
	}
	victims, err := principalVictims(b, id, current, d, now)
	if err != nil {
		return store.Meta{}, err
	}

	if hasStored && current == nil {
		// An expired record under the ID being created: its values must
		// not show through in the new session.
		if err := removeSession(b, id, &stored); err != nil {
			return store.Meta{}, failedWrite(err)
		}
		rm.add(store.EventExpired, id, &stored, now)
	}
	var oldBytes, addSessions int64 = 0, 1
	if current != nil {
		oldBytes, addSessions = current.Bytes, 0
	}
	if err := s.makeSpace(b, now, id, victims, addSessions, plan.Meta.Bytes-oldBytes, plan.Meta.Bytes, rm); err != nil {
		return store.Meta{}, err
	}
	if err := writePlan(b, id, current, &plan); err != nil {
		return store.Meta{}, failedWrite(err)
	}
	if err := addCounters(b.stats, addSessions, plan.Meta.Bytes-oldBytes); err != nil {
		return store.Meta{}, failedWrite(err)
	}
	return plan.Meta, nil
}

// plan runs store.PlanCommit with the store's own session size limit.
func (s *Store) plan(now time.Time, current *store.Meta, get store.ValueReader, d *store.Delta) (store.Plan, error) {
	limited := *d
	limited.MaxBytes = smallerLimit(d.MaxBytes, s.opts.MaxSessionBytes)
	return planCommit(now, current, get, &limited)
}

// makeSpace evicts the victims of a principal limit, then makes room
// under the store-wide quotas. Once a victim is gone the op has written
// for its own sake, so a quota that still refuses is a write failure:
// the transaction rolls back rather than keep the eviction of a failed op.
func (s *Store) makeSpace(b buckets, now time.Time, id string, victims []string, addSessions, addBytes, sessionBytes int64, rm *removals) error {
	if err := evictVictims(b, victims, now, rm); err != nil {
		return failedWrite(err)
	}
	err := s.makeRoom(b, now, id, addSessions, addBytes, sessionBytes, rm)
	if err != nil && len(victims) > 0 {
		return failedWrite(err)
	}
	return err
}

// planCommit runs store.PlanCommit, turning a panic in the delta's
// functions into an error so that one faulty caller cannot take down the
// batch it shares a transaction with. Nothing has been written when they
// run, so recovering leaves the transaction consistent.
func planCommit(now time.Time, current *store.Meta, get store.ValueReader, d *store.Delta) (plan store.Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			if rerr, ok := r.(error); ok {
				err = fmt.Errorf("boltstore: delta function panicked: %w", rerr)
				return
			}
			err = fmt.Errorf("boltstore: delta function panicked: %v", r)
		}
	}()
	return store.PlanCommit(now, current, get, d)
}

// smallerLimit returns the tighter of two byte limits where zero means
// none.
func smallerLimit(a, b int64) int64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	default:
		return min(a, b)
	}
}

// writePlan writes plan for session id, whose stored meta is current (nil
// for a new session), and keeps the indexes in step.
func writePlan(b buckets, id string, current *store.Meta, plan *store.Plan) error {
	prefix := sessionPrefix(nil, id)
	for _, tab := range plan.DropTabs {
		if _, err := deleteRange(b.values, store.AppendTabKeyPrefix(prefix, tab), len(prefix)); err != nil {
			return err
		}
	}
	key := make([]byte, 0, 64)
	for _, k := range plan.Remove {
		if err := b.values.Delete(valueKey(key[:0], id, k)); err != nil {
			return err
		}
	}
	// bbolt copies keys but keeps the value slices until the transaction
	// ends; the plan's values are its own copies, so they stay put.
	for k, v := range plan.Put {
		if err := b.values.Put(valueKey(key[:0], id, k), v); err != nil {
			return err
		}
	}
	if err := b.meta.Put([]byte(id), store.AppendMeta(nil, &plan.Meta)); err != nil {
		return err
	}
	var old store.Meta
	if current != nil {
		old = *current
	}
	if err := setIndex(b.expiry, id, old.ExpiresAt(), plan.Meta.ExpiresAt()); err != nil {
		return err
	}
	if err := setIndex(b.lastSeen, id, old.LastSeen, plan.Meta.LastSeen); err != nil {
		return err
	}
	return b.setPrincipal(id, old.Principal, plan.Meta.Principal)
}

// deleteInTx removes session id, expired or not, and reports whether
// there was one. A record whose meta does not decode is removed too, so
// Delete is the way out of corruption.
func deleteInTx(b buckets, id string) (bool, error) {
	forgot, err := forgetMoved(b, id)
	if err != nil {
		return true, failedWrite(err)
	}
	m, found, err := getMeta(b.meta, id)
	switch {
	case err != nil:
		return true, failedWrite(removeSession(b, id, nil))
	case found:
		return true, failedWrite(removeSession(b, id, &m))
	default:
		return forgot, nil
	}
}

// removeSession deletes session id's meta, values and index entries and
// updates the counters. m is its decoded meta, or nil when it did not
// decode: then its index entries cannot be found and stay behind as
// dangling entries, which Sweep and eviction drop when they meet them (a
// principals entry is skipped by every reader, as its session is gone),
// and the bytes are counted from the values themselves.
func removeSession(b buckets, id string, m *store.Meta) error {
	prefix := sessionPrefix(nil, id)
	size, err := deleteRange(b.values, prefix, len(prefix))
	if err != nil {
		return err
	}
	if err := b.meta.Delete([]byte(id)); err != nil {
		return err
	}
	if m != nil {
		size = m.Bytes
		if err := setIndex(b.expiry, id, m.ExpiresAt(), time.Time{}); err != nil {
			return err
		}
		if err := setIndex(b.lastSeen, id, m.LastSeen, time.Time{}); err != nil {
			return err
		}
		if err := b.setPrincipal(id, m.Principal, ""); err != nil {
			return err
		}
	}
	return addCounters(b.stats, -1, -size)
}
