package keylock

import (
	"context"
	"slices"
	"sync"
)

// Locks is a set of mutexes by key. The zero value is ready to use.
type Locks struct {
	// mu guards held.
	mu   sync.Mutex
	held map[string]*entry
}

// entry is a mutex that a waiter can give up on: a token sits in the
// channel while the lock is free.
type entry struct {
	token   chan struct{}
	waiters int // holders and waiters, guarded by Locks.mu
}

// Lock takes the locks of keys, in order so two callers never wait for
// each other in a circle, or returns ctx's error if ctx ends first. The
// caller must call the returned function to release them.
func (l *Locks) Lock(ctx context.Context, keys ...string) (unlock func(), err error) {
	if len(keys) == 1 {
		return l.lockOne(ctx, keys[0])
	}
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var unlocks []func()
	unlockAll := func() {
		for _, u := range slices.Backward(unlocks) {
			u()
		}
	}
	for _, key := range keys {
		u, err := l.lockOne(ctx, key)
		if err != nil {
			unlockAll()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return unlockAll, nil
}

func (l *Locks) lockOne(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.held == nil {
		l.held = make(map[string]*entry)
	}
	e := l.held[key]
	if e == nil {
		e = &entry{token: make(chan struct{}, 1)}
		e.token <- struct{}{}
		l.held[key] = e
	}
	e.waiters++
	l.mu.Unlock()

	select {
	case <-e.token:
		return func() {
			e.token <- struct{}{}
			l.release(key, e)
		}, nil
	case <-ctx.Done():
		l.release(key, e)
		return nil, ctx.Err()
	}
}

// release forgets key's lock once nobody holds or waits for it, so the
// map only holds keys in use.
func (l *Locks) release(key string, e *entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.waiters--
	if e.waiters == 0 {
		delete(l.held, key)
	}
}

// Waiting returns how many hold or wait for key's lock.
func (l *Locks) Waiting(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.held[key]; e != nil {
		return e.waiters
	}
	return 0
}

// InUse returns how many keys are held or waited for.
func (l *Locks) InUse() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}
