package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

func TestConformance(t *testing.T) {
	run := func(t *testing.T, url string, opts Options) {
		storetest.Run(t, func(t *testing.T, now store.Clock) store.Store {
			o := opts
			o.KeyPrefix, o.Now = uniquePrefix(t, url), now
			// The suite sweeps when it means to; TestSweepReportsExpiries
			// covers the background sweeper.
			o.SweepInterval = -1
			s, err := Open(url, &o)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		})
	}
	onEachServer(t, func(t *testing.T, url string) { run(t, url, Options{}) })
	// Every master of the test cluster has one replica.
	t.Run("cluster with WaitReplicas", func(t *testing.T) {
		url, opts := waitingSetup(t)
		run(t, url, opts)
	})
}

// TestRoundTrips checks the promise behind the layout: a Load is one
// round trip, and so is a commit without functions or a principal,
// expectations and value deadlines included. On a single server every
// count is checked; on a cluster, where one call may reach several
// masters (in parallel), the counts per master are logged.
func TestRoundTrips(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
		s := newTestStoreAt(t, url, Options{Now: clock.Now, SweepInterval: -1})
		_, cluster := s.client.(*redis.ClusterClient)
		ctx := t.Context()
		id := store.HashToken("trips-token-one")
		to := store.HashToken("trips-token-two")
		now := clock.Now()

		// The first script calls load the scripts (NOSCRIPT, then EVAL);
		// the counts below are for a warm server.
		mustCommit(t, s, "warm-up", store.Delta{Create: true, IdleDeadline: now.Add(time.Hour)})
		mustCommit(t, s, "warm-up", store.Delta{Set: map[store.Key][]byte{store.SessionKey("a"): []byte("1")}})
		if err := s.Delete(ctx, "warm-up"); err != nil {
			t.Fatal(err)
		}
		// Three sessions of a principal, for the sign-ins under a limit.
		for i := range 3 {
			mustCommit(t, s, fmt.Sprint("signed-in-", i), store.Delta{Create: true, IdleDeadline: now.Add(time.Hour), SetPrincipal: true, Principal: "alice"})
		}
		s.counter.take()

		limit := store.PrincipalLimit{Max: 5}
		var tab uint32
		k := store.SessionKey("k")
		tests := []struct {
			name string
			op   func() error
			want int
		}{
			{"create", func() error {
				_, err := s.Commit(ctx, id, store.Delta{
					Create: true, IdleDeadline: now.Add(time.Hour), AbsDeadline: now.Add(24 * time.Hour),
					Set: map[store.Key][]byte{store.SessionKey("user"): []byte("alice")},
				})
				return err
			}, 1},
			{"load", func() error { _, _, err := s.Load(ctx, id); return err }, 1},
			{"load of a missing session", func() error { _, _, err := s.Load(ctx, "missing"); return err }, 1},
			{"set", func() error {
				_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{store.TabKey(0, "cart"): []byte("[1]")}})
				return err
			}, 1},
			{"set and delete with a deadline touch", func() error {
				_, err := s.Commit(ctx, id, store.Delta{
					LastSeen: now.Add(time.Minute), IdleDeadline: now.Add(time.Hour + time.Minute),
					Set:    map[store.Key][]byte{store.SessionKey("b"): []byte("2")},
					Delete: []store.Key{store.SessionKey("user")},
				})
				return err
			}, 1},
			{"set with an expectation and a time to live", func() error {
				_, err := s.Commit(ctx, id, store.Delta{
					Expect:  map[store.Key]store.Expected{k: {}},
					Set:     map[store.Key][]byte{k: []byte("1")},
					Expires: map[store.Key]time.Time{k: now.Add(time.Minute)},
				})
				return err
			}, 1},
			{"set in a session with value deadlines", func() error {
				_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{store.SessionKey("c"): []byte("3")}})
				return err
			}, 1},
			{"deadline touch", func() error {
				_, err := s.Commit(ctx, id, store.Delta{LastSeen: now.Add(2 * time.Minute), IdleDeadline: now.Add(time.Hour + 2*time.Minute)})
				return err
			}, 1},
			{"refused set", func() error {
				_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{store.TabKey(9, "x"): []byte("1")}})
				if !errors.Is(err, store.ErrNoTab) {
					return fmt.Errorf("got %v, want %v", err, store.ErrNoTab)
				}
				return nil
			}, 1},
			{"conflicting set", func() error {
				_, err := s.Commit(ctx, id, store.Delta{Expect: map[store.Key]store.Expected{k: {}}, Set: map[store.Key][]byte{k: []byte("2")}})
				if !errors.Is(err, store.ErrConflict) {
					return fmt.Errorf("got %v, want %v", err, store.ErrConflict)
				}
				return nil
			}, 1},
			// WATCH, HGETALL, MULTI/EXEC.
			{"edit meta", func() error {
				_, err := s.Commit(ctx, id, store.Delta{EditMeta: func(m *store.Meta) error {
					tab = m.NextTab
					m.Tabs[tab] = store.TabInfo{Created: now, LastSeen: now}
					return nil
				}})
				return err
			}, 3},
			{"update", func() error {
				_, err := s.Commit(ctx, id, store.Delta{Update: map[store.Key]store.UpdateFunc{k: func(old []byte, _ bool) ([]byte, error) { return append(old, '+'), nil }}})
				return err
			}, 3},
			// WATCH, HGETALL and SMEMBERS, the three others' metas,
			// MULTI/EXEC.
			{"sign-in under a limit", func() error {
				_, err := s.Commit(ctx, id, store.Delta{SetPrincipal: true, Principal: "alice", PrincipalLimit: limit})
				return err
			}, 4},
			// WATCH, HGETALL and HMGET of to, MULTI/EXEC.
			{"move", func() error { _, err := s.Move(ctx, id, to, store.Delta{}); return err }, 3},
			{"sessions of", func() error {
				refs, err := s.SessionsOf(ctx, "alice")
				if err == nil && len(refs) != 4 {
					err = fmt.Errorf("got %d sessions, want 4", len(refs))
				}
				return err
			}, 2},
			{"create signed in under a limit", func() error {
				_, err := s.Commit(ctx, "new", store.Delta{Create: true, IdleDeadline: now.Add(time.Hour), SetPrincipal: true, Principal: "alice", PrincipalLimit: limit})
				return err
			}, 4},
			// The script and ZREM, then SREM from alice's set.
			{"delete signed in", func() error { return s.Delete(ctx, to) }, 2},
			{"delete", func() error { return s.Delete(ctx, "new-anonymous") }, 1},
		}
		for _, tt := range tests {
			if err := tt.op(); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got, sent := s.counter.take()
			if cluster {
				t.Logf("%s: %d sent (per master) %v", tt.name, got, sent)
				continue
			}
			if got != tt.want {
				t.Errorf("%s: got %d round trips %v, want %d", tt.name, got, sent, tt.want)
			}
		}
	})
}

// TestLayout checks what the store leaves in Redis, which the suite
// cannot see: one hash per session under <prefix>{family}.rest (or
// <prefix>{id} for an ID without a '.'), values under their encoded keys,
// the principal and value deadlines in fields of their own, no leftovers
// of closed tabs, a set per principal, and Redis's own expiry at the
// earlier deadline plus the grace.
func TestLayout(t *testing.T) {
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	const grace = 7 * time.Minute
	s := newTestStore(t, Options{Now: clock.Now, ExpiryGrace: grace})
	ctx := t.Context()
	id := store.HashToken("layout-token")
	family, rest, _ := strings.Cut(id, ".")
	now := clock.Now()
	idle := now.Add(time.Hour + 500*time.Microsecond)
	otp := store.SessionKey("otp")
	mustCommit(t, s, id, store.Delta{
		Create: true, IdleDeadline: idle, AbsDeadline: now.Add(24 * time.Hour),
		Set:          map[store.Key][]byte{store.SessionKey("a"): []byte("1"), store.TabKey(0, "z"): []byte("zero"), otp: []byte("1234")},
		Expires:      map[store.Key]time.Time{otp: now.Add(time.Minute)},
		SetPrincipal: true, Principal: "alice",
	})
	var tab uint32
	mustCommit(t, s, id, store.Delta{EditMeta: func(m *store.Meta) error {
		tab = m.NextTab
		m.Tabs[tab] = store.TabInfo{Created: now, LastSeen: now, Label: "register"}
		return nil
	}})
	mustCommit(t, s, id, store.Delta{Set: map[store.Key][]byte{store.TabKey(tab, "cart"): []byte("[]")}})
	mustCommit(t, s, "legacy", store.Delta{Create: true})

	key := s.prefix + "{" + family + "}." + rest
	keys, err := s.client.Keys(ctx, globEscape(s.prefix)+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{key, s.prefix + "{legacy}", s.prefix + "index", s.prefix + "principal:{alice}"}; !sameStrings(keys, want) {
		t.Errorf("keys: got %q, want %q", keys, want)
	}
	fields, err := s.client.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fieldMeta, fieldVersion, fieldBytes, fieldTabBytes, fieldLastSeen, fieldIdle, fieldAbs, fieldPrincipal, fieldExpiring,
		string(store.AppendKey(nil, store.SessionKey("a"))),
		string(store.AppendKey(nil, otp)),
		string(store.AppendKey(nil, store.TabKey(0, "z"))),
		string(store.AppendKey(nil, store.TabKey(tab, "cart"))),
	}
	if got := slices.Collect(maps.Keys(fields)); !sameStrings(got, want) {
		t.Errorf("fields: got %q, want %q", got, want)
	}
	if got := fields[fieldPrincipal]; got != "alice" {
		t.Errorf("%s: got %q, want %q", fieldPrincipal, got, "alice")
	}
	if got, want := fields[fieldExpiring], formatDeadline(now.Add(time.Minute))+"0004"+string(store.AppendKey(nil, otp)); got != want {
		t.Errorf("%s: got %q, want %q", fieldExpiring, got, want)
	}
	if members, err := s.client.SMembers(ctx, s.prefix+"principal:{alice}").Result(); err != nil || !sameStrings(members, []string{id}) {
		t.Errorf("alice's set: got %q (err %v), want %q", members, err, id)
	}
	at, err := s.client.Do(ctx, "PEXPIRETIME", key).Int64()
	if err != nil {
		t.Fatal(err)
	}
	if want := idle.UnixMilli() + 1 + grace.Milliseconds(); at != want {
		t.Errorf("PEXPIRETIME: got %d, want %d (the idle deadline rounded up, plus the grace)", at, want)
	}

	// Closing the tab removes its values from the hash, not only from view.
	mustCommit(t, s, id, store.Delta{EditMeta: func(m *store.Meta) error {
		delete(m.Tabs, tab)
		return nil
	}})
	if ok, err := s.client.HExists(ctx, key, string(store.AppendKey(nil, store.TabKey(tab, "cart")))).Result(); err != nil || ok {
		t.Errorf("value of the closed tab: got present=%v (err %v), want gone", ok, err)
	}
	// A value past its deadline is reclaimed by the next commit, with its
	// deadline.
	clock.Advance(time.Minute)
	mustCommit(t, s, id, store.Delta{LastSeen: clock.Now()})
	fields, err = s.client.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fields[string(store.AppendKey(nil, otp))]; ok {
		t.Errorf("expired value: still in the hash after a commit")
	}
	if _, ok := fields[fieldExpiring]; ok {
		t.Errorf("%s: still there with no value left to expire", fieldExpiring)
	}
	// A session without deadlines does not expire in Redis either.
	mustCommit(t, s, id, store.Delta{EditMeta: func(m *store.Meta) error {
		m.IdleDeadline, m.AbsDeadline = time.Time{}, time.Time{}
		return nil
	}})
	if ttl, err := s.client.PTTL(ctx, key).Result(); err != nil || ttl != -1 {
		t.Errorf("PTTL without deadlines: got %v (err %v), want -1 (no expiry)", ttl, err)
	}
	// Signing out leaves the principal's set.
	mustCommit(t, s, id, store.Delta{SetPrincipal: true})
	if n, err := s.client.Exists(ctx, s.prefix+"principal:{alice}").Result(); err != nil || n != 0 {
		t.Errorf("alice's set after her only session left: exists=%d (err %v), want gone", n, err)
	}
}

func sameStrings(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := make(map[string]int)
	for _, s := range got {
		seen[s]++
	}
	for _, s := range want {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestOutage stops the server under a Store: calls fail with
// ErrUnavailable within the client's timeouts, and work again once the
// server is back, without a new Store.
func TestOutage(t *testing.T) {
	srv := startServer(t)
	// Shorter timeouts than Open's 2 s keep the test quick.
	s, err := Open(srv.url()+"?dial_timeout=1s&read_timeout=1s&write_timeout=1s", nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	set := store.Delta{Set: map[store.Key][]byte{store.SessionKey("a"): []byte("1")}}
	create := store.Delta{Create: true, IdleDeadline: time.Now().Add(time.Hour)}
	mustCommit(t, s, "before", create)
	mustCommit(t, s, "before", set)

	// A server that hangs, rather than refusing connections, runs into the
	// read timeout.
	srv.pause()
	start := time.Now()
	if _, _, err := s.Load(ctx, "before"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Load from a hung server: got %v, want %v", err, store.ErrUnavailable)
	}
	t.Logf("Load from a hung server failed after %v", time.Since(start))
	srv.resume()
	if _, found, err := s.Load(ctx, "before"); err != nil || !found {
		t.Fatalf("Load after the server resumed: found=%v, %v", found, err)
	}

	srv.stop()
	calls := []struct {
		name string
		call func() error
	}{
		{"Load", func() error { _, _, err := s.Load(ctx, "before"); return err }},
		{"Commit", func() error { _, err := s.Commit(ctx, "before", set); return err }},
		{"Commit with Create", func() error { _, err := s.Commit(ctx, "new", create); return err }},
		{"Commit with Update", func() error {
			_, err := s.Commit(ctx, "before", store.Delta{Update: map[store.Key]store.UpdateFunc{
				store.SessionKey("a"): func(old []byte, _ bool) ([]byte, error) { return old, nil },
			}})
			return err
		}},
		{"Delete", func() error { return s.Delete(ctx, "before") }},
		{"Sweep", func() error { _, err := s.Sweep(ctx); return err }},
		{"Stats", func() error { _, err := s.Stats(ctx); return err }},
	}
	for _, c := range calls {
		start := time.Now()
		err := c.call()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s during the outage: got %v, want %v", c.name, err, store.ErrUnavailable)
		}
		// Dial and I/O timeouts are 2 s; retries and backoff add a few.
		t.Logf("%s failed after %v", c.name, time.Since(start))
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("%s during the outage took %v, want it to give up sooner", c.name, took)
		}
	}

	srv.start()
	// The pool reconnects by itself; the first calls may still meet
	// connections that died with the old server.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := s.Commit(ctx, "after", create)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Commit after the restart: %v", err)
		}
	}
	mustCommit(t, s, "after", set)
	if _, found, err := s.Load(ctx, "after"); err != nil || !found {
		t.Fatalf("Load after the restart: found=%v, %v", found, err)
	}
}

// TestNoLostUpdateAcrossClients races read-modify-writes of one key
// through two Stores with separate connections, as two processes would.
func TestNoLostUpdateAcrossClients(t *testing.T) {
	onEachSetup(t, func(t *testing.T, url string, opts Options) {
		opts.KeyPrefix = uniquePrefix(t, url)
		var stores [2]*Store
		for i := range stores {
			s, err := Open(url, &opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			stores[i] = s
		}
		const id = "shared-counter"
		const workers, perWorker = 32, 50
		counter := store.SessionKey("n")
		mustCommit(t, stores[0], id, store.Delta{Create: true, IdleDeadline: time.Now().Add(time.Hour)})
		increment := func(old []byte, found bool) ([]byte, error) {
			n := 0
			if found {
				var err error
				if n, err = strconv.Atoi(string(old)); err != nil {
					return nil, err
				}
			}
			return strconv.AppendInt(nil, int64(n+1), 10), nil
		}
		storetest.Race(workers, func(i int) {
			s := stores[i%2]
			for range perWorker {
				if _, err := s.Commit(t.Context(), id, store.Delta{Update: map[store.Key]store.UpdateFunc{counter: increment}}); err != nil {
					t.Errorf("worker %d: %v", i, err)
					return
				}
			}
		})
		rec, found, err := stores[1].Load(t.Context(), id)
		if err != nil || !found {
			t.Fatalf("Load: found=%v, %v", found, err)
		}
		if got, want := string(rec.Values[counter]), strconv.Itoa(workers*perWorker); got != want {
			t.Errorf("counter: got %s, want %s", got, want)
		}
	})
}

// TestListAndStatsManyPages walks more sessions than one SCAN reply
// holds.
func TestListAndStatsManyPages(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
		s := newTestStoreAt(t, url, Options{Now: clock.Now})
		ctx := t.Context()
		const sessions, expiring = 500, 100
		now := clock.Now()
		var wantBytes int64
		for i := range sessions {
			idle := now.Add(time.Hour)
			if i < expiring {
				idle = now.Add(time.Minute)
			}
			m := mustCommit(t, s, fmt.Sprintf("s%03d", i), store.Delta{
				Create: true, IdleDeadline: idle,
				Set: map[store.Key][]byte{store.SessionKey("i"): []byte(strconv.Itoa(i))},
			})
			wantBytes += m.Bytes
		}
		clock.Advance(2 * time.Minute)
		s.counter.take()

		stats, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := (store.Stats{Sessions: sessions, Bytes: wantBytes, Expired: expiring}); stats != want {
			t.Errorf("Stats: got %+v, want %+v", stats, want)
		}
		if scans := s.counter.count("scan"); scans < 2 {
			t.Errorf("Stats sent %d SCANs, want several pages", scans)
		}

		seen := make(map[string]bool)
		err = s.List(ctx, func(id string, m store.Meta) bool {
			if seen[id] {
				t.Errorf("List: %q twice", id)
			}
			seen[id] = true
			if m.Bytes == 0 || m.Expired(clock.Now()) {
				t.Errorf("List: %q with meta %+v", id, m)
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != sessions-expiring {
			t.Errorf("List: saw %d sessions, want %d", len(seen), sessions-expiring)
		}

		calls := 0
		if err := s.List(ctx, func(string, store.Meta) bool { calls++; return calls < 300 }); err != nil || calls != 300 {
			t.Errorf("List stopped after 300: got %d calls, %v", calls, err)
		}

		res, err := s.Sweep(ctx)
		if err != nil || res.Sessions != expiring {
			t.Errorf("Sweep: got %+v, %v, want %d sessions", res, err, expiring)
		}
	})
}

// TestScriptCacheFlushed checks the scripts still run after the server
// lost them (a restart, SCRIPT FLUSH).
func TestScriptCacheFlushed(t *testing.T) {
	onEachSetup(t, func(t *testing.T, url string, opts Options) {
		clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
		opts.Now = clock.Now
		s := newTestStoreAt(t, url, opts)
		ctx := t.Context()
		create := store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Minute)}
		steps := []struct {
			name string
			call func() error
		}{
			{"create", func() error { _, err := s.Commit(ctx, "a", create); return err }},
			{"set", func() error {
				_, err := s.Commit(ctx, "a", store.Delta{Set: map[store.Key][]byte{store.SessionKey("k"): []byte("v")}})
				return err
			}},
			{"update", func() error {
				_, err := s.Commit(ctx, "a", store.Delta{Update: map[store.Key]store.UpdateFunc{
					store.SessionKey("k"): func(old []byte, _ bool) ([]byte, error) { return append(old, 'w'), nil },
				}})
				return err
			}},
			{"create and delete", func() error {
				if _, err := s.Commit(ctx, "b", create); err != nil {
					return err
				}
				return s.Delete(ctx, "b")
			}},
			{"sweep", func() error {
				clock.Advance(time.Hour)
				res, err := s.Sweep(ctx)
				if err == nil && res.Sessions != 1 {
					err = fmt.Errorf("swept %d sessions, want 1", res.Sessions)
				}
				return err
			}},
		}
		for _, step := range steps {
			if err := s.client.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			if err := step.call(); err != nil {
				t.Errorf("%s after SCRIPT FLUSH: %v", step.name, err)
			}
		}
	})
}

func TestMaxSessions(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
		s := newTestStoreAt(t, url, Options{Now: clock.Now, MaxSessions: 3})
		ctx := t.Context()
		create := func(id string, life time.Duration) error {
			_, err := s.Commit(ctx, id, store.Delta{Create: true, IdleDeadline: clock.Now().Add(life)})
			return err
		}
		for i, life := range []time.Duration{time.Minute, time.Hour, time.Hour} {
			if err := create(fmt.Sprint(i), life); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		if err := create("full", time.Hour); !errors.Is(err, store.ErrFull) {
			t.Fatalf("create over the quota: got %v, want %v", err, store.ErrFull)
		}
		if err := create("1", time.Hour); !errors.Is(err, store.ErrExists) {
			t.Errorf("create of a live ID over the quota: got %v, want %v", err, store.ErrExists)
		}
		// Existing sessions keep working.
		mustCommit(t, s, "1", store.Delta{Set: map[store.Key][]byte{store.SessionKey("a"): []byte("1")}})
		// A deleted or expired session makes room.
		if err := s.Delete(ctx, "2"); err != nil {
			t.Fatal(err)
		}
		if err := create("room", time.Hour); err != nil {
			t.Fatalf("create after a delete: %v", err)
		}
		clock.Advance(2 * time.Minute)
		if err := create("after-expiry", time.Hour); err != nil {
			t.Fatalf("create after an expiry: %v", err)
		}
		if err := create("full-again", time.Hour); !errors.Is(err, store.ErrFull) {
			t.Fatalf("create over the quota: got %v, want %v", err, store.ErrFull)
		}
	})
}

func TestMaxSessionBytes(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		s := newTestStoreAt(t, url, Options{MaxSessionBytes: 10})
		set := func(d store.Delta, v string) store.Delta {
			d.Set = map[store.Key][]byte{store.SessionKey("k"): []byte(v)}
			return d
		}
		tests := []struct {
			name string
			id   string
			d    store.Delta
			want error
		}{
			{"create over the store's limit", "a", set(store.Delta{Create: true}, "1234567890"), store.ErrTooLarge},
			{"create under the limit", "a", set(store.Delta{Create: true}, "1234"), nil},
			{"set over the limit", "a", set(store.Delta{}, "1234567890"), store.ErrTooLarge},
			{"a looser delta limit does not lift it", "a", set(store.Delta{MaxBytes: 100}, "1234567890"), store.ErrTooLarge},
			{"a tighter delta limit applies", "a", set(store.Delta{MaxBytes: 5}, "12345"), store.ErrTooLarge},
			{"update over the limit", "a", store.Delta{Update: map[store.Key]store.UpdateFunc{
				store.SessionKey("k"): func(old []byte, _ bool) ([]byte, error) { return append(old, "678901"...), nil },
			}}, store.ErrTooLarge},
			{"set at the limit", "a", set(store.Delta{}, "123456789"), nil},
		}
		for _, tt := range tests {
			_, err := s.Commit(t.Context(), tt.id, tt.d)
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			}
		}
	})
}

func TestCorruptRecord(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		s := newTestStoreAt(t, url, Options{})
		ctx := t.Context()
		tests := []struct {
			name   string
			fields []any
		}{
			{"no meta", []any{"sa", "1"}},
			{"bad blob", []any{fieldMeta, "x", fieldVersion, "1", fieldBytes, "0"}},
			{"bad key", []any{fieldMeta, string(store.AppendMeta(nil, &store.Meta{NextTab: 1})), fieldVersion, "1", fieldBytes, "0", "q", "1"}},
			{"bad tab bytes", []any{fieldMeta, string(store.AppendMeta(nil, &store.Meta{NextTab: 1})), fieldVersion, "1", fieldBytes, "0", fieldTabBytes, "x"}},
			// A length that would walk the script's parser backwards.
			{"bad value deadlines", []any{fieldMeta, string(store.AppendMeta(nil, &store.Meta{NextTab: 1})), fieldVersion, "1", fieldBytes, "0", fieldExpiring, "9999999999999999999-999sx"}},
			{"truncated value deadlines", []any{fieldMeta, string(store.AppendMeta(nil, &store.Meta{NextTab: 1})), fieldVersion, "1", fieldBytes, "0", fieldExpiring, "99999999999999999990009sx"}},
			{"short value deadlines", []any{fieldMeta, string(store.AppendMeta(nil, &store.Meta{NextTab: 1})), fieldVersion, "1", fieldBytes, "0", fieldExpiring, "99999"}},
		}
		for i, tt := range tests {
			id := strconv.Itoa(i)
			if err := s.client.HSet(ctx, s.key(id), tt.fields...).Err(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Load(ctx, id); !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("%s: Load got %v, want %v", tt.name, err, store.ErrCorrupt)
			}
			if strings.HasSuffix(tt.name, "value deadlines") {
				_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{store.SessionKey("a"): []byte("1")}})
				if !errors.Is(err, store.ErrCorrupt) {
					t.Errorf("%s: Commit got %v, want %v", tt.name, err, store.ErrCorrupt)
				}
			}
		}
	})
}

func TestNewAndOpenRefuse(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	if _, err := New(nil, nil); err == nil {
		t.Error("New(nil): got nil error")
	}
	for _, prefix := range []string{"a{", "}"} {
		if _, err := New(client, &Options{KeyPrefix: prefix}); err == nil {
			t.Errorf("New with prefix %q: got nil error", prefix)
		}
	}
	if _, err := New(client, &Options{MaxSessions: -1}); err == nil {
		t.Error("New with MaxSessions -1: got nil error")
	}
	if _, err := Open("http://localhost", nil); err == nil {
		t.Error("Open of an http URL: got nil error")
	}
	// Port 1 refuses connections on loopback.
	if _, err := Open("redis://127.0.0.1:1/0?max_retries=-1", nil); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open of a closed port: got %v, want %v", err, store.ErrUnavailable)
	}
}

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		name string
		opts *Options
		want Options
	}{
		{"nil", nil, DefaultOptions},
		{"zero", &Options{}, DefaultOptions},
		{"set", &Options{KeyPrefix: "x:", MaxRetries: 5, MaxSessions: 7, SweepInterval: -1, ExpiryGrace: -1},
			Options{KeyPrefix: "x:", MaxRetries: 5, MaxSessions: 7, WaitTimeout: time.Second, SweepInterval: -1, ExpiryGrace: -1}},
	}
	for _, tt := range tests {
		got := tt.opts.withDefaults()
		if got.KeyPrefix != tt.want.KeyPrefix || got.MaxRetries != tt.want.MaxRetries || got.MaxSessions != tt.want.MaxSessions ||
			got.WaitTimeout != tt.want.WaitTimeout || got.SweepInterval != tt.want.SweepInterval || got.ExpiryGrace != tt.want.ExpiryGrace {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestDeadlineStrings(t *testing.T) {
	tests := []struct {
		t        time.Time
		want     string
		wantMS   int64
		wantBack time.Time
	}{
		{time.Unix(1700000000, 123456789), "1700000000123456789", 1700000000124, time.Unix(1700000000, 123456789)},
		{time.Unix(1700000000, 5_000_000), "1700000000005000000", 1700000000005, time.Unix(1700000000, 5_000_000)},
		{time.Unix(3, 0), "0000000003000000000", 3000, time.Unix(3, 0)},
		{time.Unix(-5, 0), "0000000000000000001", 1, time.Unix(0, 1)},
	}
	for _, tt := range tests {
		got := formatDeadline(tt.t)
		if got != tt.want || len(got) != 19 {
			t.Errorf("formatDeadline(%v): got %q, want %q", tt.t, got, tt.want)
		}
		if ms := expireAtMillis(tt.t); ms != tt.wantMS {
			t.Errorf("expireAtMillis(%v): got %d, want %d", tt.t, ms, tt.wantMS)
		}
		if back, err := parseTime(got); err != nil || !back.Equal(tt.wantBack) {
			t.Errorf("parseTime(%q): got %v, %v, want %v", got, back, err, tt.wantBack)
		}
	}
}

func TestTabBytes(t *testing.T) {
	tabs := map[uint32]store.TabInfo{0: {Bytes: 3}, 12: {Bytes: 0}, 4294967295: {Bytes: 1 << 40}}
	s := formatTabBytes(tabs)
	if want := "0=3;12=0;4294967295=1099511627776"; s != want {
		t.Errorf("formatTabBytes: got %q, want %q", s, want)
	}
	got, err := parseTabBytes(s)
	if err != nil || len(got) != 3 || got[4294967295] != 1<<40 || got[12] != 0 {
		t.Errorf("parseTabBytes(%q): got %v, %v", s, got, err)
	}
	for _, bad := range []string{"x", "1=", "=1", "1=2;", "4294967296=1"} {
		if _, err := parseTabBytes(bad); err == nil {
			t.Errorf("parseTabBytes(%q): got nil error", bad)
		}
	}
}

func TestIsUnavailable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("read: %w", io.EOF), true},
		{syscall.ECONNRESET, true},
		{redis.ErrPoolTimeout, true},
		{context.DeadlineExceeded, true},
		{errors.New("LOADING Redis is loading the dataset in memory"), true},
		{errors.New("OOM command not allowed when used memory > 'maxmemory'."), true},
		{errors.New("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{redisError("MOVED 3999 127.0.0.1:7391"), true},
		{redisError("ASK 3999 127.0.0.1:7391"), true},
		{redisError("CLUSTERDOWN The cluster is down"), true},
		{redisError("ASKEW not a redirect"), false},
		{context.Canceled, false},
		{redis.Nil, false},
	}
	for _, tt := range tests {
		if got := isUnavailable(tt.err); got != tt.want {
			t.Errorf("isUnavailable(%v): got %v, want %v", tt.err, got, tt.want)
		}
	}
}

// redisError is an error reply as the client reports it.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

func TestGlobEscape(t *testing.T) {
	if got, want := globEscape(`a*b?c[d]e\f:`), `a\*b\?c\[d\]e\\f:`; got != want {
		t.Errorf("globEscape: got %q, want %q", got, want)
	}
}

// TestHighTabNumber checks the script's arithmetic on the largest tab
// numbers, which it decodes from four bytes.
func TestHighTabNumber(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		s := newTestStoreAt(t, url, Options{})
		const id, tab = "high", uint32(1<<32 - 2)
		mustCommit(t, s, id, store.Delta{Create: true})
		mustCommit(t, s, id, store.Delta{EditMeta: func(m *store.Meta) error {
			m.Tabs[tab] = store.TabInfo{Label: "last"}
			return nil
		}})
		m := mustCommit(t, s, id, store.Delta{Set: map[store.Key][]byte{store.TabKey(tab, "cart"): []byte("12345")}})
		if got := m.Tabs[tab].Bytes; got != 9 {
			t.Errorf("Tabs[%d].Bytes: got %d, want 9", tab, got)
		}
		if m.NextTab != tab+1 {
			t.Errorf("NextTab: got %d, want %d", m.NextTab, tab+1)
		}
		rec, _, err := s.Load(t.Context(), id)
		if err != nil || string(rec.Values[store.TabKey(tab, "cart")]) != "12345" || rec.Meta.Tabs[tab].Label != "last" {
			t.Errorf("Load: got %+v, %v", rec, err)
		}
	})
}

// TestConflictRetries changes the session from another client between a
// transaction's read and its write: the transaction starts over and keeps
// the other write, and gives up after MaxRetries.
func TestConflictRetries(t *testing.T) {
	onEachSetup(t, func(t *testing.T, url string, opts Options) {
		opts.MaxRetries = 2
		s := newTestStoreAt(t, url, opts)
		opts.KeyPrefix = s.prefix
		other := newTestStoreAt(t, url, opts)
		ctx := t.Context()
		const id = "conflict"
		mustCommit(t, s, id, store.Delta{Create: true})

		calls := 0
		interfere := func(times int) store.UpdateFunc {
			return func(old []byte, _ bool) ([]byte, error) {
				calls++
				if calls <= times {
					mustCommit(t, other, id, store.Delta{Set: map[store.Key][]byte{
						store.SessionKey(fmt.Sprint("other", calls)): []byte("x"),
					}})
				}
				return append(old, '+'), nil
			}
		}
		key := store.SessionKey("mine")
		if _, err := s.Commit(ctx, id, store.Delta{Update: map[store.Key]store.UpdateFunc{key: interfere(1)}}); err != nil {
			t.Fatalf("Commit with one conflict: %v", err)
		}
		if calls != 2 {
			t.Errorf("Update calls with one conflict: got %d, want 2", calls)
		}
		rec, _, err := s.Load(ctx, id)
		if err != nil || string(rec.Values[key]) != "+" || rec.Values[store.SessionKey("other1")] == nil {
			t.Fatalf("after the retried commit: got %v, %v, want mine=+ and other1 kept", rec.Values, err)
		}

		calls = 0
		_, err = s.Commit(ctx, id, store.Delta{Update: map[store.Key]store.UpdateFunc{key: interfere(100)}})
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Commit conflicting every time: got %v, want %v", err, store.ErrUnavailable)
		}
		if calls != 3 {
			t.Errorf("Update calls with MaxRetries 2: got %d, want 3", calls)
		}
		if rec, _, _ := s.Load(ctx, id); string(rec.Values[key]) != "+" {
			t.Errorf("after the failed commit: mine=%q, want + (unchanged)", rec.Values[key])
		}
	})
}

func TestMaxSessionsHoldsUnderConcurrentCreates(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		s := newTestStoreAt(t, url, Options{MaxSessions: 5})
		ctx := t.Context()
		var created, full atomic.Int64
		var wg sync.WaitGroup
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Commit(ctx, fmt.Sprint("c", i), store.Delta{Create: true, IdleDeadline: time.Now().Add(time.Hour)})
				switch {
				case err == nil:
					created.Add(1)
				case errors.Is(err, store.ErrFull):
					full.Add(1)
				default:
					t.Errorf("create %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if created.Load() != 5 || full.Load() != 27 {
			t.Errorf("32 concurrent creates under a quota of 5: got %d created and %d refused, want 5 and 27", created.Load(), full.Load())
		}
	})
}

func TestSessionKeys(t *testing.T) {
	s := &Store{prefix: "p:"}
	hashed := store.HashToken("a-token")
	family, _, _ := strings.Cut(hashed, ".")
	tests := []struct {
		id, key, tag string
	}{
		{hashed, "p:{" + family + "}." + hashed[len(family)+1:], family},
		{"fam.rest", "p:{fam}.rest", "fam"},
		{"fam.re.st", "p:{fam}.re.st", "fam"},
		{"a", "p:{a}", "a"},
		{"kT3-_q", "p:{kT3-_q}", "kT3-_q"},
		{"a}b", "p:{a}b}", "a"},
		{"{x", "p:{{x}", "{x"},
		{"x{y}z", "p:{x{y}z}", "x{y"},
		{"a}b.c", "p:{a}b}.c", "a"},
		{".x", "p:{}.x", "p:{}.x"},
		{"x{y.z", "p:{x{y}.z", "x{y"},
	}
	for _, tt := range tests {
		key := s.key(tt.id)
		if key != tt.key {
			t.Errorf("key(%q): got %q, want %q", tt.id, key, tt.key)
		}
		if got, ok := s.idOfKey(key); !ok || got != tt.id {
			t.Errorf("idOfKey(%q): got %q, %v, want %q", key, got, ok, tt.id)
		}
		if got := keyTag(key); got != tt.tag {
			t.Errorf("keyTag(%q): got %q, want %q", key, got, tt.tag)
		}
	}
	// A session and the ID it moves to share the family, so the tag.
	a, b := store.HashToken("same6-first"), store.HashToken("same6-second")
	if keyTag(s.key(a)) != keyTag(s.key(b)) {
		t.Errorf("keys of %q and %q: different tags, want one slot", a, b)
	}
	for _, key := range []string{"p:index", "p:{}", "p:{a", "q:{a}", "p:{", "p:principal:{a}", "p:{a.b}", "p:{.x"} {
		if id, ok := s.idOfKey(key); ok {
			t.Errorf("idOfKey(%q): got session %q, want none", key, id)
		}
	}
}
