package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// bucketMoved holds the IDs Move moved away: id → the end of their
// store.MovedGrace as 8-byte big-endian Unix nanoseconds. Until then Load
// and Commit of such an ID answer store.ErrMoved. Entries are few (the
// moves of the last minute) and the sweeper drops the old ones.
var bucketMoved = []byte("moved")

// movedBucket returns the moved bucket, made on first use so that files
// written before it existed need no migration.
func (b buckets) movedBucket(create bool) (*bolt.Bucket, error) {
	if m := b.tx.Bucket(bucketMoved); m != nil || !create {
		return m, nil
	}
	return b.tx.CreateBucket(bucketMoved)
}

// movedErr returns store.ErrMoved while id is a recent Move's source at
// now, and otherwise nil.
func movedErr(tx *bolt.Tx, id string, now time.Time) error {
	m := tx.Bucket(bucketMoved)
	if m == nil {
		return nil
	}
	v := m.Get([]byte(id))
	if len(v) == 8 && indexNanos(now) < binary.BigEndian.Uint64(v) {
		return store.ErrMoved
	}
	return nil
}

// markMoved records that id was moved away at now.
func markMoved(b buckets, id string, now time.Time) error {
	m, err := b.movedBucket(true)
	if err != nil {
		return err
	}
	return m.Put([]byte(id), binary.BigEndian.AppendUint64(nil, indexNanos(now.Add(store.MovedGrace))))
}

// forgetMoved drops id's entry, as Delete does, and reports whether
// there was one.
func forgetMoved(b buckets, id string) (bool, error) {
	m, err := b.movedBucket(false)
	if m == nil || err != nil || m.Get([]byte(id)) == nil {
		return false, err
	}
	return true, m.Delete([]byte(id))
}

// movedDue reports whether an entry of the moved bucket ended by now.
func movedDue(tx *bolt.Tx, now time.Time) bool {
	m := tx.Bucket(bucketMoved)
	if m == nil {
		return false
	}
	due := false
	_ = m.ForEach(func(_, v []byte) error {
		if len(v) != 8 || binary.BigEndian.Uint64(v) <= indexNanos(now) {
			due = true
			return errDue
		}
		return nil
	})
	return due
}

// errDue stops movedDue's walk at the first entry due.
var errDue = errors.New("due")

// dropMoved removes the entries of the moved bucket that ended by now.
func dropMoved(tx *bolt.Tx, now time.Time) error {
	m := tx.Bucket(bucketMoved)
	if m == nil {
		return nil
	}
	var ended [][]byte
	err := m.ForEach(func(k, v []byte) error {
		if len(v) != 8 || binary.BigEndian.Uint64(v) <= indexNanos(now) {
			ended = append(ended, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range ended {
		if err := m.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
