package boltstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// listener records what a store reports to its subscribers.
type listener struct {
	// mu guards events.
	mu     sync.Mutex
	events []store.Event
}

func listen(t *testing.T, s *Store) *listener {
	l := &listener{}
	t.Cleanup(s.Subscribe(func(e store.Event) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.events = append(l.events, e)
	}))
	return l
}

// take returns what was reported so far as sorted "kind id principal"
// lines, and forgets it.
func (l *listener) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var got []string
	for _, e := range l.events {
		got = append(got, fmt.Sprintf("%v %s %s", e.Kind, e.ID, e.Principal))
	}
	l.events = nil
	slices.Sort(got)
	return got
}

func (l *listener) want(t *testing.T, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := l.take(); !slices.Equal(got, want) {
		t.Errorf("events: got %q, want %q", got, want)
	}
}

// signIn creates session id with principal p, seen now.
func signIn(t *testing.T, s *Store, id, p string, limit store.PrincipalLimit) error {
	t.Helper()
	now := s.opts.Now.Now()
	_, err := s.Commit(context.Background(), id, store.Delta{
		Create: true, LastSeen: now, IdleDeadline: now.Add(time.Hour),
		SetPrincipal: true, Principal: p, PrincipalLimit: limit,
	})
	return err
}

func TestEventExpiredFromSweep(t *testing.T) {
	s, clock := openTest(t, nil)
	l := listen(t, s)
	if err := signIn(t, s, "a", "ana", store.PrincipalLimit{}); err != nil {
		t.Fatal(err)
	}
	create(t, s, "b", nil)
	create(t, s, "c", nil)
	if _, err := s.Commit(context.Background(), "c", store.Delta{IdleDeadline: clock.Now().Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := s.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	for _, e := range l.events {
		if !e.At.Equal(clock.Now()) {
			t.Errorf("event At: got %v, want the store's now %v", e.At, clock.Now())
		}
	}
	l.mu.Unlock()
	l.want(t, "expired a ana", "expired b ")
}

func TestEventExpiredFromBackgroundSweeper(t *testing.T) {
	s, clock := openTest(t, &Options{SweepInterval: time.Millisecond})
	got := make(chan store.Event, 1)
	t.Cleanup(s.Subscribe(func(e store.Event) { got <- e }))
	if err := signIn(t, s, "a", "ana", store.PrincipalLimit{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	select {
	case e := <-got:
		if e.Kind != store.EventExpired || e.ID != "a" || e.Principal != "ana" {
			t.Errorf("event: got %+v, want a expired", e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the background sweeper reported nothing")
	}
}

// TestEventEvictedByQuota covers the store-wide quotas with EvictLRU:
// whether sessions or bytes run out, every session evicted is reported
// with its principal.
func TestEventEvictedByQuota(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"MaxSessions", Options{MaxSessions: 2, WhenFull: EvictLRU}, []string{"evicted a ana"}},
		{"MaxBytes", Options{MaxBytes: 25, WhenFull: EvictLRU}, []string{"evicted a ana", "evicted b bo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := openTest(t, &tt.opts)
			l := listen(t, s)
			for _, id := range []string{"a", "b"} {
				p := map[string]string{"a": "ana", "b": "bo"}[id]
				if err := signIn(t, s, id, p, store.PrincipalLimit{}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Commit(context.Background(), id, setDelta(store.SessionKey("k"), "0123456789")); err != nil {
					t.Fatal(err)
				}
				clock.Advance(time.Minute)
			}
			d := setDelta(store.SessionKey("k"), "0123456789abcdefghij")
			d.Create = true
			if _, err := s.Commit(context.Background(), "c", d); err != nil {
				t.Fatalf("Commit that needs room: got %v, want nil", err)
			}
			l.want(t, tt.want...)
		})
	}
}

func TestEventEvictedByPrincipalLimit(t *testing.T) {
	s, clock := openTest(t, nil)
	l := listen(t, s)
	limit := store.PrincipalLimit{Max: 1, EvictOldest: true}
	for _, id := range []string{"a", "b", "c"} {
		if err := signIn(t, s, id, "ana", limit); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	l.want(t, "evicted a ana", "evicted b ana")
	if got := load(t, s, "c"); got == nil {
		t.Error("the last sign-in: got no session, want it kept")
	}
}

// TestEventExpiredOnTheWay: an expired record that a commit or a move
// replaces is reported too; no caller knew of it.
func TestEventExpiredOnTheWay(t *testing.T) {
	tests := []struct {
		name string
		do   func(t *testing.T, s *Store) error
	}{
		{"create over it", func(_ *testing.T, s *Store) error {
			_, err := s.Commit(context.Background(), "old", store.Delta{Create: true})
			return err
		}},
		{"move onto it", func(t *testing.T, s *Store) error {
			create(t, s, "from", nil)
			_, err := s.Move(context.Background(), "from", "old", store.Delta{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := openTest(t, nil)
			l := listen(t, s)
			if err := signIn(t, s, "old", "ana", store.PrincipalLimit{}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(2 * time.Hour)
			if err := tt.do(t, s); err != nil {
				t.Fatal(err)
			}
			l.want(t, "expired old ana")
		})
	}
}

// TestEventsOnlyForCommitted: a quota that refuses after reclaiming
// expired sessions fails the only op of its round, whose transaction is
// then rolled back. The reclaimed sessions are back; nothing may be
// reported about them.
func TestEventsOnlyForCommitted(t *testing.T) {
	s, clock := openTest(t, &Options{MaxBytes: 30})
	l := listen(t, s)
	create(t, s, "short", map[string]string{"k": "0123456789"})
	if _, err := s.Commit(context.Background(), "long", store.Delta{
		Create: true, IdleDeadline: clock.Now().Add(3 * time.Hour),
		Set: map[store.Key][]byte{store.SessionKey("k"): []byte("0123456789")},
	}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	d := setDelta(store.SessionKey("k"), "0123456789abcdefghij")
	d.Create = true
	if _, err := s.Commit(context.Background(), "big", d); err == nil {
		t.Fatal("Commit beyond MaxBytes: got nil, want ErrFull")
	}
	l.want(t)
	if st, err := s.Stats(context.Background()); err != nil || st.Expired != 1 {
		t.Errorf("Stats: got %+v, %v, want the expired session still there", st, err)
	}
	// When the reclaim makes room, the commit lands and the expired
	// session is reported.
	if _, err := s.Commit(context.Background(), "fits", store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("k"): []byte("0123456789")}}); err != nil {
		t.Fatal(err)
	}
	l.want(t, "expired short ")
}

// TestSubscriberMayCallTheStore: events are sent once the call that made
// them has let go of the store. Had a commit's events been sent by the
// round's leader, the subscriber's own Commit would wait for a round that
// cannot start before the subscriber returns.
func TestSubscriberMayCallTheStore(t *testing.T) {
	s, clock := openTest(t, nil)
	ctx := context.Background()
	var calls []error
	t.Cleanup(s.Subscribe(func(e store.Event) {
		_, err := s.Commit(ctx, "audit", store.Delta{Update: map[store.Key]store.UpdateFunc{
			store.SessionKey(e.ID): func([]byte, bool) ([]byte, error) { return []byte(e.Kind.String()), nil },
		}})
		_, _, lerr := s.Load(ctx, "audit")
		calls = append(calls, err, lerr)
	}))
	create(t, s, "audit", nil)
	if _, err := s.Commit(ctx, "audit", store.Delta{IdleDeadline: clock.Now().Add(5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	limit := store.PrincipalLimit{Max: 1, EvictOldest: true}
	for _, id := range []string{"a", "b"} {
		if err := signIn(t, s, id, "ana", limit); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Hour)
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	got := load(t, s, "audit")
	if got["a"] != "evicted" || got["b"] != "expired" {
		t.Errorf("what the subscriber wrote: got %v, want a=evicted b=expired", got)
	}
	for _, err := range calls {
		if err != nil {
			t.Errorf("subscriber's call: got %v, want nil", err)
		}
	}
}

func TestSubscribeCancel(t *testing.T) {
	s, clock := openTest(t, nil)
	var n int
	cancel := s.Subscribe(func(store.Event) { n++ })
	create(t, s, "a", nil)
	cancel()
	cancel() // idempotent
	clock.Advance(2 * time.Hour)
	if res, err := s.Sweep(context.Background()); err != nil || res.Sessions != 1 {
		t.Fatalf("Sweep: got %+v, %v", res, err)
	}
	if n != 0 {
		t.Errorf("events after cancel: got %d, want 0", n)
	}
}
