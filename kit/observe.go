package kit

import (
	"time"

	"github.com/tabkit/tabkit/internal/session"
	"github.com/tabkit/tabkit/store"
)

// EventKind says what an Event reports.
type EventKind int

// The events a Manager reports to Config.Observe.
const (
	// EventCommit: a delta was committed (Err nil) or failed (Err set).
	// Duration is the store's commit time.
	EventCommit EventKind = iota + 1
	// EventBadCookie: a malformed, oversized or tampered cookie was
	// ignored.
	EventBadCookie
	// EventUnknownTab: a request named a tab its session does not have.
	EventUnknownTab
	// EventStoreRefused: the store answered ErrFull or ErrUnavailable.
	EventStoreRefused
	// EventTabEvicted: tabs were closed to make room (Tabs says how many).
	EventTabEvicted
	// EventSessionCreated: a new session was stored.
	EventSessionCreated
	// EventSessionRegenerated: a session moved to a new token (Previous
	// is its old handle).
	EventSessionRegenerated
	// EventPrincipalChanged: a session's principal changed (Previous is
	// the old principal, "" for none).
	EventPrincipalChanged
	// EventSessionDestroyed: a session was ended by Destroy, by
	// EndSessionsOf or EndOtherSessions, or by an operator.
	EventSessionDestroyed
	// EventSessionExpired: the store's sweeper removed a session past its
	// deadline.
	EventSessionExpired
	// EventSessionEvicted: a quota removed a session to make room.
	EventSessionEvicted
	// EventExpiredCookie: a signed cookie was authentic but older than
	// Config.Lifetime, and was ignored. Not tampering.
	EventExpiredCookie
	// EventConflict: a commit was refused because a value it was computed
	// from changed meanwhile (ErrConflict).
	EventConflict
)

var eventNames = map[EventKind]string{
	EventCommit:             "commit",
	EventBadCookie:          "bad_cookie",
	EventUnknownTab:         "unknown_tab",
	EventStoreRefused:       "store_refused",
	EventTabEvicted:         "tab_evicted",
	EventSessionCreated:     "created",
	EventSessionRegenerated: "regenerated",
	EventPrincipalChanged:   "principal_changed",
	EventSessionDestroyed:   "destroyed",
	EventSessionExpired:     "expired",
	EventSessionEvicted:     "evicted",
	EventExpiredCookie:      "expired_cookie",
	EventConflict:           "conflict",
}

// String returns a short lower-case name, for metric labels.
func (k EventKind) String() string {
	if name, ok := eventNames[k]; ok {
		return name
	}
	return "unknown"
}

// Event is something a Manager reports, for metrics and audit logs.
type Event struct {
	Kind EventKind
	// Handle names the session without being usable as a cookie: its
	// store ID. "" when the event concerns no stored session.
	Handle string
	// Principal is the session's principal, when it has one.
	Principal string
	// Previous is the old handle (EventSessionRegenerated) or the old
	// principal (EventPrincipalChanged).
	Previous string
	Duration time.Duration
	Tabs     int
	Err      error
}

func (m *Manager) observe(e Event) {
	if m.cfg.Observe != nil {
		m.cfg.Observe(e)
	}
}

// observeUnit turns the session core's events into the Manager's.
func (m *Manager) observeUnit(e session.Event) {
	switch e.Kind {
	case session.EventCommit:
		m.observe(Event{Kind: EventCommit, Handle: e.Handle, Duration: e.Duration, Err: e.Err})
		switch {
		case e.Err == nil:
		case isErr(e.Err, store.ErrConflict):
			m.observe(Event{Kind: EventConflict, Handle: e.Handle, Err: e.Err})
		case isErr(e.Err, store.ErrFull), isErr(e.Err, store.ErrUnavailable):
			m.observe(Event{Kind: EventStoreRefused, Handle: e.Handle, Err: e.Err})
		}
	case session.EventCreated:
		m.observe(Event{Kind: EventSessionCreated, Handle: e.Handle, Principal: e.Principal})
	case session.EventRegenerated:
		m.observe(Event{Kind: EventSessionRegenerated, Handle: e.Handle, Principal: e.Principal, Previous: e.Previous})
	case session.EventPrincipalChanged:
		m.observe(Event{Kind: EventPrincipalChanged, Handle: e.Handle, Principal: e.Principal, Previous: e.Previous})
	case session.EventDestroyed:
		m.observe(Event{Kind: EventSessionDestroyed, Handle: e.Handle, Principal: e.Principal})
	case session.EventTabsEvicted:
		m.log.Info("closed least recently used tabs to stay within MaxTabs", "session", e.Handle, "tabs", e.Tabs, "max_tabs", m.cfg.MaxTabs)
		m.observe(Event{Kind: EventTabEvicted, Handle: e.Handle, Principal: e.Principal, Tabs: len(e.Tabs)})
	}
}

// observeStore turns what the store did on its own into events.
func (m *Manager) observeStore(e store.Event) {
	switch e.Kind {
	case store.EventExpired:
		m.observe(Event{Kind: EventSessionExpired, Handle: e.ID, Principal: e.Principal})
	case store.EventEvicted:
		m.log.Info("store evicted a session to make room", "session", e.ID, "principal", e.Principal)
		m.observe(Event{Kind: EventSessionEvicted, Handle: e.ID, Principal: e.Principal})
	}
}
