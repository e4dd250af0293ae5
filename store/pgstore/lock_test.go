package pgstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// TestHotSessionLeavesPoolFree holds a commit of one session in the
// middle of its transaction while 32 more commits of that session queue
// behind it, on a pool of 4 connections: a commit of another session
// still goes through, since the queue waits in the store, not on pooled
// connections.
func TestHotSessionLeavesPoolFree(t *testing.T) {
	s := newTestStore(t, Options{}, 4)
	ctx := t.Context()
	mustCommit(t, s, "hot", store.Delta{Create: true})
	mustCommit(t, s, "other", store.Delta{Create: true})

	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	n := store.SessionKey("n")
	var wg sync.WaitGroup
	const queued = 32
	for i := range queued + 1 {
		wg.Go(func() {
			_, err := s.Commit(ctx, "hot", store.Delta{Update: map[store.Key]store.UpdateFunc{n: func(old []byte, found bool) ([]byte, error) {
				once.Do(func() { close(inside) })
				<-release
				return increment(old, found)
			}}})
			if err != nil {
				t.Errorf("commit %d of the hot session: %v", i, err)
			}
		})
	}
	<-inside
	// Wait until all the others wait for their turn.
	deadline := time.Now().Add(10 * time.Second)
	for {
		waiting := s.locks.Waiting("hot")
		if waiting == queued+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d commits of the hot session waiting, want %d", waiting, queued+1)
		}
		time.Sleep(time.Millisecond)
	}
	quick, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.Commit(quick, "other", store.Delta{Set: map[store.Key][]byte{n: []byte("1")}}); err != nil {
		t.Errorf("commit of another session while the hot one's queue waits: %v", err)
	}
	close(release)
	wg.Wait()
	rec, _, err := s.Load(ctx, "hot")
	if got := string(rec.Values[n]); err != nil || got != "33" {
		t.Errorf("hot counter: got %q, %v, want 33", got, err)
	}
}
