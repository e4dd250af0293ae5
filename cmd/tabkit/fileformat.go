package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tabkit/tabkit/admin"
	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// migrate reports a bbolt file's format before boltstore opens it (and
// may migrate it) and after. The format is read from the file itself,
// where every version of boltstore keeps it so that a later one can
// recognise the file: the "format" key of the "stats" bucket, an 8-byte
// big-endian integer (store/boltstore/doc.go). Format 1 keyed sessions
// by whatever ID they were committed under, in the "meta" bucket; its
// layout no longer changes, so tabkit counts there the sessions stored
// under a cookie token.
const legacyFormat = 1

var (
	bucketStats = []byte("stats")
	bucketMeta  = []byte("meta")
	keyFormat   = []byte("format")
)

// fileState is what inspectFile found.
type fileState struct {
	// Format is the file's layout version; 0 for a file boltstore has
	// not initialised.
	Format int
	// TokenKeyed counts the live sessions stored under their cookie
	// token, or -1 when the format is not one tabkit reads by itself.
	TokenKeyed int
	// ExpiredTokenKeyed counts the expired ones, which wait for a sweep.
	ExpiredTokenKeyed int
}

// inspectFile reads the format of the file s.db without changing it,
// and, in format 1, counts the sessions stored under a cookie token.
func inspectFile(s *settings, stderr io.Writer) (fileState, int) {
	if code := checkFile(s, stderr); code != exitOK {
		return fileState{}, code
	}
	timeout := s.timeout
	if timeout <= 0 {
		timeout = time.Nanosecond // bbolt: zero waits forever; this tries once
	}
	db, err := bolt.Open(s.db, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fileState{}, inUse(s, stderr)
	case err != nil:
		fmt.Fprintf(stderr, "tabkit: %s is not a bbolt database: %v\n", s.db, err)
		return fileState{}, exitFailed
	}
	defer db.Close()
	var st fileState
	err = db.View(func(tx *bolt.Tx) error {
		st, err = readState(tx, time.Now())
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "tabkit: %s: %v\n", s.db, err)
		return fileState{}, exitFailed
	}
	return st, exitOK
}

func readState(tx *bolt.Tx, now time.Time) (fileState, error) {
	stats := tx.Bucket(bucketStats)
	if stats == nil {
		return fileState{TokenKeyed: -1}, nil // not initialised; boltstore says more when it opens the file
	}
	v := stats.Get(keyFormat)
	if len(v) != 8 {
		return fileState{}, errors.New("no format in the stats bucket")
	}
	st := fileState{Format: int(binary.BigEndian.Uint64(v)), TokenKeyed: -1}
	meta := tx.Bucket(bucketMeta)
	if st.Format != legacyFormat || meta == nil {
		return st, nil
	}
	st.TokenKeyed = 0
	err := meta.ForEach(func(id, v []byte) error {
		if !admin.KeyedByToken(string(id)) {
			return nil
		}
		m, err := store.ParseMeta(v)
		if err != nil {
			return fmt.Errorf("session %s: %w", id[:admin.PrefixLength], err)
		}
		if m.Expired(now) {
			st.ExpiredTokenKeyed++
		} else {
			st.TokenKeyed++
		}
		return nil
	})
	return st, err
}
