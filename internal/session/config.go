package session

import (
	"context"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/tabs"
)

// Config is what every Unit of one application shares. The kit fills it
// from its own Config; every field must be set (no defaults here).
type Config struct {
	Store store.Store
	// Now is the clock; nil means time.Now.
	Now store.Clock

	// IdleTimeout and Lifetime give a new session its deadlines; zero or
	// negative disables one. TouchInterval throttles rewriting last-seen
	// times. TabIdleTimeout closes tabs idle longer; zero or negative
	// disables it.
	IdleTimeout    time.Duration
	Lifetime       time.Duration
	TouchInterval  time.Duration
	TabIdleTimeout time.Duration

	// MaxSessionBytes caps a session's stored size.
	MaxSessionBytes int64
	// MaxTabs caps the open tabs of a session, tab 0 included.
	MaxTabs int
	// MaxTabID is the largest tab number handed out.
	MaxTabID tabs.ID

	// PrincipalLimit bounds the sessions of one principal.
	PrincipalLimit store.PrincipalLimit
	// PersistentCookies says cookies outlive the browser (Expires at the
	// absolute deadline) unless a session says otherwise (RememberMe).
	PersistentCookies bool

	// Observe, when set, receives the Unit's events. It must be quick.
	Observe func(Event)
}

// Begin starts the unit of work of one request. tokens are the session
// tokens the request's cookies carry, in the order to try them (only one
// names a live session; planted extra cookies must not shadow it); tab is
// the tab the URL names, when hasTab.
func (c *Config) Begin(ctx context.Context, tokens []string, tab tabs.ID, hasTab bool) *Unit {
	u := &Unit{}
	u.Reset(c, ctx, tokens, tab, hasTab)
	return u
}

// EventKind says what an Event reports.
type EventKind int

// What a Unit reports.
const (
	// EventCommit: a delta was committed (Err nil) or refused (Err set).
	EventCommit EventKind = iota + 1
	// EventCreated: a new session was stored.
	EventCreated
	// EventRegenerated: the session moved to a new token (Handle is the
	// new one, Previous the old).
	EventRegenerated
	// EventDestroyed: the session was deleted.
	EventDestroyed
	// EventPrincipalChanged: the session's principal changed (Previous
	// holds the old one).
	EventPrincipalChanged
	// EventTabsEvicted: tabs were closed to stay within MaxTabs.
	EventTabsEvicted
)

// Event is something a Unit did, for logs and metrics.
type Event struct {
	Kind EventKind
	// Handle is the session's store ID, never its token.
	Handle string
	// Principal is the session's principal after the event.
	Principal string
	// Previous is the old handle (EventRegenerated) or principal
	// (EventPrincipalChanged).
	Previous string
	// Tabs lists evicted tabs (EventTabsEvicted).
	Tabs []uint32
	// Duration and Err describe a commit (EventCommit).
	Duration time.Duration
	Err      error
}

func (c *Config) observe(e Event) {
	if c.Observe != nil {
		c.Observe(e)
	}
}
