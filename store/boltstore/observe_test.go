package boltstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// recorder collects a store's events.
type recorder struct {
	// mu guards events.
	mu     sync.Mutex
	events []Event
}

func (r *recorder) observe(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) of(kind EventKind) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestObserveRoundsAndSweeps(t *testing.T) {
	rec := &recorder{}
	s, clock := openTest(t, &Options{Observe: rec.observe})
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d := store.Delta{Create: true, IdleDeadline: clock.Now().Add(time.Hour)}
			if _, err := s.Commit(ctx, fmt.Sprintf("s%02d", i), d); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ops := 0
	for _, e := range rec.of(EventRound) {
		if e.Ops < 1 || e.Err != nil {
			t.Errorf("round event %+v", e)
		}
		ops += e.Ops
	}
	if ops != n {
		t.Errorf("rounds carried %d ops, want %d", ops, n)
	}

	clock.Advance(2 * time.Hour)
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	sweeps := rec.of(EventSweep)
	if len(sweeps) != 1 || sweeps[0].Sessions != n || sweeps[0].Err != nil {
		t.Errorf("sweep events %+v, want one that removed %d sessions", sweeps, n)
	}
}
