package boltstore

import (
	"context"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// TestExpiredValueLeavesTheFile: a value past its deadline reads as
// missing at once, and the next commit deletes it from the values bucket
// and returns its bytes to the counters.
func TestExpiredValueLeavesTheFile(t *testing.T) {
	s, clock := openTest(t, nil)
	ctx := context.Background()
	otp, keep := store.SessionKey("otp"), store.TabKey(0, "keep")
	create(t, s, "a", nil)
	if _, err := s.Commit(ctx, "a", store.Delta{
		Set:     map[store.Key][]byte{otp: []byte("123456"), keep: []byte("k")},
		Expires: map[store.Key]time.Time{otp: clock.Now().Add(time.Minute)},
	}); err != nil {
		t.Fatal(err)
	}
	stored := func() bool {
		var found bool
		err := s.db.View(func(tx *bolt.Tx) error {
			found = tx.Bucket(bucketValues).Get(valueKey(nil, "a", otp)) != nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	clock.Advance(time.Minute)
	if got := load(t, s, "a"); got["otp"] != "" || got["0/keep"] != "k" {
		t.Errorf("Load past the deadline: got %v, want only 0/keep", got)
	}
	if !stored() {
		t.Fatal("the expired value left the file before any commit; this test would prove nothing")
	}
	m, err := s.Commit(ctx, "a", store.Delta{LastSeen: clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if stored() {
		t.Error("the expired value is still in the values bucket after a commit")
	}
	want := int64(len("keep") + len("k"))
	st, err := s.Stats(ctx)
	if m.Bytes != want || err != nil || st.Bytes != want {
		t.Errorf("bytes after the commit: meta %d, Stats %+v (%v); want %d", m.Bytes, st, err, want)
	}
}
