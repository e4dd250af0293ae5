package boltstore

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

func TestSweepRemovesExactlyTheExpired(t *testing.T) {
	tests := []struct {
		name                 string
		expired, live, plain int // plain: live sessions without a deadline
	}{
		{"none expired", 0, 20, 5},
		{"some expired", 30, 20, 5},
		{"all expired", 40, 0, 0},
		{"several transactions", 2*sweepBatch + 7, 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := openTest(t, nil)
			now := clock.Now()
			var ids []string
			deltas := make(map[string]store.Delta)
			var wantBytes int64
			for i := range tt.expired + tt.live + tt.plain {
				id := fmt.Sprintf("s%05d", i)
				d := store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("k"): []byte(id)}}
				switch {
				case i < tt.expired:
					// Deadlines spread over the past hour, some by the
					// absolute deadline.
					d.IdleDeadline = now.Add(time.Duration(i%60) * time.Minute)
					if i%3 == 0 {
						d.AbsDeadline = now.Add(time.Duration(i%50) * time.Minute)
					}
					wantBytes += int64(len("k") + len(id))
				case i < tt.expired+tt.live:
					d.IdleDeadline = now.Add(3 * time.Hour)
				}
				ids = append(ids, id)
				deltas[id] = d
			}
			bulkCommit(t, s, ids, func(i int) store.Delta { return deltas[ids[i]] })
			clock.Advance(time.Hour)

			res, err := s.Sweep(context.Background())
			if err != nil {
				t.Fatalf("Sweep: got %v, want nil", err)
			}
			if res.Sessions != tt.expired || res.Bytes != wantBytes {
				t.Errorf("Sweep: got %+v, want %d sessions of %d bytes", res, tt.expired, wantBytes)
			}
			counts := []struct {
				bucket []byte
				want   int
			}{
				{bucketMeta, tt.live + tt.plain},
				{bucketValues, tt.live + tt.plain},
				{bucketExpiry, tt.live},
				{bucketLastSeen, tt.live + tt.plain},
			}
			for _, c := range counts {
				if got := bucketLen(t, s, c.bucket); got != c.want {
					t.Errorf("%s entries after Sweep: got %d, want %d", c.bucket, got, c.want)
				}
			}
			if res, err := s.Sweep(context.Background()); err != nil || res.Sessions != 0 {
				t.Errorf("second Sweep: got %+v, %v, want nothing to do", res, err)
			}
		})
	}
}

// TestSweepWalksTheIndex plants an expired session that the expiry index
// does not know about: a sweep that scanned the sessions would remove it.
func TestSweepWalksTheIndex(t *testing.T) {
	s, clock := openTest(t, nil)
	create(t, s, "indexed", nil)
	create(t, s, "hidden", nil)
	err := s.db.Update(func(tx *bolt.Tx) error {
		m, _, err := getMeta(tx.Bucket(bucketMeta), "hidden")
		if err != nil {
			return err
		}
		return tx.Bucket(bucketExpiry).Delete(indexKey(nil, m.ExpiresAt(), "hidden"))
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	res, err := s.Sweep(context.Background())
	if err != nil || res.Sessions != 1 {
		t.Fatalf("Sweep: got %+v, %v, want 1 session", res, err)
	}
	if got := bucketLen(t, s, bucketMeta); got != 1 {
		t.Errorf("sessions left: got %d, want the unindexed one", got)
	}
	// Delete cleans up whatever the index says.
	if err := s.Delete(context.Background(), "hidden"); err != nil {
		t.Fatal(err)
	}
}

func TestSweepDropsDanglingEntries(t *testing.T) {
	s, clock := openTest(t, nil)
	create(t, s, "a", nil)
	// An entry for a session that does not exist, and a stale one for a
	// deadline the session no longer has.
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketExpiry).Put(indexKey(nil, start, "ghost"), nil); err != nil {
			return err
		}
		return tx.Bucket(bucketExpiry).Put(indexKey(nil, start.Add(time.Minute), "a"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Minute)
	res, err := s.Sweep(context.Background())
	if err != nil || res.Sessions != 0 {
		t.Errorf("Sweep: got %+v, %v, want no session removed", res, err)
	}
	if got := load(t, s, "a"); got == nil {
		t.Error("live session a was swept")
	}
	if got := bucketLen(t, s, bucketExpiry); got != 1 {
		t.Errorf("expiry entries: got %d, want a's only", got)
	}
}

func TestSweepNothingDueWritesNothing(t *testing.T) {
	s, _ := openTest(t, nil)
	create(t, s, "a", nil)
	stats := s.db.Stats()
	before := stats.TxStats.GetWrite()
	if res, err := s.Sweep(context.Background()); err != nil || res.Sessions != 0 {
		t.Fatalf("Sweep: got %+v, %v, want nothing", res, err)
	}
	stats = s.db.Stats()
	if got := stats.TxStats.GetWrite() - before; got != 0 {
		t.Errorf("page writes of an idle sweep: got %d, want 0", got)
	}
}

func TestBackgroundSweeper(t *testing.T) {
	s, clock := openTest(t, &Options{SweepInterval: time.Millisecond})
	create(t, s, "a", nil)
	clock.Advance(2 * time.Hour)
	// The sweeper runs every millisecond; wait for its work rather than
	// for time, with a bound so a broken sweeper fails instead of hangs.
	giveUp := time.Now().Add(30 * time.Second)
	for {
		st, err := s.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Sessions == 0 {
			break
		}
		if time.Now().After(giveUp) {
			t.Fatal("the background sweeper did not remove the expired session")
		}
		runtime.Gosched()
	}
}

func TestStats(t *testing.T) {
	s, clock := openTest(t, nil)
	ctx := context.Background()
	a := create(t, s, "a", map[string]string{"k": "12345"})
	clock.Advance(30 * time.Minute)
	b := create(t, s, "b", map[string]string{"k": "1"})
	create(t, s, "c", nil)
	if err := s.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(45 * time.Minute) // a has expired, b has not

	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Stats{Sessions: 2, Bytes: a.Bytes + b.Bytes, Expired: 1, FileBytes: st.FileBytes}
	if st != want || st.FileBytes <= 0 {
		t.Errorf("Stats: got %+v, want %+v with a file size", st, want)
	}
}

func TestList(t *testing.T) {
	const n, expired = 2*listChunk + 17, 11
	s, clock := openTest(t, nil)
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("s%04d", i))
	}
	now := clock.Now()
	bulkCommit(t, s, ids, func(i int) store.Delta {
		d := store.Delta{Create: true, IdleDeadline: now.Add(2 * time.Hour)}
		if i%(n/expired) == 0 && i/(n/expired) < expired {
			d.IdleDeadline = now.Add(time.Minute)
		}
		return d
	})
	clock.Advance(time.Hour)
	ctx := context.Background()

	seen := make(map[string]int)
	err := s.List(ctx, func(id string, m store.Meta) bool {
		seen[id]++
		// fn runs outside the read transaction, so it may write.
		if len(seen) == listChunk {
			if _, err := s.Commit(ctx, id, setDelta(store.SessionKey("k"), "v")); err != nil {
				t.Errorf("Commit inside List: %v", err)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n-expired {
		t.Errorf("List saw %d sessions, want %d", len(seen), n-expired)
	}
	for id, count := range seen {
		if count != 1 {
			t.Errorf("List saw %s %d times", id, count)
		}
	}

	calls := 0
	if err := s.List(ctx, func(string, store.Meta) bool { calls++; return calls < 3 }); err != nil || calls != 3 {
		t.Errorf("List stopped by fn: got %d calls, %v, want 3, nil", calls, err)
	}
}
