package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// recorder collects a Notifier's events as "kind id principal".
type recorder struct {
	// mu guards got.
	mu  sync.Mutex
	got []string
}

func record(s store.Notifier) *recorder {
	r := &recorder{}
	s.Subscribe(func(e store.Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, fmt.Sprintf("%v %s %s", e.Kind, e.ID, e.Principal))
	})
	return r
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	slices.Sort(got)
	return got
}

// TestSweepBatches sweeps ten expired sessions in batches of three: four
// statements, each its own transaction, every expired session reported
// with its principal, the live ones kept, and the counter right.
func TestSweepBatches(t *testing.T) {
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	s := newTestStore(t, Options{Now: clock.Now, SweepBatch: 3}, 0)
	events := record(s)
	now := clock.Now()
	var want []string
	var wantBytes int64
	for i := range 10 {
		id := fmt.Sprintf("expiring-%02d", i)
		principal := ""
		if i%2 == 0 {
			principal = fmt.Sprintf("user%d", i)
		}
		m := mustCommit(t, s, id, store.Delta{
			Create: true, IdleDeadline: now.Add(time.Duration(i+1) * time.Minute),
			Set:          map[store.Key][]byte{store.SessionKey("v"): []byte(strings.Repeat("x", i))},
			SetPrincipal: principal != "", Principal: principal,
		})
		want = append(want, strings.TrimSpace(fmt.Sprintf("expired %s %s", id, principal)))
		wantBytes += m.Bytes
	}
	mustCommit(t, s, "forever", store.Delta{Create: true})
	mustCommit(t, s, "later", store.Delta{Create: true, IdleDeadline: now.Add(time.Hour)})
	clock.Advance(10 * time.Minute)
	s.trips.take()

	res, err := s.Sweep(t.Context())
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if want := (store.SweepResult{Sessions: 10, Bytes: wantBytes}); res != want {
		t.Errorf("Sweep: got %+v, want %+v", res, want)
	}
	_, statements := s.trips.take()
	// One for the moved table, then one per batch.
	if len(statements) != 5 {
		t.Errorf("Sweep of 10 in batches of 3: got %d statements %q, want 5", len(statements), statements)
	}
	got := events.take()
	for i := range got {
		got[i] = strings.TrimSpace(got[i])
	}
	if !slices.Equal(got, want) {
		t.Errorf("events: got %q, want %q", got, want)
	}
	for _, id := range []string{"forever", "later"} {
		if _, found, err := s.Load(t.Context(), id); err != nil || !found {
			t.Errorf("Load(%q) after Sweep: got found=%v, %v, want it kept", id, found, err)
		}
	}
	if n := queryInt(t, s.url, "SELECT count(*) FROM "+s.prefix+"values"); n != 0 {
		t.Errorf("value rows after Sweep: got %d, want 0 (the swept sessions' went with them)", n)
	}
	if n := queryInt(t, s.url, "SELECT sessions FROM "+s.prefix+"counts"); n != 2 {
		t.Errorf("session counter after Sweep: got %d, want 2", n)
	}
}

// TestSweepSkipsLockedRows holds an expired session's row locked, as a
// commit re-creating it would: Sweep leaves that one to it, sweeps the
// rest without waiting, and the next Sweep takes it.
func TestSweepSkipsLockedRows(t *testing.T) {
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	s := newTestStore(t, Options{Now: clock.Now}, 0)
	for _, id := range []string{"a", "b", "c"} {
		mustCommit(t, s, id, store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Minute)})
	}
	clock.Advance(time.Hour)

	conn, err := pgx.Connect(t.Context(), s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "SELECT 1 FROM "+s.prefix+"sessions WHERE id = $1 FOR UPDATE", []byte("b")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	res, err := s.Sweep(ctx)
	if err != nil || res.Sessions != 2 {
		t.Errorf("Sweep with b locked: got %+v, %v, want 2 sessions, nil", res, err)
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err = s.Sweep(ctx)
	if err != nil || res.Sessions != 1 {
		t.Errorf("Sweep once b is free: got %+v, %v, want 1 session, nil", res, err)
	}
}

// TestBackgroundSweeper lets the store's own goroutine sweep, then checks
// that Close stops it, twice without harm.
func TestBackgroundSweeper(t *testing.T) {
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	s := newTestStore(t, Options{Now: clock.Now, SweepInterval: 5 * time.Millisecond}, 0)
	events := record(s)
	mustCommit(t, s, "short", store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Minute), SetPrincipal: true, Principal: "ann"})
	mustCommit(t, s, "long", store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Hour)})
	clock.Advance(30 * time.Minute)

	// The sweeper runs against a real server: wait for it, with a limit.
	// Another connection sees the batch's delete as soon as it commits,
	// a moment before the sweeper goroutine has read the rows and
	// reported them, so wait for the event rather than the count.
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for {
		got = append(got, events.take()...)
		if len(got) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !slices.Equal(got, []string{"expired short ann"}) {
		t.Fatalf("events: got %q, want the swept session", got)
	}
	if st, err := s.Stats(t.Context()); err != nil || st.Sessions != 1 {
		t.Errorf("after the background sweep: %d sessions stored, %v, want 1, nil", st.Sessions, err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if _, err := s.Sweep(t.Context()); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Sweep after Close: got %v, want %v", err, store.ErrClosed)
	}
}
