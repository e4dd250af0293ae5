package storetest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

func TestClock(t *testing.T) {
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	c := storetest.NewClock(start)
	var now store.Clock = c.Now // the shape stores take
	if got := now.Now(); !got.Equal(start) {
		t.Fatalf("Now: got %v, want %v", got, start)
	}
	c.Advance(90 * time.Minute)
	if got, want := c.Now(), start.Add(90*time.Minute); !got.Equal(want) {
		t.Fatalf("Now after Advance: got %v, want %v", got, want)
	}
	later := start.Add(48 * time.Hour)
	c.Set(later)
	if got := c.Now(); !got.Equal(later) {
		t.Fatalf("Now after Set: got %v, want %v", got, later)
	}

	// Concurrent use is safe (checked by -race) and loses no Advance.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), later.Add(800*time.Second); !got.Equal(want) {
		t.Errorf("Now after concurrent Advance: got %v, want %v", got, want)
	}
}
