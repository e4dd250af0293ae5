package redisstore

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// eventLog collects what a Store reports to its subscribers.
type eventLog struct {
	// mu guards list.
	mu   sync.Mutex
	list []store.Event
}

func subscribe(t *testing.T, n store.Notifier) *eventLog {
	ev := &eventLog{}
	cancel := n.Subscribe(func(e store.Event) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.list = append(ev.list, e)
	})
	t.Cleanup(cancel)
	return ev
}

func (ev *eventLog) events() []store.Event {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return slices.Clone(ev.list)
}

// twoStores returns two Stores on url sharing a key prefix, each on a
// client of its own, as two processes would have.
func twoStores(t *testing.T, url string, opts Options) [2]*testStore {
	a := newTestStoreAt(t, url, opts)
	opts.KeyPrefix = a.prefix
	return [2]*testStore{a, newTestStoreAt(t, url, opts)}
}

// TestPrincipalLimitUnderConcurrentSignIns signs one principal in 64
// times at once through two Stores (two processes) under a limit of 5.
// On a single server the limit holds exactly: 5 sign-ins succeed, or,
// evicting, 5 sessions remain and every other one is reported evicted
// once. On a cluster each Store's sign-ins take turns, and the two
// Stores may overshoot by one between them (see principals.go).
func TestPrincipalLimitUnderConcurrentSignIns(t *testing.T) {
	const signIns, limit = 64, 5
	onEachServer(t, func(t *testing.T, url string) {
		for _, evict := range []bool{false, true} {
			t.Run(fmt.Sprintf("evict=%v", evict), func(t *testing.T) {
				stores := twoStores(t, url, Options{SweepInterval: -1})
				_, cluster := stores[0].client.(*redis.ClusterClient)
				logs := [2]*eventLog{subscribe(t, stores[0]), subscribe(t, stores[1])}
				ctx := t.Context()
				var ok, refused atomic.Int64
				storetest.Race(signIns, func(i int) {
					_, err := stores[i%2].Commit(ctx, fmt.Sprintf("join-%02d", i), store.Delta{
						Create: true, IdleDeadline: time.Now().Add(time.Hour), LastSeen: time.Now(),
						SetPrincipal: true, Principal: "zoe",
						PrincipalLimit: store.PrincipalLimit{Max: limit, EvictOldest: evict},
					})
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, store.ErrTooManySessions) && !evict:
						refused.Add(1)
					default:
						t.Errorf("sign-in %d: %v", i, err)
					}
				})
				refs, err := stores[0].SessionsOf(ctx, "zoe")
				if err != nil {
					t.Fatal(err)
				}
				most := limit
				if cluster {
					most = limit + 1
				}
				if len(refs) < limit || len(refs) > most {
					t.Errorf("live sessions of zoe: got %d, want %d to %d", len(refs), limit, most)
				}
				var evicted []string
				for _, log := range logs {
					for _, e := range log.events() {
						if e.Kind != store.EventEvicted || e.Principal != "zoe" {
							t.Errorf("event %+v, want evictions of zoe's sessions only", e)
						}
						evicted = append(evicted, e.ID)
					}
				}
				if !evict {
					if int(ok.Load()) != len(refs) || ok.Load()+refused.Load() != signIns || len(evicted) != 0 {
						t.Errorf("%d signed in, %d refused, %d listed, %d evicted; want the listed signed in, the rest refused, none evicted",
							ok.Load(), refused.Load(), len(refs), len(evicted))
					}
					return
				}
				slices.Sort(evicted)
				if len(evicted) != signIns-len(refs) || len(slices.Compact(evicted)) != len(evicted) {
					t.Errorf("evicted %d sessions (%d distinct) of %d, %d left; want each of the others evicted once",
						len(evicted), len(slices.Compact(slices.Clone(evicted))), signIns, len(refs))
				}
				for _, id := range evicted {
					if _, found, err := stores[1].Load(ctx, id); err != nil || found {
						t.Errorf("evicted session %q: found=%v, %v; want it gone", id, found, err)
					}
				}
			})
		}
	})
}

// TestSweepReportsExpiries checks that the sweeper sees a session past
// its deadline before Redis drops it (the grace), reports it with its
// principal, and takes it out of the principal's set; and that the
// background sweeper does the same on its own.
func TestSweepReportsExpiries(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
		s := newTestStoreAt(t, url, Options{Now: clock.Now, SweepInterval: -1})
		ctx := t.Context()
		log := subscribe(t, s)
		mustCommit(t, s, "short", store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Minute), SetPrincipal: true, Principal: "yann"})
		mustCommit(t, s, "long", store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Hour), SetPrincipal: true, Principal: "yann"})
		// Redis keeps the hash for the grace past the deadline.
		at, err := s.client.Do(ctx, "PEXPIRETIME", s.key("short")).Int64()
		if want := expireAtMillis(clock.Now().Add(time.Minute)) + DefaultOptions.ExpiryGrace.Milliseconds(); err != nil || at != want {
			t.Errorf("PEXPIRETIME: got %d, %v, want %d", at, err, want)
		}
		clock.Advance(time.Minute)
		res, err := s.Sweep(ctx)
		if err != nil || res.Sessions != 1 {
			t.Fatalf("Sweep: got %+v, %v, want one session", res, err)
		}
		got := log.events()
		if len(got) != 1 || got[0].Kind != store.EventExpired || got[0].ID != "short" || got[0].Principal != "yann" || !got[0].At.Equal(clock.Now()) {
			t.Errorf("events: got %+v, want short's expiry, with its principal yann", got)
		}
		members, err := s.client.SMembers(ctx, s.principalKey("yann")).Result()
		if err != nil || !sameStrings(members, []string{"long"}) {
			t.Errorf("yann's set after the sweep: got %q, %v, want only long", members, err)
		}

		// The background sweeper, on a short interval.
		bg := newTestStoreAt(t, url, Options{Now: clock.Now, SweepInterval: 5 * time.Millisecond, KeyPrefix: s.prefix})
		reported := make(chan store.Event, 4)
		defer bg.Subscribe(func(e store.Event) { reported <- e })()
		clock.Advance(time.Hour)
		select {
		case e := <-reported:
			if e.Kind != store.EventExpired || e.ID != "long" || e.Principal != "yann" {
				t.Errorf("background sweeper reported %+v, want long's expiry", e)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the background sweeper reported nothing within 10 s")
		}
	})
}

// TestStaleEntries puts entries in a principal's set that name no live
// session of it: SessionsOf lists none of them and drops them all. A
// removal never drops the entry of a session that is the principal's.
func TestStaleEntries(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
		s := newTestStoreAt(t, url, Options{Now: clock.Now, SweepInterval: -1})
		ctx := t.Context()
		join := func(id, p string, idle time.Duration) {
			mustCommit(t, s, id, store.Delta{Create: true, IdleDeadline: clock.Now().Add(idle), SetPrincipal: true, Principal: p})
		}
		join("mine", "xavier", time.Hour)
		join("expiring", "xavier", time.Minute)
		join("other", "wendy", time.Hour)
		mustCommit(t, s, "anonymous", store.Delta{Create: true})
		set := s.principalKey("xavier")
		// Entries a failed or interrupted write could leave.
		if err := s.client.SAdd(ctx, set, "never-existed", "other", "anonymous").Err(); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		refs, err := s.SessionsOf(ctx, "xavier")
		if err != nil || len(refs) != 1 || refs[0].ID != "mine" || refs[0].Meta.Principal != "xavier" {
			t.Fatalf("SessionsOf: got %+v, %v, want only mine", refs, err)
		}
		members, err := s.client.SMembers(ctx, set).Result()
		if err != nil || !sameStrings(members, []string{"mine"}) {
			t.Errorf("xavier's set after SessionsOf: got %q, %v, want only mine", members, err)
		}
		// Removing the entry of a live session of the principal, as a
		// removal that raced its sign-in would, keeps it.
		s.unlist(ctx, "xavier", []string{"mine"})
		if ok, err := s.client.SIsMember(ctx, set, "mine").Result(); err != nil || !ok {
			t.Errorf("entry of a live session after unlist: present=%v, %v, want kept", ok, err)
		}
	})
}

// TestMoveAcrossFamilies moves a session to an ID of another family:
// refused with ErrCrossSlot on a cluster, changing nothing; done on a
// single server.
func TestMoveAcrossFamilies(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		s := newTestStoreAt(t, url, Options{SweepInterval: -1})
		_, cluster := s.client.(*redis.ClusterClient)
		ctx := t.Context()
		from, to := store.HashToken("family-one-token"), store.HashToken("other-family-token")
		if store.Family(from) == store.Family(to) {
			t.Fatalf("%q and %q share a family", from, to)
		}
		mustCommit(t, s, from, store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("a"): []byte("1")}})
		_, err := s.Move(ctx, from, to, store.Delta{})
		if cluster {
			if !errors.Is(err, ErrCrossSlot) {
				t.Fatalf("Move across families on a cluster: got %v, want %v", err, ErrCrossSlot)
			}
			if _, found, _ := s.Load(ctx, from); !found {
				t.Errorf("source after a refused Move: gone, want it kept")
			}
			return
		}
		if err != nil {
			t.Fatalf("Move across families on a single server: %v", err)
		}
		rec, found, err := s.Load(ctx, to)
		if err != nil || !found || string(rec.Values[store.SessionKey("a")]) != "1" {
			t.Errorf("Load(to): got %v, %v, %v, want the moved session", rec.Values, found, err)
		}
	})
}
