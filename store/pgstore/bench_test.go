package pgstore

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// benchSession creates a session shaped like a point-of-sale one: a user,
// a cart and a flash in tab 0.
func benchSession(b *testing.B, s *testStore, id string) {
	b.Helper()
	now := time.Now()
	mustCommit(b, s, id, store.Delta{
		Create: true, IdleDeadline: now.Add(time.Hour), AbsDeadline: now.Add(24 * time.Hour),
		Set: map[store.Key][]byte{
			store.SessionKey("user"): []byte(`{"id":42,"name":"alice"}`),
			store.TabKey(0, "cart"):  []byte(`[{"sku":"apple","n":3},{"sku":"pear","n":1}]`),
			store.TabKey(0, "flash"): []byte(`"saved"`),
		},
	})
}

// increment is an Update function on a decimal counter.
func increment(old []byte, _ bool) ([]byte, error) {
	n, _ := strconv.Atoi(string(old))
	return strconv.AppendInt(nil, int64(n+1), 10), nil
}

func BenchmarkLoad(b *testing.B) {
	s := newTestStore(b, Options{}, 0)
	benchSession(b, s, "bench")
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, found, err := s.Load(ctx, "bench"); err != nil || !found {
			b.Fatalf("Load: found=%v, %v", found, err)
		}
	}
}

func BenchmarkCommit(b *testing.B) {
	s := newTestStore(b, Options{}, 0)
	benchSession(b, s, "bench")
	ctx := b.Context()
	d := store.Delta{Set: map[store.Key][]byte{store.TabKey(0, "cart"): []byte(`[{"sku":"apple","n":4}]`)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Commit(ctx, "bench", d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate is a read-modify-write of one key inside the
// transaction.
func BenchmarkUpdate(b *testing.B) {
	s := newTestStore(b, Options{}, 0)
	benchSession(b, s, "bench")
	ctx := b.Context()
	d := store.Delta{Update: map[store.Key]store.UpdateFunc{store.SessionKey("n"): increment}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Commit(ctx, "bench", d); err != nil {
			b.Fatal(err)
		}
	}
}

// parallel64 runs fn from 64 goroutines; each gets a number in [0, 64).
func parallel64(b *testing.B, fn func(n int) error) {
	const goroutines = 64
	var next atomic.Int32
	b.SetParallelism((goroutines + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		n := int(next.Add(1)-1) % goroutines
		for pb.Next() {
			if err := fn(n); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCommitParallel64 commits from 64 goroutines, each to a session
// of its own, the way 64 concurrent requests of different users would.
func BenchmarkCommitParallel64(b *testing.B) {
	s := newTestStore(b, Options{}, openMinPoolConns)
	for i := range 64 {
		benchSession(b, s, fmt.Sprint("bench-", i))
	}
	d := store.Delta{Set: map[store.Key][]byte{store.TabKey(0, "cart"): []byte(`[{"sku":"apple","n":4}]`)}}
	parallel64(b, func(n int) error {
		_, err := s.Commit(b.Context(), fmt.Sprint("bench-", n), d)
		return err
	})
}

// BenchmarkUpdateOneSession64 is 64 goroutines incrementing one counter
// of one session: every commit waits for the one before.
func BenchmarkUpdateOneSession64(b *testing.B) {
	s := newTestStore(b, Options{}, openMinPoolConns)
	benchSession(b, s, "bench")
	d := store.Delta{Update: map[store.Key]store.UpdateFunc{store.SessionKey("n"): increment}}
	parallel64(b, func(int) error {
		_, err := s.Commit(b.Context(), "bench", d)
		return err
	})
}
