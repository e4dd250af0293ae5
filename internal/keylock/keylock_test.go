package keylock

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func TestLocks(t *testing.T) {
	var l Locks
	unlock, err := l.Lock(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another session is not held up.
	unlockB, err := l.Lock(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	// A waiter gives up with its context.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Lock(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("lock of a held session with a cancelled context: got %v, want %v", err, context.Canceled)
	}
	unlock()
	var wg sync.WaitGroup
	n := 0
	for range 8 {
		wg.Go(func() {
			unlock, err := l.Lock(t.Context(), "a")
			if err != nil {
				t.Error(err)
				return
			}
			n++
			unlock()
		})
	}
	wg.Wait()
	if n != 8 {
		t.Errorf("counted %d under the lock, want 8", n)
	}
	if l.InUse() != 0 {
		t.Errorf("locks left after release: %d", l.InUse())
	}
}
