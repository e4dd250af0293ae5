package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// errBadMove is a caller's mistake, never a condition to branch on.
var errBadMove = errors.New("boltstore: Move needs two different IDs and a delta without Create")

// Move implements store.Store. It rides in the group committer's shared
// write transactions like Commit: it is ordered with the commits around
// it by the transaction it lands in (a commit to from either lands before
// the move and is carried, or comes after and gets store.ErrNotFound),
// and a Move that fails fails alone, leaving its batch-mates' writes to
// land. It returns once the move is on disk.
//
// d.PrincipalLimit applies as in Commit: a Move that signs a session in
// counts the principal's other live sessions.
func (s *Store) Move(ctx context.Context, from, to string, d store.Delta) (store.Meta, error) {
	if err := store.CheckID(from); err != nil {
		return store.Meta{}, err
	}
	if err := store.CheckID(to); err != nil {
		return store.Meta{}, err
	}
	if d.Create || from == to {
		return store.Meta{}, errBadMove
	}
	o := newOp(ctx, from, &d)
	o.to = to
	return s.write(o)
}

// moveInTx applies d to session from and moves the result to to, inside
// a write transaction. Like commitInTx it reads and plans everything
// first, so an error before the writes leaves nothing behind.
func (s *Store) moveInTx(b buckets, from, to string, d *store.Delta, now time.Time, rm *removals) (store.Meta, error) {
	source, found, err := getMeta(b.meta, from)
	if err != nil {
		return store.Meta{}, err
	}
	if !found || source.Expired(now) {
		if moved := movedErr(b.tx, from, now); moved != nil {
			return store.Meta{}, moved
		}
		return store.Meta{}, store.ErrNotFound
	}
	target, hasTarget, err := getMeta(b.meta, to)
	if err != nil {
		return store.Meta{}, err
	}
	if hasTarget && !target.Expired(now) {
		return store.Meta{}, store.ErrExists
	}
	plan, err := s.plan(now, &source, valueReader(b.values, from), d)
	if err != nil {
		return store.Meta{}, err
	}
	victims, err := principalVictims(b, from, &source, d, now)
	if err != nil {
		return store.Meta{}, err
	}
	values, err := movedValues(b.values, from, &plan)
	if err != nil {
		return store.Meta{}, err
	}

	if hasTarget {
		// An expired record under the new ID; nothing of it may show
		// through.
		if err := removeSession(b, to, &target); err != nil {
			return store.Meta{}, failedWrite(err)
		}
		rm.add(store.EventExpired, to, &target, now)
	}
	if err := s.makeSpace(b, now, from, victims, 0, plan.Meta.Bytes-source.Bytes, plan.Meta.Bytes, rm); err != nil {
		return store.Meta{}, err
	}
	// Out under the old ID, then in under the new one as a new session:
	// every index entry and counter follows.
	if err := removeSession(b, from, &source); err != nil {
		return store.Meta{}, failedWrite(err)
	}
	moved := store.Plan{Meta: plan.Meta, Put: values}
	if err := writePlan(b, to, nil, &moved); err != nil {
		return store.Meta{}, failedWrite(err)
	}
	if err := addCounters(b.stats, 1, plan.Meta.Bytes); err != nil {
		return store.Meta{}, failedWrite(err)
	}
	if err := markMoved(b, from, now); err != nil {
		return store.Meta{}, failedWrite(err)
	}
	return plan.Meta, nil
}

// movedValues returns the values session from holds once plan is
// applied, copied out of the transaction: the moved session's whole
// value set.
func movedValues(values *bolt.Bucket, from string, plan *store.Plan) (map[store.Key][]byte, error) {
	dropped := make(map[uint32]bool, len(plan.DropTabs))
	for _, tab := range plan.DropTabs {
		dropped[tab] = true
	}
	prefix := sessionPrefix(nil, from)
	out := make(map[store.Key][]byte, len(plan.Put))
	c := values.Cursor()
	for k, v := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, v = c.Next() {
		key, err := store.ParseKey(k[len(prefix):])
		if err != nil {
			return nil, fmt.Errorf("boltstore: session %q: %w", from, err)
		}
		if key.InTab && dropped[key.Tab] {
			continue
		}
		out[key] = bytes.Clone(v)
	}
	for _, k := range plan.Remove {
		delete(out, k)
	}
	maps.Copy(out, plan.Put)
	return out, nil
}
