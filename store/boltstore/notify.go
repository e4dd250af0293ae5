package boltstore

import (
	"time"

	"github.com/tabkit/tabkit/store"
)

var _ store.Notifier = (*Store)(nil)

// removals collects the sessions a write transaction removes on its own
// (expired, evicted), to be reported to store.Notifier subscribers once
// the transaction has committed: a rolled-back removal never happened.
type removals []store.Event

func (r *removals) add(kind store.EventKind, id string, m *store.Meta, at time.Time) {
	e := store.Event{Kind: kind, ID: id, At: at}
	if m != nil {
		e.Principal = m.Principal
	}
	*r = append(*r, e)
}

// Subscribe implements store.Notifier. fn hears of sessions the sweeper
// removed after their deadline (store.EventExpired; so are expired records
// a commit or quota reclaims on the way) and of sessions a quota evicted:
// Options.MaxSessions or MaxBytes with EvictLRU, or a
// store.Delta.PrincipalLimit that evicts (store.EventEvicted). It is
// called by the goroutine whose call made the removal, after the
// transaction committed and once that call has let go of the store, so
// fn may call the store.
func (s *Store) Subscribe(fn func(store.Event)) (cancel func()) { return s.notify.Add(fn) }
