package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// makeRoom checks the store-wide quotas for a commit to session id that
// adds addSessions sessions and addBytes bytes, leaving the session at
// sessionBytes. When the commit does not fit it first reclaims expired
// sessions, which are dead weight, and then refuses or evicts live ones as
// the policy says. Errors that are not write failures leave nothing of
// this op written (reclaiming expired sessions is not the op's change).
// What it removes is recorded in rm.
func (s *Store) makeRoom(b buckets, now time.Time, id string, addSessions, addBytes, sessionBytes int64, rm *removals) error {
	if s.opts.MaxSessions == 0 && s.opts.MaxBytes == 0 {
		return nil
	}
	fits := func() bool {
		c := readCounters(b.stats)
		return (s.opts.MaxSessions == 0 || addSessions <= 0 || c.sessions+addSessions <= s.opts.MaxSessions) &&
			(s.opts.MaxBytes == 0 || addBytes <= 0 || c.bytes+addBytes <= s.opts.MaxBytes)
	}
	if fits() {
		return nil
	}
	if _, err := reclaimExpired(b, now, func() bool { return !fits() }, rm); err != nil {
		return failedWrite(err)
	}
	if fits() {
		return nil
	}
	full := s.fullError(readCounters(b.stats), addSessions, addBytes)
	if s.opts.WhenFull != EvictLRU {
		return full
	}
	if s.opts.MaxBytes > 0 && sessionBytes > s.opts.MaxBytes {
		// Evicting everyone else would not make room.
		return full
	}
	if err := evictLeastRecentlySeen(b, id, now, func() bool { return !fits() }, rm); err != nil {
		return failedWrite(err)
	}
	if !fits() {
		// Live sessions went for this op's sake and it fails all the
		// same: roll them back with it.
		return failedWrite(full)
	}
	return nil
}

func (s *Store) fullError(c counters, addSessions, addBytes int64) error {
	if s.opts.MaxSessions > 0 && addSessions > 0 && c.sessions+addSessions > s.opts.MaxSessions {
		return fmt.Errorf("%w: %d sessions stored, limit %d", store.ErrFull, c.sessions, s.opts.MaxSessions)
	}
	return fmt.Errorf("%w: %d bytes stored, %d more wanted, limit %d", store.ErrFull, c.bytes, addBytes, s.opts.MaxBytes)
}

// reclaimExpired removes sessions whose expiry entry is due at now,
// earliest first, while more reports true. It walks the expiry index
// only, so its cost grows with what it removes. Entries that point at no
// session, or at a session whose deadline has moved, are dropped as
// dangling. Removed sessions are recorded in rm as expired.
func reclaimExpired(b buckets, now time.Time, more func() bool, rm *removals) (store.SweepResult, error) {
	var res store.SweepResult
	due := indexNanos(now)
	c := b.expiry.Cursor()
	for k, _ := c.First(); k != nil && isDue(k, due) && more(); {
		key := bytes.Clone(k)
		removed, m, err := removeIndexed(b, b.expiry, key, func(m *store.Meta) (time.Time, bool) {
			return m.ExpiresAt(), m.Expired(now)
		})
		if err != nil {
			return res, err
		}
		if removed {
			res.Sessions++
			res.Bytes += m.Bytes
			rm.add(store.EventExpired, removedID(key), &m, now)
		}
		// Seeking the removed key lands on the entry after it; the cursor
		// itself is not to be trusted across deletions.
		if k, _ = c.Seek(key); bytes.Equal(k, key) {
			k, _ = c.Next()
		}
	}
	return res, nil
}

// isDue reports whether expiry entry k is at or before due. A malformed
// entry counts as due, so that removeIndexed drops it.
func isDue(k []byte, due uint64) bool {
	return len(k) < 8 || binary.BigEndian.Uint64(k) <= due
}

// evictLeastRecentlySeen removes live sessions other than keep, least
// recently seen first, while more reports true, and records them in rm as
// evicted.
func evictLeastRecentlySeen(b buckets, keep string, now time.Time, more func() bool, rm *removals) error {
	c := b.lastSeen.Cursor()
	for k, _ := c.First(); k != nil && more(); {
		if id, ok := indexID(k); ok && id == keep {
			k, _ = c.Next()
			continue
		}
		key := bytes.Clone(k)
		removed, m, err := removeIndexed(b, b.lastSeen, key, func(m *store.Meta) (time.Time, bool) {
			return m.LastSeen, true
		})
		if err != nil {
			return err
		}
		if removed {
			rm.add(store.EventEvicted, removedID(key), &m, now)
		}
		if k, _ = c.Seek(key); bytes.Equal(k, key) {
			k, _ = c.Next()
		}
	}
	return nil
}

// removeIndexed removes the session that index entry key points at, if
// the entry is current (indexed returns the time the entry should carry)
// and the session may go (the second result of indexed). A dangling or
// stale entry is deleted without touching any session. It returns the
// removed session's meta: the zero Meta for one that did not decode.
func removeIndexed(b buckets, index *bolt.Bucket, key []byte, indexed func(*store.Meta) (time.Time, bool)) (removed bool, m store.Meta, err error) {
	id, ok := indexID(key)
	if !ok {
		return false, m, index.Delete(key)
	}
	m, found, err := getMeta(b.meta, id)
	if err != nil {
		// The index says this session is due; one that cannot be decoded
		// can never be loaded again, so it goes.
		if err := index.Delete(key); err != nil {
			return false, store.Meta{}, err
		}
		return true, store.Meta{}, removeSession(b, id, nil)
	}
	at, ok := time.Time{}, false
	if found {
		at, ok = indexed(&m)
	}
	if !found || at.IsZero() || !bytes.Equal(indexKey(nil, at, id), key) {
		return false, m, index.Delete(key)
	}
	if !ok {
		return false, m, nil
	}
	return true, m, removeSession(b, id, &m)
}

// removedID is the ID of the session an index entry pointed at, once
// removeIndexed has removed it (so the entry is well formed).
func removedID(key []byte) string {
	id, _ := indexID(key)
	return id
}
