// Package keylock is a set of mutexes named by string keys that a waiter
// can give up on when its context ends. Stores use it to make one
// process's changes of the same session (or principal) take turns before
// they reach the database, so a burst of requests on one session neither
// holds a whole connection pool nor starts a storm of optimistic retries.
//
//	var locks keylock.Locks
//	unlock, err := locks.Lock(ctx, id)
//	if err != nil { return err } // ctx ended while waiting
//	defer unlock()
//
// # Caveats
//
// The locks are the process's own: other processes are serialised by the
// store itself. A key's entry lives only while someone holds or waits for
// it.
package keylock
