package boltstore

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/tabkit/tabkit/store"
)

// Options configures Open. A nil *Options means DefaultOptions; in a
// non-nil one, zero fields take the defaults documented on each field.
type Options struct {
	// Timeout is how long Open waits for the file lock when another
	// process has the file open. Default 1s. Zero means the default;
	// negative means try once and do not wait. Open never waits forever:
	// when the lock is not had in time it returns an error wrapping
	// ErrLocked.
	Timeout time.Duration

	// Now is the store's clock, which decides when sessions expire.
	// Default time.Now. Nil means the default.
	Now store.Clock

	// SweepInterval is how often a background goroutine owned by the
	// store removes expired sessions. Default 1 minute. Zero means the
	// default; negative disables the background sweeper (Sweep still
	// works, and expired sessions are treated as absent either way).
	SweepInterval time.Duration

	// FileMode is the permission of the database file when Open creates
	// it. Default 0600: sessions are readable by the owner only. Zero
	// means the default.
	FileMode os.FileMode

	// MaxSessions caps the number of stored sessions. Zero means no
	// limit. Expired sessions still on disk are reclaimed before the cap
	// applies, so it counts live sessions.
	MaxSessions int64

	// MaxBytes caps the live data of the store: the sum of the sessions'
	// key names and values (store.Meta.Bytes), not the file size. Zero
	// means no limit. A commit that does not grow the store always
	// passes, so sessions can shrink when the store is full.
	MaxBytes int64

	// MaxSessionBytes caps one session's key names and values. A commit
	// that would grow a session beyond it fails with store.ErrTooLarge.
	// It applies in addition to store.Delta.MaxBytes: the smaller of the
	// two wins. Zero means no limit from the store.
	MaxSessionBytes int64

	// WhenFull says what a commit does when it would exceed MaxSessions
	// or MaxBytes. Default Refuse. The zero value is Refuse.
	WhenFull FullPolicy

	// Observe, when set, is called with the store's events for metrics:
	// the size and time of each group-commit round, and what each sweep
	// removed. It runs on the committing or sweeping goroutine, so it
	// must be quick, and safe for concurrent use; it must not call the
	// store. Default none.
	Observe func(Event)

	// Logger receives the store's rare notices, such as Open migrating a
	// file written by an older version. Default slog.Default(). Nil means
	// the default.
	Logger *slog.Logger
}

// FullPolicy is what a Store does when a commit would exceed a quota.
type FullPolicy int

const (
	// Refuse fails the commit with store.ErrFull: creating a session
	// beyond MaxSessions, or growing the store beyond MaxBytes. Existing
	// sessions keep working as long as they do not grow the store.
	Refuse FullPolicy = iota

	// EvictLRU removes the least recently seen sessions (by
	// store.Meta.LastSeen) until the commit fits. The session being
	// committed is never evicted for its own sake; a session that alone
	// exceeds MaxBytes still gets store.ErrFull.
	EvictLRU
)

// String returns the policy's name.
func (p FullPolicy) String() string {
	switch p {
	case Refuse:
		return "Refuse"
	case EvictLRU:
		return "EvictLRU"
	default:
		return fmt.Sprintf("FullPolicy(%d)", int(p))
	}
}

// Defaults of the options.
const (
	defaultTimeout       = time.Second
	defaultSweepInterval = time.Minute
	defaultFileMode      = os.FileMode(0o600)
)

// DefaultOptions are the options Open uses when given nil.
var DefaultOptions = Options{
	Timeout:       defaultTimeout,
	SweepInterval: defaultSweepInterval,
	FileMode:      defaultFileMode,
	WhenFull:      Refuse,
}

// withDefaults fills in zero fields and rejects values that make no sense.
func (o Options) withDefaults() (Options, error) {
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = defaultSweepInterval
	}
	if o.FileMode == 0 {
		o.FileMode = defaultFileMode
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.MaxSessions < 0:
		return o, fmt.Errorf("boltstore: negative MaxSessions %d", o.MaxSessions)
	case o.MaxBytes < 0:
		return o, fmt.Errorf("boltstore: negative MaxBytes %d", o.MaxBytes)
	case o.MaxSessionBytes < 0:
		return o, fmt.Errorf("boltstore: negative MaxSessionBytes %d", o.MaxSessionBytes)
	case o.WhenFull != Refuse && o.WhenFull != EvictLRU:
		return o, fmt.Errorf("boltstore: unknown WhenFull policy %v", o.WhenFull)
	}
	return o, nil
}

// lockTimeout converts Timeout to bbolt's convention, where zero means
// waiting forever: a negative Timeout becomes the shortest wait bbolt
// accepts, which makes it give up after its first attempt.
func (o *Options) lockTimeout() time.Duration {
	if o.Timeout < 0 {
		return time.Nanosecond
	}
	return o.Timeout
}
