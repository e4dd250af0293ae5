package redisstore

import (
	"cmp"
	"time"

	"github.com/tabkit/tabkit/store"
)

// Options configures a Store. Zero fields take their defaults, so
// Options{MaxSessions: 1e6} is a complete configuration.
type Options struct {
	// KeyPrefix starts the name of every key the store writes, so several
	// stores or applications can share one Redis database. Default
	// "tabkit:". Empty means the default. It must not contain '{' or '}':
	// the session's ID is the key's hash tag.
	KeyPrefix string

	// Now is the store's clock: deadlines are compared with its time, not
	// Redis's. Default time.Now; nil means the default.
	Now store.Clock

	// MaxSessionBytes caps every session's Meta.Bytes, like
	// Delta.MaxBytes; the lower of the two applies. Zero means the store
	// sets no cap of its own.
	MaxSessionBytes int64

	// MaxSessions caps the number of stored sessions: a Commit that
	// creates one more fails with store.ErrFull, after a Sweep has made
	// what room it can. Existing sessions keep working. The creates of one
	// Store take turns, so one process never overshoots; creates racing in
	// several processes may, by the number in flight. Zero means no cap.
	MaxSessions int64

	// MaxRetries bounds how often a Commit with EditMeta or Update
	// functions starts over after another client changed the session
	// between its read and its write; then it fails with an error wrapping
	// store.ErrUnavailable. Default 32. Zero means the default.
	MaxRetries int

	// WaitReplicas makes every commit and delete wait until this many
	// replicas of the master that took it have acknowledged it (Redis's
	// WAIT, sent on the same connection right after the write). A write
	// that fewer replicas acknowledge within WaitTimeout fails with an
	// error wrapping store.ErrUnavailable and ErrNotReplicated, although
	// the master has applied it. Set it to the number of replicas each
	// master has, so that a failover cannot lose an acknowledged change.
	// It needs a *redis.Client (single server or Sentinel) or a
	// *redis.ClusterClient. Zero (the default) waits for none: a commit is
	// acknowledged once the master has applied it, and a failover can lose
	// the last changes before it.
	WaitReplicas int

	// SweepInterval is how often a background goroutine owned by the
	// Store runs Sweep, which reports expired sessions to Subscribe's
	// subscribers (store.EventExpired) and removes their principal index
	// entries. Every process sweeping the same Redis is fine: each expired
	// session is removed, and reported, by one of them. Default 1 minute.
	// Zero means the default; negative disables the background sweeper
	// (Sweep still works).
	SweepInterval time.Duration

	// ExpiryGrace is how long past a session's deadline Redis keeps its
	// hash before expiring it by itself (PEXPIREAT at the deadline plus
	// the grace). The store treats the session as gone from its deadline
	// on; the grace lets the sweeper find it first, so its expiry is
	// reported with its principal and its principal index entry goes.
	// It should be well above SweepInterval. Default 5 minutes. Zero
	// means the default; negative means none: Redis drops a session at
	// its deadline, and only those the sweeper reaches first are
	// reported.
	ExpiryGrace time.Duration

	// WaitTimeout bounds each wait for replicas when WaitReplicas is set.
	// It must be shorter than the client's read timeout. Default 1s. Zero
	// means the default.
	WaitTimeout time.Duration
}

// DefaultOptions are the options New and Open use for a nil *Options, and
// the values that fill in zero fields.
var DefaultOptions = Options{
	KeyPrefix:     "tabkit:",
	MaxRetries:    32,
	WaitTimeout:   time.Second,
	SweepInterval: time.Minute,
	ExpiryGrace:   5 * time.Minute,
}

// withDefaults returns opts with zero fields filled in. A DefaultOptions
// changed to zero values falls back to the built-in defaults.
func (opts *Options) withDefaults() Options {
	o := DefaultOptions
	if opts != nil {
		o = *opts
	}
	o.KeyPrefix = cmp.Or(o.KeyPrefix, DefaultOptions.KeyPrefix, "tabkit:")
	o.MaxRetries = cmp.Or(o.MaxRetries, DefaultOptions.MaxRetries, 32)
	o.WaitTimeout = cmp.Or(o.WaitTimeout, DefaultOptions.WaitTimeout, time.Second)
	o.SweepInterval = cmp.Or(o.SweepInterval, DefaultOptions.SweepInterval, time.Minute)
	o.ExpiryGrace = cmp.Or(o.ExpiryGrace, DefaultOptions.ExpiryGrace, 5*time.Minute)
	return o
}
