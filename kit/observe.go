package kit

import "time"

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
	// EventTabEvicted: a tab was closed to make room (Tabs says how many).
	EventTabEvicted
	// EventSessionCreated: a new session was stored.
	EventSessionCreated
)

// Event is something a Manager reports for metrics.
type Event struct {
	Kind     EventKind
	Duration time.Duration
	Tabs     int
	Err      error
}

func (m *Manager) observe(e Event) {
	if m.cfg.Observe != nil {
		m.cfg.Observe(e)
	}
}
