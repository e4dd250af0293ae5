package redisstore

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
// two tabs with carts.
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

func BenchmarkLoad(b *testing.B) {
	s := newTestStore(b, Options{})
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
	s := newTestStore(b, Options{})
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

// BenchmarkCommitParallel64 commits from 64 goroutines, each to a session
// of its own, the way 64 concurrent requests of different users would.
func BenchmarkCommitParallel64(b *testing.B) {
	const goroutines = 64
	s := newTestStore(b, Options{})
	for i := range goroutines {
		benchSession(b, s, fmt.Sprint("bench-", i))
	}
	ctx := b.Context()
	var next atomic.Int32
	b.SetParallelism((goroutines + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := fmt.Sprint("bench-", next.Add(1)%goroutines)
		d := store.Delta{Set: map[store.Key][]byte{store.TabKey(0, "cart"): []byte(`[{"sku":"apple","n":4}]`)}}
		for pb.Next() {
			if _, err := s.Commit(ctx, id, d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkUpdate is a read-modify-write of one key: an optimistic
// transaction, three round trips.
func BenchmarkUpdate(b *testing.B) {
	s := newTestStore(b, Options{})
	benchSession(b, s, "bench")
	ctx := b.Context()
	d := store.Delta{Update: map[store.Key]store.UpdateFunc{
		store.SessionKey("n"): func(old []byte, _ bool) ([]byte, error) {
			n, _ := strconv.Atoi(string(old))
			return strconv.AppendInt(nil, int64(n+1), 10), nil
		},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Commit(ctx, "bench", d); err != nil {
			b.Fatal(err)
		}
	}
}
