package store

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Limits on what a session may hold, enforced by every backend through Plan.
const (
	// MaxIDLength is the longest session ID a store accepts.
	MaxIDLength = 128

	// MaxKeyName is the longest key name a store accepts.
	MaxKeyName = 1024
)

// Key addresses one value of a session: Name in the session-wide namespace,
// or, when InTab is set, Name in the namespace of tab Tab. The two
// namespaces never see each other's keys; the zero Key with a Name is
// session-wide.
type Key struct {
	InTab bool
	Tab   uint32
	Name  string
}

// SessionKey returns the session-wide key called name.
func SessionKey(name string) Key { return Key{Name: name} }

// TabKey returns the key called name in tab's namespace.
func TabKey(tab uint32, name string) Key { return Key{InTab: true, Tab: tab, Name: name} }

// size is what a key and its value count towards a session's byte limit.
func (k Key) size(value []byte) int64 { return int64(len(k.Name) + len(value)) }

// Record is a whole session as loaded from a store. Values holds copies:
// the caller may keep and change them.
type Record struct {
	Meta   Meta
	Values map[Key][]byte
	// User is the session's principal's user record, as JSON, for stores
	// that can load it in the same query as the session (store/pgstore
	// with a user join); nil when the store does not, or there is no such
	// user. kit's Session.User reads it.
	User []byte
}

// Meta is what a store keeps about a session besides its values.
type Meta struct {
	// Created is when the session was first committed.
	Created time.Time
	// LastSeen is the last time a request touched the session (throttled
	// by the caller).
	LastSeen time.Time
	// IdleDeadline is when the session expires unless touched again. Zero
	// means no idle timeout.
	IdleDeadline time.Time
	// AbsDeadline is when the session expires whatever happens. Zero means
	// no absolute lifetime.
	AbsDeadline time.Time

	// Tabs is the tab table. Tab 0 is always open, whether or not it has an
	// entry; an entry appears for it once it holds a value.
	Tabs map[uint32]TabInfo
	// NextTab is the lowest tab number never handed out in this session.
	// Stores keep it above every number in Tabs, so numbers are never
	// reused.
	NextTab uint32

	// Principal names who the session belongs to, usually a user ID set
	// at sign-in; "" when nobody. Stores that implement PrincipalIndex
	// keep an index from principals to their sessions.
	Principal string

	// Expiring holds the deadline of every value that has one (a value set
	// with a time to live). From its deadline on, a value reads as missing
	// and the next commit removes it. Nil when no value has a deadline.
	Expiring map[Key]time.Time

	// Bytes is the size of every key name and value of the session,
	// maintained by the store.
	Bytes int64
	// Version grows by one with every commit, maintained by the store.
	Version uint64
}

// TabInfo describes one open tab.
type TabInfo struct {
	Created  time.Time
	LastSeen time.Time
	Label    string
	// Bytes is the size of the tab's key names and values, maintained by
	// the store.
	Bytes int64
}

// ExpiresAt returns the earlier of the two deadlines, or the zero time when
// the session never expires.
func (m *Meta) ExpiresAt() time.Time {
	switch {
	case m.IdleDeadline.IsZero():
		return m.AbsDeadline
	case m.AbsDeadline.IsZero(), m.IdleDeadline.Before(m.AbsDeadline):
		return m.IdleDeadline
	default:
		return m.AbsDeadline
	}
}

// Expired reports whether the session is past a deadline at now.
func (m *Meta) Expired(now time.Time) bool {
	at := m.ExpiresAt()
	return !at.IsZero() && !now.Before(at)
}

// IsOpen reports whether tab is in the tab table. Tab 0 is always open.
func (m *Meta) IsOpen(tab uint32) bool {
	if tab == 0 {
		return true
	}
	_, ok := m.Tabs[tab]
	return ok
}

// Clone returns a deep copy of m.
func (m Meta) Clone() Meta {
	m.Tabs = maps.Clone(m.Tabs)
	m.Expiring = maps.Clone(m.Expiring)
	return m
}

// ValueExpired reports whether value k has a deadline at or before now.
func (m *Meta) ValueExpired(k Key, now time.Time) bool {
	at, ok := m.Expiring[k]
	return ok && !now.Before(at)
}

// DropExpiredValues removes from r the values whose deadline has passed
// at now, with their deadlines and their bytes, so r reads as it will
// once the next commit has reclaimed them. Backends call it in Load.
func (r *Record) DropExpiredValues(now time.Time) {
	for k := range r.Meta.Expiring {
		if !r.Meta.ValueExpired(k, now) {
			continue
		}
		delete(r.Meta.Expiring, k)
		v, ok := r.Values[k]
		if !ok {
			continue
		}
		delete(r.Values, k)
		size := k.size(v)
		r.Meta.Bytes -= size
		if info, ok := r.Meta.Tabs[k.Tab]; ok && k.InTab {
			info.Bytes -= size
			r.Meta.Tabs[k.Tab] = info
		}
	}
	if len(r.Meta.Expiring) == 0 {
		r.Meta.Expiring = nil
	}
}

// Delta is one atomic change to a session: what a request changed, and
// nothing else, so two requests that change different keys never undo each
// other. Commit applies its parts in this order: Create, deadlines, the
// removal of values whose time to live ran out, Expect, EditMeta,
// Principal, Delete, Set, Update.
type Delta struct {
	// Create makes a new session. Commit fails with ErrExists when the ID
	// is live, and with ErrNotFound when Create is false and it is not.
	Create bool

	// Expect lists values the change was computed from: Commit fails with
	// ErrConflict, writing nothing, unless each key still holds the value
	// given (or, with Found false, is still missing). A request that read
	// a key and then sets or deletes it sends what it read, so a write
	// made meanwhile by another request is never silently overwritten.
	Expect map[Key]Expected

	// LastSeen, IdleDeadline and AbsDeadline replace the session's fields
	// when non-zero.
	LastSeen     time.Time
	IdleDeadline time.Time
	AbsDeadline  time.Time

	// EditMeta, when set, is called inside the transaction with a copy of
	// the current meta (its Tabs never nil) and may change the tab table,
	// NextTab and the deadlines. A tab it removes from the table loses all
	// its values. The
	// store owns Bytes and Version and restores them afterwards. It may be
	// called more than once (a backend that retries on conflict calls it
	// again), so it must not have effects outside m other than recording
	// what it decided.
	EditMeta func(m *Meta) error

	// Delete removes keys; a missing key is not an error.
	Delete []Key
	// Set stores values. The store copies them.
	Set map[Key][]byte
	// Update reads, changes and writes keys inside the transaction. Each
	// function gets its own copy of the current value (found false when
	// missing) and returns the new one; nil deletes the key. A function may be called
	// more than once and its result must depend only on its input.
	Update map[Key]UpdateFunc

	// Expires gives values of Set and Update a deadline (see
	// Meta.Expiring). A key that Set writes without an entry here loses
	// any deadline it had; one that Update writes keeps it. Entries for
	// keys the delta does not write are ignored.
	Expires map[Key]time.Time

	// SetPrincipal makes Principal the session's principal ("" clears it);
	// stores with a PrincipalIndex move the session in the index in the
	// same transaction.
	SetPrincipal bool
	Principal    string
	// PrincipalLimit bounds the live sessions of Principal when
	// SetPrincipal gives the session a new, non-empty principal. It is
	// ignored otherwise, and by stores without a PrincipalIndex.
	PrincipalLimit PrincipalLimit

	// MaxBytes caps the session's Bytes after the change. Zero means no cap
	// from the caller (the store may still have its own).
	MaxBytes int64
}

// Expected is the value a key is expected to hold, for Delta.Expect.
type Expected struct {
	Value []byte
	Found bool
}

// PrincipalLimit caps how many live sessions one principal may have.
type PrincipalLimit struct {
	// Max is the most sessions the principal may have, this one
	// included. Zero means no limit.
	Max int
	// EvictOldest, when set, makes room by deleting the principal's least
	// recently seen sessions (reported to Notifier subscribers as
	// EventEvicted). When false the commit fails with
	// ErrTooManySessions and writes nothing.
	EvictOldest bool
}

// UpdateFunc computes a key's new value from its current one.
type UpdateFunc func(old []byte, found bool) (updated []byte, err error)

// IsEmpty reports whether d changes nothing but, possibly, deadlines.
func (d *Delta) IsEmpty() bool {
	return !d.Create && d.EditMeta == nil && !d.SetPrincipal && len(d.Delete) == 0 && len(d.Set) == 0 && len(d.Update) == 0
}

// JoinsPrincipal reports whether d gives a session whose meta is current
// (nil for a new one) a new, non-empty principal under a limit, so the
// store must apply d.PrincipalLimit.
func (d *Delta) JoinsPrincipal(current *Meta) bool {
	if !d.SetPrincipal || d.Principal == "" || d.PrincipalLimit.Max <= 0 {
		return false
	}
	return current == nil || current.Principal != d.Principal
}

// Victims decides what joining a principal that already has the live
// sessions others takes under l: nothing, the IDs of the least recently
// seen sessions to evict, or ErrTooManySessions.
func (l PrincipalLimit) Victims(others []SessionRef) ([]string, error) {
	excess := len(others) + 1 - l.Max
	if l.Max <= 0 || excess <= 0 {
		return nil, nil
	}
	if !l.EvictOldest {
		return nil, fmt.Errorf("%w: %d live, limit %d", ErrTooManySessions, len(others), l.Max)
	}
	oldest := slices.Clone(others)
	slices.SortFunc(oldest, func(a, b SessionRef) int {
		if c := a.Meta.LastSeen.Compare(b.Meta.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	victims := make([]string, 0, excess)
	for _, s := range oldest[:excess] {
		victims = append(victims, s.ID)
	}
	return victims, nil
}
