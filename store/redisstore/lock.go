package redisstore

import (
	"context"
	"sync"
)

// sessionLocks serializes one process's optimistic transactions on the
// same session. WATCH/MULTI lets only one of several concurrent
// read-modify-writes of a session succeed, and the rest start over; with
// dozens of requests of one process on one session (a burst of "add"
// clicks) that turns into a retry storm. Taking turns locally first
// leaves only other processes to collide with.
type sessionLocks struct {
	// mu guards held.
	mu   sync.Mutex
	held map[string]*sessionLock
}

// sessionLock is a mutex that a waiter can give up on: a token sits in
// the channel while the lock is free.
type sessionLock struct {
	token   chan struct{}
	waiters int // guarded by sessionLocks.mu
}

// lock takes id's lock, or returns ctx's error if ctx ends first. The
// caller must call the returned function to release it.
func (l *sessionLocks) lock(ctx context.Context, id string) (unlock func(), err error) {
	l.mu.Lock()
	if l.held == nil {
		l.held = make(map[string]*sessionLock)
	}
	sl := l.held[id]
	if sl == nil {
		sl = &sessionLock{token: make(chan struct{}, 1)}
		sl.token <- struct{}{}
		l.held[id] = sl
	}
	sl.waiters++
	l.mu.Unlock()

	select {
	case <-sl.token:
		return func() {
			sl.token <- struct{}{}
			l.release(id, sl)
		}, nil
	case <-ctx.Done():
		l.release(id, sl)
		return nil, ctx.Err()
	}
}

// release forgets id's lock once nobody holds or waits for it, so the map
// only holds sessions being committed.
func (l *sessionLocks) release(id string, sl *sessionLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sl.waiters--
	if sl.waiters == 0 {
		delete(l.held, id)
	}
}
