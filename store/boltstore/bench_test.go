package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// benchValue is the size of a typical small session value (a cart, a
// flash message).
var benchValue = bytes.Repeat([]byte("x"), 100)

// benchClients is how many goroutines the parallel benchmarks run.
const benchClients = 64

// setParallelism makes RunParallel use benchClients goroutines (or the
// nearest multiple of GOMAXPROCS) and returns how many it will use.
func setParallelism(b *testing.B) int {
	p := max(1, benchClients/runtime.GOMAXPROCS(0))
	b.SetParallelism(p)
	return p * runtime.GOMAXPROCS(0)
}

func openRawBolt(b *testing.B) (*bolt.DB, []byte) {
	b.Helper()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	name := []byte("values")
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(name); return err }); err != nil {
		b.Fatal(err)
	}
	return db, name
}

// BenchmarkBoltUpdatePut is the floor for BenchmarkCommit: one bbolt
// Update with one Put, fsync included.
func BenchmarkBoltUpdatePut(b *testing.B) {
	db, name := openRawBolt(b)
	key := []byte("session/key")
	for b.Loop() {
		err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(name).Put(key, benchValue) })
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltBatchPut64 is bbolt's own group commit, DB.Batch, with 64
// writers: the reference for BenchmarkCommitParallel64.
func BenchmarkBoltBatchPut64(b *testing.B) {
	db, name := openRawBolt(b)
	var next atomic.Int64
	setParallelism(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Appendf(nil, "session%d/key", next.Add(1))
		for pb.Next() {
			err := db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(name).Put(key, benchValue) })
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "sessions.db"), &Options{SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchCreate(b *testing.B, s *Store, id string) {
	b.Helper()
	_, err := s.Commit(context.Background(), id, store.Delta{
		Create:       true,
		IdleDeadline: time.Now().Add(time.Hour),
		Set:          map[store.Key][]byte{store.SessionKey("user"): benchValue},
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCommit is one client committing one Set to an existing
// session.
func BenchmarkCommit(b *testing.B) {
	s := openBench(b)
	benchCreate(b, s, "session")
	ctx := context.Background()
	d := store.Delta{Set: map[store.Key][]byte{store.TabKey(0, "cart"): benchValue}}
	for b.Loop() {
		if _, err := s.Commit(ctx, "session", d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommitParallel64 is 64 clients, one session each, committing
// at once.
func BenchmarkCommitParallel64(b *testing.B) {
	s := openBench(b)
	ids := make([]string, setParallelism(b))
	for i := range ids {
		ids[i] = fmt.Sprintf("session%03d", i)
		benchCreate(b, s, ids[i])
	}
	var next atomic.Int64
	txs := s.writeTxs.Load()
	b.ResetTimer()
	defer func() { b.ReportMetric(float64(b.N)/float64(s.writeTxs.Load()-txs), "commits/tx") }()
	b.RunParallel(func(pb *testing.PB) {
		id := ids[next.Add(1)-1]
		ctx := context.Background()
		d := store.Delta{Set: map[store.Key][]byte{store.TabKey(0, "cart"): benchValue}}
		for pb.Next() {
			if _, err := s.Commit(ctx, id, d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkMove is one regeneration: a session with a principal, a tab
// and a few values moved to a new ID, back and forth between two.
func BenchmarkMove(b *testing.B) {
	s := openBench(b)
	ids := [2]string{store.HashToken("benchmark-token-a"), store.HashToken("benchmark-token-b")}
	benchCreate(b, s, ids[0])
	ctx := context.Background()
	d := store.Delta{
		SetPrincipal: true, Principal: "user-1",
		EditMeta: func(m *store.Meta) error { m.Tabs[1] = store.TabInfo{}; return nil },
		Set: map[store.Key][]byte{
			store.TabKey(0, "cart"): benchValue,
			store.TabKey(1, "cart"): benchValue,
		},
	}
	if _, err := s.Commit(ctx, ids[0], d); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := s.Move(ctx, ids[i%2], ids[(i+1)%2], store.Delta{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkLoad is one read of a session with a few values.
func BenchmarkLoad(b *testing.B) {
	s := openBench(b)
	benchCreate(b, s, "session")
	d := store.Delta{
		EditMeta: func(m *store.Meta) error { m.Tabs[1] = store.TabInfo{}; return nil },
		Set: map[store.Key][]byte{
			store.TabKey(0, "cart"):  benchValue,
			store.TabKey(1, "cart"):  benchValue,
			store.TabKey(1, "flash"): benchValue[:20],
		},
	}
	if _, err := s.Commit(context.Background(), "session", d); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, found, err := s.Load(ctx, "session"); err != nil || !found {
			b.Fatal(found, err)
		}
	}
}

// BenchmarkSweep removes 1000 expired sessions from stores of different
// sizes. Every live session has a deadline, so the expiry index holds
// them all: a sweep that cost what is stored would show here.
func BenchmarkSweep(b *testing.B) {
	const expired = 1000
	for _, total := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("expired=%d/total=%d", expired, total), func(b *testing.B) {
			now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			s, err := Open(filepath.Join(b.TempDir(), "sessions.db"), &Options{
				SweepInterval: -1,
				Now:           func() time.Time { return now },
			})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			fillSessions(b, s, "live", total-expired, now.Add(1000*time.Hour))
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				fillSessions(b, s, "gone", expired, now.Add(-time.Minute))
				b.StartTimer()
				res, err := s.Sweep(context.Background())
				if err != nil || res.Sessions != expired {
					b.Fatalf("Sweep: got %+v, %v, want %d sessions", res, err, expired)
				}
			}
		})
	}
}

// fillSessions creates n sessions of one 100-byte value expiring at
// deadline, in large transactions that bypass the committer: building a
// million sessions one commit at a time would take far too long.
func fillSessions(b *testing.B, s *Store, prefix string, n int, deadline time.Time) {
	b.Helper()
	const perTx = 50_000
	for first := 0; first < n; first += perTx {
		err := s.db.Update(func(tx *bolt.Tx) error {
			bk, err := openBuckets(tx)
			if err != nil {
				return err
			}
			// Keys arrive in order, so pages can be filled up.
			for _, bucket := range []*bolt.Bucket{bk.meta, bk.values, bk.expiry, bk.lastSeen} {
				bucket.FillPercent = 0.9
			}
			now := s.opts.Now.Now()
			for i := first; i < min(first+perTx, n); i++ {
				d := store.Delta{
					Create:       true,
					IdleDeadline: deadline,
					Set:          map[store.Key][]byte{store.SessionKey("cart"): benchValue},
				}
				if _, err := s.commitInTx(bk, fmt.Sprintf("%s%08d", prefix, i), &d, now, new(removals)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
