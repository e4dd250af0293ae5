package boltstore

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// File format 1 keyed every session by the token its cookie carried;
// format 2 keys it by store.HashToken(token), which is what stores are
// now given, and adds the principals bucket. Open migrates a format-1
// file in place, in one write transaction, so a crash leaves it whole in
// one format or the other, and every session keeps working: the same
// cookie finds it under its new key.
//
// Only IDs of the shape of kit's tokens (43 base64url characters, as
// admin.KeyedByToken says) are re-keyed: kit finds those through
// HashToken. Any other ID is kept as it is: one that is already a
// HashToken result (a file written by a kit that hashed its tokens must
// not have them hashed twice, which would lose every session), or an ID
// an application gave the store directly, which it keeps looking up as
// it is.

// migrate rewrites a format-1 file as format 2 and returns how many
// sessions it re-keyed.
func migrate(db *bolt.DB, path string, log *slog.Logger) (int, error) {
	began := time.Now()
	var sessions, rekeyed int
	err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketValues, bucketExpiry, bucketLastSeen, bucketStats} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("%w: missing bucket %s", store.ErrCorrupt, name)
			}
		}
		var err error
		if sessions, rekeyed, err = rekey(tx, bucketMeta, rekeyMeta); err != nil {
			return err
		}
		if _, _, err := rekey(tx, bucketValues, rekeyValue); err != nil {
			return err
		}
		for _, index := range [][]byte{bucketExpiry, bucketLastSeen} {
			if _, _, err := rekey(tx, index, rekeyIndex); err != nil {
				return err
			}
		}
		if err := indexPrincipals(tx); err != nil {
			return err
		}
		// The counters stay as they are: the same sessions, the same bytes.
		return tx.Bucket(bucketStats).Put(statFormat, be64(fileFormat))
	})
	if err != nil {
		return 0, fmt.Errorf("boltstore: migrating %s from file format %d to %d: %w", path, fileFormat1, fileFormat, err)
	}
	log.Info("boltstore: migrated session file",
		"path", path, "from_format", fileFormat1, "to_format", fileFormat,
		"sessions", sessions, "rekeyed", rekeyed, "took", time.Since(began))
	return rekeyed, nil
}

// rekey replaces every key k of bucket name with newKey(k) and returns
// how many entries it holds and how many of them changed key. An entry
// newKey cannot place (ok false) is dropped: it is one no reader could
// reach before the migration either. The entries are gathered first,
// because keys inserted under a moving cursor may be visited again, and
// the bucket is then rebuilt in key order, which fills its pages.
func rekey(tx *bolt.Tx, name []byte, newKey func(k []byte) ([]byte, bool, error)) (total, changed int, err error) {
	type entry struct{ k, v []byte }
	var entries []entry
	err = tx.Bucket(name).ForEach(func(k, v []byte) error {
		nk, ok, err := newKey(k)
		if err != nil || !ok {
			return err
		}
		if !bytes.Equal(nk, k) {
			changed++
		}
		entries = append(entries, entry{nk, bytes.Clone(v)})
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if err := tx.DeleteBucket(name); err != nil {
		return 0, 0, err
	}
	b, err := tx.CreateBucket(name)
	if err != nil {
		return 0, 0, err
	}
	b.FillPercent = 0.9
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.k, b.k) })
	for _, e := range entries {
		if err := b.Put(e.k, e.v); err != nil {
			return 0, 0, err
		}
	}
	return len(entries), changed, nil
}

// newID is the format-2 ID of the session format 1 kept under id.
func newID(id string) string {
	if !isToken(id) {
		return id
	}
	return store.HashToken(id)
}

// tokenLength is the length of kit's tokens: 32 random bytes, base64url
// without padding.
const tokenLength = 43

// isToken reports whether id has the shape of a kit token.
func isToken(id string) bool {
	if len(id) != tokenLength {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// rekeyMeta: format 1 keyed meta by the token itself.
func rekeyMeta(k []byte) ([]byte, bool, error) {
	return []byte(newID(string(k))), true, nil
}

// rekeyValue: a value key is the length of the ID (one byte), the ID and
// the encoded store.Key. A malformed one fails the migration, which then
// changes nothing: a value is data, not to be dropped on a guess.
func rekeyValue(k []byte) ([]byte, bool, error) {
	if len(k) == 0 || len(k) < 1+int(k[0]) {
		return nil, false, fmt.Errorf("%w: value key %q", store.ErrCorrupt, k)
	}
	n := int(k[0])
	id := newID(string(k[1 : 1+n]))
	return append(sessionPrefix(nil, id), k[1+n:]...), true, nil
}

// rekeyIndex: an expiry or last-seen entry is 8 bytes of time and the ID.
// A malformed entry points at nothing; Sweep would drop it, so this does.
func rekeyIndex(k []byte) ([]byte, bool, error) {
	id, ok := indexID(k)
	if !ok {
		return nil, false, nil
	}
	return append(bytes.Clone(k[:8]), newID(id)...), true, nil
}

// indexPrincipals creates the principals bucket and indexes every
// session that has a principal. Format-1 files were written before meta
// had one, so this finds none there; it is the general rule all the same.
// A meta that does not decode gets no entry, as in removeSession.
func indexPrincipals(tx *bolt.Tx) error {
	if _, err := tx.CreateBucket(bucketPrincipals); err != nil {
		return err
	}
	b := buckets{tx: tx}
	return tx.Bucket(bucketMeta).ForEach(func(k, v []byte) error {
		m, err := store.ParseMeta(v)
		if err != nil {
			return nil
		}
		return b.setPrincipal(string(k), "", m.Principal)
	})
}
