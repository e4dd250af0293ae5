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

// BenchmarkCommitValueDeadlines commits a set into a session that holds
// a value with a time to live, the set giving one too: in the commit
// script, which reads and rewrites the deadlines itself (one round
// trip), and through the optimistic transaction (three), which is what
// every such commit would cost if the script left deadlines to Go.
func BenchmarkCommitValueDeadlines(b *testing.B) {
	s := newTestStore(b, Options{SweepInterval: -1})
	benchSession(b, s, "bench")
	ctx := b.Context()
	otp, cart := store.SessionKey("otp"), store.TabKey(0, "cart")
	mustCommit(b, s, "bench", store.Delta{Set: map[store.Key][]byte{otp: []byte("123456")}, Expires: map[store.Key]time.Time{otp: time.Now().Add(time.Hour)}})
	d := store.Delta{
		Set:     map[store.Key][]byte{cart: []byte(`[{"sku":"apple","n":4}]`)},
		Expires: map[store.Key]time.Time{cart: time.Now().Add(time.Hour)},
	}
	b.Run("script", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Commit(ctx, "bench", d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("watch", func(b *testing.B) {
		d := d
		d.EditMeta = func(*store.Meta) error { return nil } // takes the transaction
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Commit(ctx, "bench", d); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMove regenerates a session back and forth between two IDs of
// one family.
func BenchmarkMove(b *testing.B) {
	s := newTestStore(b, Options{SweepInterval: -1})
	ids := [2]string{store.HashToken("bench-token-one"), store.HashToken("bench-token-two")}
	benchSession(b, s, ids[0])
	ctx := b.Context()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Move(ctx, ids[i], ids[1-i], store.Delta{}); err != nil {
			b.Fatal(err)
		}
		i = 1 - i
	}
}

// BenchmarkSignInUnderLimit signs a session in, in turn, to two
// principals that have three other sessions each, under a limit of 5.
func BenchmarkSignInUnderLimit(b *testing.B) {
	s := newTestStore(b, Options{SweepInterval: -1})
	ctx := b.Context()
	principals := [2]string{"ann", "ben"}
	for _, p := range principals {
		for i := range 3 {
			mustCommit(b, s, fmt.Sprint(p, i), store.Delta{Create: true, IdleDeadline: time.Now().Add(time.Hour), SetPrincipal: true, Principal: p})
		}
	}
	benchSession(b, s, "bench")
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		d := store.Delta{SetPrincipal: true, Principal: principals[i], PrincipalLimit: store.PrincipalLimit{Max: 5}}
		if _, err := s.Commit(ctx, "bench", d); err != nil {
			b.Fatal(err)
		}
		i = 1 - i
	}
}
