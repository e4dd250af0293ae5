package bench

import (
	"bytes"
	"encoding/binary"
	"time"

	scsbolt "github.com/alexedwards/scs/boltstore"
	bolt "go.etcd.io/bbolt"
)

// scsBolt is scs's bbolt store with one repair. As published, its Find
// returns a slice of the value bbolt handed out inside a read
// transaction, after that transaction has ended. bbolt only promises
// such memory until the transaction closes: when a concurrent write
// grows the file, bbolt re-maps it and the old pages are unmapped, so the
// session bytes scs then decodes are garbage (gob errors, 500s) or a
// memory fault that ends the process. ProbeSCSBolt shows both within
// seconds of reads racing session creation.
//
// The repair keeps everything that decides the store's cost as shipped —
// Commit and Delete are upstream's (one db.Update and one fsync per
// request, no batching), and so are the bucket and the 8-byte expiry
// prefix — and replaces Find with the same lookup that copies the value
// before the read transaction ends. The copy is a few hundred bytes, so
// it adds nothing measurable; the cleanup goroutine is off, as it is for
// every store in these runs.
type scsBolt struct {
	*scsbolt.BoltStore
	db *bolt.DB
}

// scsBucket is the bucket upstream's store uses.
var scsBucket = []byte("scs:session")

func newSCSBolt(db *bolt.DB) *scsBolt {
	return &scsBolt{BoltStore: scsbolt.NewWithCleanupInterval(db, 0), db: db}
}

// Find is upstream's Find, with the value copied inside the transaction.
func (s *scsBolt) Find(token string) ([]byte, bool, error) {
	var val []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(scsBucket).Get([]byte(token))
		if len(v) < 8 || uint64(time.Now().UnixNano()) > binary.BigEndian.Uint64(v[:8]) {
			return nil
		}
		val = bytes.Clone(v[8:])
		return nil
	})
	if err != nil || val == nil {
		return nil, false, err
	}
	return val, true, nil
}

// count is the number of stored sessions, expired or not.
func (s *scsBolt) count() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(scsBucket).Stats().KeyN
		return nil
	})
	return n, err
}
