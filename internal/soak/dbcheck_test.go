package soak

import (
	"context"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	bolt "go.etcd.io/bbolt"
)

// checkDB opens the file with bbolt itself, read-only, and runs its
// consistency check: every page reachable once, no page both used and
// free, keys in order.
func checkDB(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("bbolt cannot open %s: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check of %s: %v", path, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bbolt view of %s: %v", path, err)
	}
}

// storedSessions opens the file as a session store, with no sweeper, and
// returns its counters and the number of live sessions a listing finds,
// which must agree.
func storedSessions(t *testing.T, path string) (store.Stats, int) {
	t.Helper()
	st, err := boltstore.Open(path, &boltstore.Options{SweepInterval: -1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("boltstore cannot open %s: %v", path, err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Errorf("closing %s: %v", path, err)
		}
	}()
	ctx := context.Background()
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	listed := 0
	if err := st.List(ctx, func(string, store.Meta) bool { listed++; return true }); err != nil {
		t.Fatalf("List: %v", err)
	}
	return stats, listed
}
