package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The bbolt ledger keeps the sign-out notes in its file too, so they
// survive a restart: bucket "signouts" maps a handle to its note's JSON,
// "signouts-by-time" orders them (8 bytes of big-endian Unix nanoseconds,
// then the handle; no value) so pruning starts at the oldest, and the
// "totals" bucket counts them.
var (
	signOutsBucket       = []byte("signouts")
	signOutsByTimeBucket = []byte("signouts-by-time")
	signOutsField        = []byte("signouts")
)

func signOutTimeKey(at time.Time, handle string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano())), handle...)
}

func (l *boltLedger) NoteSignOut(_ context.Context, handle string, n signOut) error {
	value, err := json.Marshal(n)
	if err != nil {
		return err
	}
	err = l.db.Update(func(tx *bolt.Tx) error {
		notes, byTime, totals := tx.Bucket(signOutsBucket), tx.Bucket(signOutsByTimeBucket), tx.Bucket(totalsBucket)
		if old := notes.Get([]byte(handle)); old != nil {
			var prior signOut
			if json.Unmarshal(old, &prior) == nil {
				if err := byTime.Delete(signOutTimeKey(prior.At, handle)); err != nil {
					return err
				}
			}
		} else if err := addCounter(totals, signOutsField, 1); err != nil {
			return err
		}
		if err := notes.Put([]byte(handle), value); err != nil {
			return err
		}
		if err := byTime.Put(signOutTimeKey(n.At, handle), nil); err != nil {
			return err
		}
		return pruneSignOuts(notes, byTime, totals, n.At.Add(-signOutTTL), l.signOutLimit)
	})
	if err != nil {
		return fmt.Errorf("sign-out notes: %w", err)
	}
	return nil
}

// pruneSignOuts deletes notes from the oldest on while they are older
// than cutoff or there are more than limit. Its cost grows with what it
// deletes, not with what is kept.
func pruneSignOuts(notes, byTime, totals *bolt.Bucket, cutoff time.Time, limit int) error {
	count := counter(totals, signOutsField)
	c := byTime.Cursor()
	for k, _ := c.First(); len(k) >= 8; k, _ = c.First() {
		at := time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
		if count <= int64(limit) && !at.Before(cutoff) {
			break
		}
		// Copied: k is only valid until the bucket changes.
		handle := string(k[8:])
		if err := byTime.Delete(k); err != nil {
			return err
		}
		if err := notes.Delete([]byte(handle)); err != nil {
			return err
		}
		count--
	}
	return totals.Put(signOutsField, binary.BigEndian.AppendUint64(nil, uint64(max(count, 0))))
}

func (l *boltLedger) SignOut(_ context.Context, handle string, now time.Time) (signOut, bool, error) {
	var raw []byte
	err := l.db.View(func(tx *bolt.Tx) error {
		raw = append([]byte(nil), tx.Bucket(signOutsBucket).Get([]byte(handle))...)
		return nil
	})
	if err != nil {
		return signOut{}, false, fmt.Errorf("sign-out notes: %w", err)
	}
	if len(raw) == 0 {
		return signOut{}, false, nil
	}
	var n signOut
	if err := json.Unmarshal(raw, &n); err != nil {
		return signOut{}, false, fmt.Errorf("sign-out notes: decoding: %w", err)
	}
	if now.Sub(n.At) > signOutTTL {
		return signOut{}, false, nil
	}
	return n, true, nil
}
