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

	// Move applies d to session from and moves the result to the new ID
	// to, as one atomic step: every change committed to from before Move
	// is carried over, and from no longer exists afterwards, so a later
	// Commit for from fails with ErrNotFound instead of being acknowledged
	// into a record nobody can reach. Move fails, changing nothing, with
	// ErrNotFound when from is missing or expired (a session deleted
	// before the move stays deleted), with ErrExists when to is live, and
	// like Commit when d cannot be applied. d.Create must be false. The
	// session keeps its principal, tabs, deadlines and value deadlines
	// unless d changes them.
	//
	// For MovedGrace afterwards, Load and Commit of from fail with
	// ErrMoved, so a request that raced the move can tell it from a
	// session that ended. Delete of from ends that early.
	//
	// from and to must have the same Family, which lets stores that shard
	// by key keep both in one shard; kit's IDs always do.
	Move(ctx context.Context, from, to string, d Delta) (Meta, error)

	// Delete removes session id and all its values (and its entry in a
	// principal index). Deleting a missing session is not an error.
	Delete(ctx context.Context, id string) error
}

// MovedGrace is how long an ID that Move moved away answers ErrMoved:
// longer than any request racing the move can take.
const MovedGrace = time.Minute

// PrincipalIndex is a store that can find the sessions of a principal
// (Meta.Principal). The index changes in the same transaction as the
// session wherever the backend allows; see each backend's docs.
type PrincipalIndex interface {
	// SessionsOf returns the live sessions whose principal is p, in an
	// unspecified order. A session that expired or was deleted is never
	// listed, even while its index entry awaits cleanup.
	SessionsOf(ctx context.Context, p string) ([]SessionRef, error)
}

// SessionRef names a stored session: its ID (as the store keys it) and
// its meta.
type SessionRef struct {
	ID   string
	Meta Meta
}

// Notifier is a store that reports the sessions it removes on its own:
// swept after expiry, or evicted by a quota. Sessions removed by Delete
// or Move are not reported; their caller knows.
type Notifier interface {
	// Subscribe calls fn for every such removal, after the transaction
	// that made it and outside any lock of the store, until cancel is
	// called. fn must be safe for concurrent use and quick.
	Subscribe(fn func(Event)) (cancel func())
}

// EventKind says why a store removed a session on its own.
type EventKind int

const (
	// EventExpired: the sweeper removed a session past its deadline.
	EventExpired EventKind = iota + 1
	// EventEvicted: a quota (sessions or bytes in the store, sessions of
	// a principal) removed the session to make room for another.
	EventEvicted
)

func (k EventKind) String() string {
	switch k {
	case EventExpired:
		return "expired"
	case EventEvicted:
		return "evicted"
	}
	return "unknown"
}

// Event reports a session a store removed on its own.
type Event struct {
	Kind EventKind
	// ID is the session's ID as the store keyed it.
	ID string
	// Principal is the session's principal when it was removed.
	Principal string
	// At is when the store removed it, by the store's clock.
	At time.Time
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
