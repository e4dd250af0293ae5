package boltstore

import "time"

// EventKind says what an Event reports.
type EventKind int

// The events a Store reports to Options.Observe.
const (
	// EventRound: a write transaction of the group committer ended. Ops
	// is how many commits and deletes it carried (the batch size),
	// Duration how long it took, fsync included; Err is set when the
	// transaction failed.
	EventRound EventKind = iota + 1
	// EventSweep: a sweep ended, by the background sweeper or a call to
	// Sweep. Sessions and Bytes are what it removed; Err is set when it
	// stopped early.
	EventSweep
)

// Event is something a Store reports for metrics.
type Event struct {
	Kind     EventKind
	Ops      int
	Sessions int
	Bytes    int64
	Duration time.Duration
	Err      error
}

func (s *Store) observe(e Event) {
	if s.opts.Observe != nil {
		s.opts.Observe(e)
	}
}
