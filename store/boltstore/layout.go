package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// Bucket names; doc.go describes what each holds.
var (
	bucketMeta     = []byte("meta")
	bucketValues   = []byte("values")
	bucketExpiry   = []byte("expiry")
	bucketLastSeen = []byte("lastseen")
	bucketStats    = []byte("stats")
	// bucketPrincipals is new in file format 2.
	bucketPrincipals = []byte("principals")
)

// Keys of the stats bucket.
var (
	statFormat   = []byte("format")
	statSessions = []byte("sessions")
	statBytes    = []byte("bytes")
)

// The layout versions written in the stats bucket, so that a later version
// can recognise (and migrate) files written by an earlier one.
const (
	// fileFormat1 keyed sessions by the token of their cookie and had no
	// principals bucket. Open migrates it (see migrate.go).
	fileFormat1 = 1
	// fileFormat is what this version writes: sessions keyed by
	// store.HashToken(token), and a principals bucket.
	fileFormat = 2
)

// buckets are the store's buckets within one transaction.
type buckets struct {
	tx                                    *bolt.Tx
	meta, values, expiry, lastSeen, stats *bolt.Bucket
}

func openBuckets(tx *bolt.Tx) (buckets, error) {
	b := buckets{
		tx:       tx,
		meta:     tx.Bucket(bucketMeta),
		values:   tx.Bucket(bucketValues),
		expiry:   tx.Bucket(bucketExpiry),
		lastSeen: tx.Bucket(bucketLastSeen),
		stats:    tx.Bucket(bucketStats),
	}
	if b.meta == nil || b.values == nil || b.expiry == nil || b.lastSeen == nil || b.stats == nil {
		return buckets{}, fmt.Errorf("%w: missing bucket", store.ErrCorrupt)
	}
	return b, nil
}

// principals returns the principals bucket. Unlike the others it is
// opened on first use: most commits never touch it, and every bucket a
// write transaction opens costs allocations when it commits. Open checked
// that it exists.
func (b buckets) principals() (*bolt.Bucket, error) {
	if p := b.tx.Bucket(bucketPrincipals); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: missing bucket %s", store.ErrCorrupt, bucketPrincipals)
}

// sessionPrefix appends the prefix shared by every value key of session
// id. The length byte keeps one ID's prefix from being a prefix of a
// longer ID's keys (IDs are at most store.MaxIDLength bytes).
func sessionPrefix(dst []byte, id string) []byte {
	dst = append(dst, byte(len(id)))
	return append(dst, id...)
}

// valueKey appends the key of session id's value k.
func valueKey(dst []byte, id string, k store.Key) []byte {
	return store.AppendKey(sessionPrefix(dst, id), k)
}

// indexKey appends an expiry or last-seen index key: t as big-endian
// Unix nanoseconds, so the index sorts by time, then the ID.
func indexKey(dst []byte, t time.Time, id string) []byte {
	dst = binary.BigEndian.AppendUint64(dst, indexNanos(t))
	return append(dst, id...)
}

// indexNanos is t in Unix nanoseconds, clamped to what an int64 holds and
// to zero below, so that order is kept for every time (UnixNano is
// undefined outside 1678–2262 and negative before 1970, which big-endian
// would sort last).
func indexNanos(t time.Time) uint64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	default:
		return uint64(t.UnixNano())
	}
}

// indexID returns the ID part of an index key.
func indexID(k []byte) (string, bool) {
	if len(k) <= 8 {
		return "", false
	}
	return string(k[8:]), true
}

// setIndex moves id's entry in index from old to updated; a zero time
// means no entry.
func setIndex(index *bolt.Bucket, id string, old, updated time.Time) error {
	if indexNanos(old) == indexNanos(updated) && old.IsZero() == updated.IsZero() {
		return nil
	}
	if !old.IsZero() {
		if err := index.Delete(indexKey(nil, old, id)); err != nil {
			return err
		}
	}
	if !updated.IsZero() {
		return index.Put(indexKey(nil, updated, id), nil)
	}
	return nil
}

// getMeta reads and decodes session id's meta, expired or not.
func getMeta(metas *bolt.Bucket, id string) (store.Meta, bool, error) {
	v := metas.Get([]byte(id))
	if v == nil {
		return store.Meta{}, false, nil
	}
	m, err := store.ParseMeta(v)
	if err != nil {
		return store.Meta{}, false, fmt.Errorf("boltstore: session %q: %w", id, err)
	}
	return m, true, nil
}

// valueReader reads session id's values for store.PlanCommit. It seeks
// with a cursor rather than calling Get so that an empty value is found,
// not mistaken for a missing one.
func valueReader(values *bolt.Bucket, id string) store.ValueReader {
	key := sessionPrefix(make([]byte, 0, 64), id)
	n := len(key)
	return func(k store.Key) ([]byte, bool, error) {
		key = store.AppendKey(key[:n], k)
		found, v := values.Cursor().Seek(key)
		if !bytes.Equal(found, key) {
			return nil, false, nil
		}
		return v, true, nil
	}
}

// deleteRange removes every key of b that starts with prefix and returns
// the bytes the removed values counted for (key name and value, as in
// store.Meta.Bytes). Keys are collected first because deleting under a
// moving cursor can skip entries.
func deleteRange(b *bolt.Bucket, prefix []byte, session int) (int64, error) {
	var keys [][]byte
	var size int64
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		keys = append(keys, bytes.Clone(k))
		if key, err := store.ParseKey(k[session:]); err == nil {
			size += int64(len(key.Name) + len(v))
		}
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return size, nil
}

// counters are the stats bucket's running totals, kept in the same
// transaction as every change so that Stats and quota checks cost O(1).
type counters struct {
	sessions int64
	bytes    int64
}

func readCounters(stats *bolt.Bucket) counters {
	return counters{sessions: readInt(stats, statSessions), bytes: readInt(stats, statBytes)}
}

func readInt(b *bolt.Bucket, key []byte) int64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// addCounters adds the given changes to the running totals.
func addCounters(stats *bolt.Bucket, sessions, size int64) error {
	if sessions == 0 && size == 0 {
		return nil
	}
	c := readCounters(stats)
	if err := stats.Put(statSessions, binary.BigEndian.AppendUint64(nil, uint64(c.sessions+sessions))); err != nil {
		return err
	}
	return stats.Put(statBytes, binary.BigEndian.AppendUint64(nil, uint64(c.bytes+size)))
}
