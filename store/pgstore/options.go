package pgstore

import (
	"cmp"
	"fmt"
	"regexp"
	"time"

	"github.com/tabkit/tabkit/store"
)

// Options configures a Store. Zero fields take their defaults, so
// Options{MaxSessions: 1e6} is a complete configuration.
type Options struct {
	// TablePrefix starts the name of every table, index, function and
	// trigger the store makes, so several stores or applications can
	// share one database and schema. Default "tabkit_". Empty means the
	// default. It must be a lower-case SQL identifier of at most 40
	// bytes (letters, digits, '_', not starting with a digit); choose the
	// schema with search_path in the connection URL.
	TablePrefix string

	// Now is the store's clock: deadlines are compared with its time, not
	// the server's. Default time.Now; nil means the default.
	Now store.Clock

	// MaxSessionBytes caps every session's Meta.Bytes, like
	// Delta.MaxBytes; the lower of the two applies. Zero means the store
	// sets no cap of its own.
	MaxSessionBytes int64

	// MaxSessions caps the number of stored sessions: a Commit that
	// creates one more fails with store.ErrFull, after a Sweep has made
	// what room it can. Existing sessions keep working. Creates take
	// turns on a transaction-level advisory lock, so stores in any number
	// of processes never overshoot, as long as all of them set the cap.
	// Zero means no cap.
	MaxSessions int64

	// SweepInterval is how often a background goroutine removes expired
	// sessions. Default 1 minute. Zero means the default; negative
	// disables it (Sweep still works).
	SweepInterval time.Duration

	// SweepBatch is how many sessions one transaction of a sweep removes
	// at most, so a sweep never holds many locks or a long transaction.
	// Default 1000. Zero means the default.
	SweepBatch int

	// UserJoin, when set, makes Load return the session's user in the
	// same query, as store.Record.User: it is SQL the store inserts after
	// its FROM clause, where the sessions table is named s, for example
	//
	//	LEFT JOIN users u ON u.id::text = s.principal
	//
	// It must match at most one row per session. UserColumns says what
	// to return of it. Both are trusted SQL from the application, never
	// from a request. Default none.
	UserJoin string

	// UserColumns is the SQL expression Load returns as Record.User, of a
	// type that casts to jsonb, for example to_jsonb(u) or
	// jsonb_build_object('name', u.name). Record.User is nil when it is
	// NULL (no principal, no such user). Required with UserJoin, ignored
	// without.
	UserColumns string

	// MaxRetries bounds how often a Commit or Move starts over when
	// PostgreSQL aborted its transaction to break a deadlock (two
	// sign-ins evicting each other's sessions, say); then it fails with
	// an error wrapping store.ErrUnavailable. Default 8. Zero means the
	// default.
	MaxRetries int
}

// DefaultOptions are the options New and Open use for a nil *Options, and
// the values that fill in zero fields.
var DefaultOptions = Options{
	TablePrefix:   "tabkit_",
	SweepInterval: time.Minute,
	SweepBatch:    1000,
	MaxRetries:    8,
}

// validPrefix is what TablePrefix may be: an identifier PostgreSQL keeps
// as written, short enough that the longest name made from it
// ("sessions_expires_at") stays within its 63 bytes.
var validPrefix = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// withDefaults returns opts with zero fields filled in, or an error when
// a field is out of range. A DefaultOptions changed to zero values falls
// back to the built-in defaults.
func (opts *Options) withDefaults() (Options, error) {
	o := DefaultOptions
	if opts != nil {
		o = *opts
	}
	o.TablePrefix = cmp.Or(o.TablePrefix, DefaultOptions.TablePrefix, "tabkit_")
	o.SweepInterval = cmp.Or(o.SweepInterval, DefaultOptions.SweepInterval, time.Minute)
	o.SweepBatch = cmp.Or(o.SweepBatch, DefaultOptions.SweepBatch, 1000)
	o.MaxRetries = cmp.Or(o.MaxRetries, DefaultOptions.MaxRetries, 8)
	switch {
	case !validPrefix.MatchString(o.TablePrefix):
		return o, fmt.Errorf("pgstore: table prefix %q: want a lower-case SQL identifier of at most 40 bytes", o.TablePrefix)
	case o.MaxSessionBytes < 0, o.MaxSessions < 0, o.SweepBatch < 0, o.MaxRetries < 0:
		return o, fmt.Errorf("pgstore: negative limit in options")
	case o.UserJoin != "" && o.UserColumns == "":
		return o, fmt.Errorf("pgstore: UserJoin needs UserColumns")
	}
	return o, nil
}
