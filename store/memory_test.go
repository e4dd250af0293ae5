package store_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now store.Clock) store.Store {
		return store.NewMemoryWith(store.MemoryOptions{Now: now, SweepInterval: -1})
	})
}

func TestNewMemory(t *testing.T) {
	m := store.NewMemory()
	defer m.Close()
	ctx := t.Context()
	if _, err := m.Commit(ctx, "id", store.Delta{
		Create:       true,
		IdleDeadline: time.Now().Add(time.Hour),
		Set:          map[store.Key][]byte{store.SessionKey("a"): []byte("1")},
	}); err != nil {
		t.Fatalf("Commit: got %v, want nil", err)
	}
	rec, found, err := m.Load(ctx, "id")
	if err != nil || !found || string(rec.Values[store.SessionKey("a")]) != "1" {
		t.Fatalf("Load: got %v, %v, %v, want the value committed", rec.Values, found, err)
	}
}

// TestMemorySweeper runs the background sweeper for real and checks it
// removes what expired, then stops on Close. It waits for the sweeper's
// call to the clock instead of sleeping.
func TestMemorySweeper(t *testing.T) {
	clock := storetest.NewClock(time.Now())
	var armed atomic.Bool
	swept := make(chan struct{}, 1)
	now := func() time.Time {
		t := clock.Now()
		if armed.Load() {
			select {
			case swept <- struct{}{}:
			default:
			}
		}
		return t
	}
	m := store.NewMemoryWith(store.MemoryOptions{Now: now, SweepInterval: time.Millisecond})
	ctx := t.Context()
	if _, err := m.Commit(ctx, "id", store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Minute)}); err != nil {
		t.Fatalf("Commit: got %v, want nil", err)
	}
	clock.Advance(time.Minute)
	// From here only the sweeper reads the clock, so a signal means it is
	// inside Sweep, holding the lock Stats waits for.
	armed.Store(true)
	<-swept
	armed.Store(false)
	stats, err := m.Stats(ctx)
	if err != nil || stats.Sessions != 0 {
		t.Errorf("Stats after the sweeper ran: got %+v, %v, want no sessions", stats, err)
	}
	// Close waits for the sweeper goroutine to return; a leak would hang
	// here until the test binary's timeout.
	if err := m.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}
	if _, err := m.Sweep(ctx); err != store.ErrClosed {
		t.Errorf("Sweep after Close: got %v, want %v", err, store.ErrClosed)
	}
}

// TestMemorySweepAfterManyTouches moves deadlines often enough to leave
// many stale entries in the expiry queue and to make it compact, and
// checks that a sweep still counts each expired session once.
func TestMemorySweepAfterManyTouches(t *testing.T) {
	clock := storetest.NewClock(time.Now())
	m := store.NewMemoryWith(store.MemoryOptions{Now: clock.Now, SweepInterval: -1})
	defer m.Close()
	ctx := t.Context()
	const sessions, touches = 10, 50
	ids := make([]string, sessions)
	for i := range ids {
		ids[i] = string(rune('a' + i))
		if _, err := m.Commit(ctx, ids[i], store.Delta{
			Create:       true,
			IdleDeadline: clock.Now().Add(time.Minute),
			Set:          map[store.Key][]byte{store.SessionKey("k"): []byte("v")},
		}); err != nil {
			t.Fatalf("Commit: got %v, want nil", err)
		}
	}
	for range touches {
		clock.Advance(time.Second)
		for _, id := range ids {
			if _, err := m.Commit(ctx, id, store.Delta{IdleDeadline: clock.Now().Add(time.Minute)}); err != nil {
				t.Fatalf("Commit: got %v, want nil", err)
			}
		}
		// Touched sessions are never swept.
		if res, err := m.Sweep(ctx); err != nil || res.Sessions != 0 {
			t.Fatalf("Sweep while sessions are touched: got %+v, %v, want none removed", res, err)
		}
	}
	clock.Advance(time.Minute)
	res, err := m.Sweep(ctx)
	if want := (store.SweepResult{Sessions: sessions, Bytes: sessions * 2}); err != nil || res != want {
		t.Errorf("Sweep: got %+v, %v, want %+v, nil", res, err, want)
	}
}
