package boltstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

var _ store.PrincipalIndex = (*Store)(nil)

// principalHashLen is how many bytes of SHA-256(principal) start a key of
// the principals bucket. The hash gives every principal, however long, a
// short fixed-size prefix (bbolt keys are limited to 32 KiB); the entry's
// session meta says which principal it really belongs to, so a collision
// would only cost a skipped entry, never a wrong answer.
const principalHashLen = 16

// principalPrefix appends the prefix shared by every entry of principal p.
func principalPrefix(dst []byte, p string) []byte {
	sum := sha256.Sum256([]byte(p))
	return append(dst, sum[:principalHashLen]...)
}

// setPrincipal moves session id's entry in the principals bucket from
// principal old to updated; "" means no entry.
func (b buckets) setPrincipal(id, old, updated string) error {
	if old == updated {
		return nil
	}
	index, err := b.principals()
	if err != nil {
		return err
	}
	if old != "" {
		if err := index.Delete(append(principalPrefix(nil, old), id...)); err != nil {
			return err
		}
	}
	if updated != "" {
		return index.Put(append(principalPrefix(nil, updated), id...), nil)
	}
	return nil
}

// sessionsOf lists the live sessions of principal p other than except.
// Entries whose session is gone, expired or now someone else's are
// skipped: the index may run ahead of a sweep, never the other way.
func sessionsOf(b buckets, p, except string, now time.Time) ([]store.SessionRef, error) {
	if p == "" {
		return nil, nil
	}
	index, err := b.principals()
	if err != nil {
		return nil, err
	}
	prefix := principalPrefix(nil, p)
	var refs []store.SessionRef
	c := index.Cursor()
	for k, _ := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		id := string(k[len(prefix):])
		if id == except {
			continue
		}
		m, found, err := getMeta(b.meta, id)
		if err != nil {
			return nil, err
		}
		if found && m.Principal == p && !m.Expired(now) {
			refs = append(refs, store.SessionRef{ID: id, Meta: m})
		}
	}
	return refs, nil
}

// principalVictims applies d.PrincipalLimit for session id, whose live
// meta is current (nil when it is new): it returns the sessions to evict,
// or store.ErrTooManySessions. It only reads, so it runs before the op
// writes anything, and it sees what earlier ops of the same transaction
// wrote: concurrent sign-ins of one principal cannot both squeeze in.
func principalVictims(b buckets, id string, current *store.Meta, d *store.Delta, now time.Time) ([]string, error) {
	if !d.JoinsPrincipal(current) {
		return nil, nil
	}
	others, err := sessionsOf(b, d.Principal, id, now)
	if err != nil {
		return nil, err
	}
	return d.PrincipalLimit.Victims(others)
}

// evictVictims removes the sessions principalVictims chose and records
// them as evicted.
func evictVictims(b buckets, victims []string, now time.Time, rm *removals) error {
	for _, id := range victims {
		m, found, err := getMeta(b.meta, id)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		if err := removeSession(b, id, &m); err != nil {
			return err
		}
		rm.add(store.EventEvicted, id, &m, now)
	}
	return nil
}

// SessionsOf implements store.PrincipalIndex. It is one read
// transaction; a session that expired is never listed, swept or not.
func (s *Store) SessionsOf(ctx context.Context, p string) ([]store.SessionRef, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	now := s.opts.Now.Now()
	var refs []store.SessionRef
	err := s.db.View(func(tx *bolt.Tx) error {
		b := buckets{tx: tx, meta: tx.Bucket(bucketMeta)}
		if b.meta == nil {
			return fmt.Errorf("%w: missing bucket", store.ErrCorrupt)
		}
		var err error
		refs, err = sessionsOf(b, p, "", now)
		return err
	})
	if err != nil {
		return nil, s.readError(err)
	}
	return refs, nil
}
