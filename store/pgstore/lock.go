package pgstore

import (
	"context"
	"slices"
	"sync"
)

// sessionLocks makes one Store's commits of the same session take turns
// before they reach the database. PostgreSQL would serialize them on the
// row lock anyway, but every waiter there holds a pooled connection: a
// burst of requests on one session (many "add" clicks) would hold the
// whole pool and starve every other session, and each commit would wake
// every waiter to race for the lock again. Waiting here costs neither, and
// leaves only other processes to wait for on the row.
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

// lock takes the locks of ids, in order so two callers never wait for
// each other in a circle, or returns ctx's error if ctx ends first. The
// caller must call the returned function to release them.
func (l *sessionLocks) lock(ctx context.Context, ids ...string) (unlock func(), err error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var unlocks []func()
	unlockAll := func() {
		for _, u := range slices.Backward(unlocks) {
			u()
		}
	}
	for _, id := range ids {
		u, err := l.lockOne(ctx, id)
		if err != nil {
			unlockAll()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return unlockAll, nil
}

func (l *sessionLocks) lockOne(ctx context.Context, id string) (unlock func(), err error) {
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
