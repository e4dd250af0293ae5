package store

import (
	"context"
	"time"
)

// Store keeps sessions. Implementations are safe for concurrent use, and
// every method honours ctx: a cancelled context makes it return ctx.Err()
// (or an error wrapping it) without changing anything it had not already
// committed.
type Store interface {
	// Load returns session id's meta and values. found is false when the
	// session does not exist or has expired; that is not an error. The
	// record is the caller's own copy.
	Load(ctx context.Context, id string) (rec Record, found bool, err error)

	// Commit applies d to session id atomically: all of it or none of it.
	// When Commit returns nil the change is as durable as the store
	// promises (fsync'd for disk stores). It returns the session's meta
	// after the change.
	Commit(ctx context.Context, id string, d Delta) (Meta, error)

	// Delete removes session id and all its values. Deleting a missing
	// session is not an error.
	Delete(ctx context.Context, id string) error
}

// Sweeper is a store that can remove expired sessions on demand. Stores
// with a background sweeper call the same code on a timer.
type Sweeper interface {
	// Sweep removes every session expired at the store's now and reports
	// how many it removed. Its cost grows with the number of expired
	// sessions, not with the number stored.
	Sweep(ctx context.Context) (SweepResult, error)
}

// SweepResult says what a sweep removed.
type SweepResult struct {
	Sessions int
	Bytes    int64
}

// Lister is a store that can walk its live sessions.
type Lister interface {
	// List calls fn for each live session in an unspecified order, until
	// fn returns false or every session has been seen.
	List(ctx context.Context, fn func(id string, m Meta) bool) error
}

// Statser is a store that can report its size.
type Statser interface {
	Stats(ctx context.Context) (Stats, error)
}

// Stats describes what a store holds.
type Stats struct {
	// Sessions counts stored sessions, including expired ones not swept yet.
	Sessions int64
	// Bytes is the sum of the sessions' Meta.Bytes.
	Bytes int64
	// Expired counts stored sessions past their deadline, waiting for a sweep.
	Expired int64
	// FileBytes is the size of the store's file on disk, or 0.
	FileBytes int64
}

// Clock returns the current time. Stores take one so tests can move time
// without sleeping; nil means time.Now.
type Clock func() time.Time

// Now returns the clock's current time, or time.Now() for a nil Clock.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}
