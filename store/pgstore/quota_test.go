package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// twoStores opens two stores on the same tables with their own pools, as
// two processes of one application would.
func twoStores(t *testing.T, opts Options) [2]*testStore {
	t.Helper()
	a := newTestStore(t, opts, 8)
	opts.TablePrefix = a.prefix
	return [2]*testStore{a, newTestStore(t, opts, 8)}
}

// TestMaxSessionsAcrossStores races 40 creates through two stores under
// a cap of 10: exactly 10 win, wherever they came from, and expired
// sessions make room again.
func TestMaxSessionsAcrossStores(t *testing.T) {
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	const limit, creates = 10, 40
	stores := twoStores(t, Options{Now: clock.Now, MaxSessions: limit})
	var won, full atomic.Int32
	storetest.Race(creates, func(i int) {
		d := store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Minute)}
		switch _, err := stores[i%2].Commit(t.Context(), fmt.Sprintf("s%02d", i), d); {
		case err == nil:
			won.Add(1)
		case errors.Is(err, store.ErrFull):
			full.Add(1)
		default:
			t.Errorf("create %d: got %v, want nil or %v", i, err, store.ErrFull)
		}
	})
	if won.Load() != limit || full.Load() != creates-limit {
		t.Errorf("creates: %d won, %d refused as full, want %d and %d", won.Load(), full.Load(), limit, creates-limit)
	}
	if n := queryInt(t, stores[0].url, "SELECT count(*) FROM "+stores[0].prefix+"sessions"); n != limit {
		t.Errorf("stored sessions: got %d, want %d", n, limit)
	}
	if n := queryInt(t, stores[0].url, "SELECT sessions FROM "+stores[0].prefix+"counts"); n != limit {
		t.Errorf("session counter: got %d, want %d", n, limit)
	}
	// Existing sessions keep working when the store is full.
	var first string
	for i := range creates {
		if _, found, _ := stores[0].Load(t.Context(), fmt.Sprintf("s%02d", i)); found {
			first = fmt.Sprintf("s%02d", i)
			break
		}
	}
	mustCommit(t, stores[1], first, store.Delta{Set: map[store.Key][]byte{store.SessionKey("a"): []byte("1")}})

	// Once they expire, a create sweeps them and goes through.
	clock.Advance(time.Minute)
	mustCommit(t, stores[1], "after-expiry", store.Delta{Create: true})
	if n := queryInt(t, stores[0].url, "SELECT sessions FROM "+stores[0].prefix+"counts"); n != 1 {
		t.Errorf("session counter after the sweep a create made: got %d, want 1", n)
	}
}

// TestMaxSessionBytes checks the store's own cap and that the lower of it
// and the delta's applies.
func TestMaxSessionBytes(t *testing.T) {
	s := newTestStore(t, Options{MaxSessionBytes: 100}, 0)
	k := store.SessionKey("k")
	mustCommit(t, s, "capped", store.Delta{Create: true})
	// The session's size is the key's length (1) plus the value's.
	for _, tt := range []struct {
		name  string
		size  int
		limit int64
		want  error
	}{
		{"at the store's", 99, 0, nil},
		{"over the store's", 100, 0, store.ErrTooLarge},
		{"over the store's, the delta's higher", 100, 1000, store.ErrTooLarge},
		{"under the delta's", 49, 50, nil},
		{"over the delta's, the store's higher", 50, 50, store.ErrTooLarge},
	} {
		mustCommit(t, s, "capped", store.Delta{Delete: []store.Key{k}})
		_, err := s.Commit(t.Context(), "capped", store.Delta{Set: map[store.Key][]byte{k: []byte(strings.Repeat("y", tt.size))}, MaxBytes: tt.limit})
		if !errors.Is(err, tt.want) && (err != nil || tt.want != nil) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestPrincipalLimitAcrossStores races 32 sign-ins of one user through
// two stores: under a refusing limit of 3 exactly 3 succeed; under an
// evicting one all succeed, 3 sessions are left, and the evictions are
// reported, each once.
func TestPrincipalLimitAcrossStores(t *testing.T) {
	const signIns, limit = 32, 3
	for _, evict := range []bool{false, true} {
		t.Run(fmt.Sprintf("evict=%v", evict), func(t *testing.T) {
			clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
			stores := twoStores(t, Options{Now: clock.Now})
			events := [2]*recorder{record(stores[0]), record(stores[1])}
			var won, refused atomic.Int32
			storetest.Race(signIns, func(i int) {
				d := store.Delta{
					Create: true, IdleDeadline: clock.Now().Add(time.Hour), LastSeen: clock.Now(),
					SetPrincipal: true, Principal: "dana",
					PrincipalLimit: store.PrincipalLimit{Max: limit, EvictOldest: evict},
				}
				switch _, err := stores[i%2].Commit(t.Context(), fmt.Sprintf("signin-%02d", i), d); {
				case err == nil:
					won.Add(1)
				case !evict && errors.Is(err, store.ErrTooManySessions):
					refused.Add(1)
				default:
					t.Errorf("sign-in %d: got %v", i, err)
				}
			})
			refs, err := stores[0].SessionsOf(t.Context(), "dana")
			if err != nil || len(refs) != limit {
				t.Errorf("SessionsOf: got %d sessions, %v, want %d", len(refs), err, limit)
			}
			evicted := len(events[0].take()) + len(events[1].take())
			switch {
			case !evict && (won.Load() != limit || refused.Load() != signIns-limit || evicted != 0):
				t.Errorf("refusing: %d won, %d refused, %d evicted, want %d, %d, 0", won.Load(), refused.Load(), evicted, limit, signIns-limit)
			case evict && (won.Load() != signIns || evicted != signIns-limit):
				t.Errorf("evicting: %d won, %d evicted, want %d, %d", won.Load(), evicted, signIns, signIns-limit)
			}
			if n := queryInt(t, stores[0].url, "SELECT count(*) FROM "+stores[0].prefix+"sessions"); n != limit {
				t.Errorf("stored sessions: got %d, want %d", n, limit)
			}
		})
	}
}

// TestPrincipalText checks that a principal PostgreSQL's text cannot hold
// is refused before anything is written.
func TestPrincipalText(t *testing.T) {
	s := newTestStore(t, Options{}, 0)
	for _, p := range []string{"a\x00b", "\xff\xfe"} {
		_, err := s.Commit(t.Context(), "p", store.Delta{Create: true, SetPrincipal: true, Principal: p})
		if !errors.Is(err, errBadPrincipal) {
			t.Errorf("principal %q: got %v, want %v", p, err, errBadPrincipal)
		}
		if refs, err := s.SessionsOf(t.Context(), p); err != nil || len(refs) != 0 {
			t.Errorf("SessionsOf(%q): got %v, %v, want none", p, refs, err)
		}
	}
	if _, found, err := s.Load(t.Context(), "p"); err != nil || found {
		t.Errorf("Load after refused creates: got found=%v, %v, want nothing", found, err)
	}
}

// TestSubscriberMayCallTheStore evicts a session, and a full store
// sweeps one, with subscribers that commit to the very session whose
// commit made the removal: they are called once the store let go of it.
func TestSubscriberMayCallTheStore(t *testing.T) {
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	s := newTestStore(t, Options{Now: clock.Now, MaxSessions: 2}, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var (
		mu     sync.Mutex
		target string
		calls  []error
	)
	s.Subscribe(func(e store.Event) {
		mu.Lock()
		id := target
		mu.Unlock()
		_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{store.SessionKey("heard"): []byte(e.Kind.String())}})
		mu.Lock()
		calls = append(calls, err)
		mu.Unlock()
	})
	join := store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Minute), SetPrincipal: true, Principal: "eve", PrincipalLimit: store.PrincipalLimit{Max: 1, EvictOldest: true}}
	mustCommit(t, s, "first", join)
	mu.Lock()
	target = "second"
	mu.Unlock()
	if _, err := s.Commit(ctx, "second", join); err != nil {
		t.Fatalf("sign-in evicting the first session: %v", err)
	}
	clock.Advance(time.Hour)
	mustCommit(t, s, "other", store.Delta{Create: true})
	mu.Lock()
	target = "third"
	mu.Unlock()
	if _, err := s.Commit(ctx, "third", store.Delta{Create: true}); err != nil {
		t.Fatalf("create sweeping the expired session: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 || calls[0] != nil || calls[1] != nil {
		t.Errorf("subscriber's commits: got %v, want two without error", calls)
	}
	// The sweep ran before "third" existed; its subscriber was called
	// once the create was done.
	rec, _, err := s.Load(t.Context(), "third")
	if got := string(rec.Values[store.SessionKey("heard")]); err != nil || got != "expired" {
		t.Errorf("what third heard: got %q, %v, want %q", got, err, "expired")
	}
}
