package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
)

// Errors the operations return, possibly wrapped; test them with
// errors.Is. Client returns the same ones for the same conditions.
var (
	// ErrNotFound is returned when no live session has the given ID or
	// ID prefix.
	ErrNotFound = errors.New("admin: no such session")

	// ErrAmbiguous is returned when an ID prefix matches more than one
	// session.
	ErrAmbiguous = errors.New("admin: session ID prefix matches several sessions")

	// ErrShortPrefix is returned when an ID prefix is shorter than
	// MinPrefix.
	ErrShortPrefix = errors.New("admin: session ID prefix too short")

	// ErrUnsupported is returned when the store cannot do what was asked:
	// list without store.Lister, sweep without store.Sweeper, and so on.
	ErrUnsupported = errors.New("admin: the store does not support this operation")

	// ErrRefused is returned when a destructive operation was asked for
	// without its confirmation.
	ErrRefused = errors.New("admin: refused without confirmation")
)

// Session IDs are secrets, so listings show only their first
// PrefixLength characters, and operations that name one session accept
// a prefix of at least MinPrefix characters.
const (
	PrefixLength = 8
	MinPrefix    = 8
)

// Session is one line of a listing.
type Session struct {
	// ID is the first PrefixLength characters of the session ID.
	ID       string    `json:"id"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	// Expires is the earlier deadline; zero when the session never expires.
	Expires time.Time `json:"expires,omitzero"`
	// Tabs counts the open tabs, tab 0 included.
	Tabs  int   `json:"tabs"`
	Bytes int64 `json:"bytes"`
}

// Detail is one session with its tab table and values.
type Detail struct {
	Session
	IdleDeadline time.Time `json:"idle_deadline,omitzero"`
	AbsDeadline  time.Time `json:"abs_deadline,omitzero"`
	Version      uint64    `json:"version"`
	NextTab      uint32    `json:"next_tab"`
	TabTable     []Tab     `json:"tab_table"`
	Values       []Value   `json:"values"`
}

// Tab is one entry of a session's tab table.
type Tab struct {
	N        uint32    `json:"n"`
	Label    string    `json:"label,omitempty"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	Bytes    int64     `json:"bytes"`
}

// Stats is what a store holds.
type Stats struct {
	// Sessions counts stored sessions, including expired ones not swept yet.
	Sessions int64 `json:"sessions"`
	// Expired counts stored sessions past their deadline, waiting for a sweep.
	Expired int64 `json:"expired"`
	// Tabs counts the open tabs of live sessions; -1 when the store
	// cannot list its sessions.
	Tabs int64 `json:"tabs"`
	// Bytes is the live data: the sessions' key names and values.
	Bytes int64 `json:"bytes"`
	// FileBytes is the size of the store's file, or 0 without one.
	FileBytes int64 `json:"file_bytes"`
}

// SweepResult says what a sweep removed.
type SweepResult = store.SweepResult

// CompactResult is a file's size before and after compaction.
type CompactResult = boltstore.CompactResult

// compacter is a store that can give free space back to the file system.
type compacter interface {
	Compact(ctx context.Context) (boltstore.CompactResult, error)
}

// Admin runs the operations on a store in this process.
type Admin struct {
	st store.Store
}

// New returns an Admin for st. The store stays the caller's to close.
func New(st store.Store) *Admin { return &Admin{st: st} }

// Sessions lists the live sessions, most recently seen first.
func (a *Admin) Sessions(ctx context.Context) ([]Session, error) {
	l, ok := a.st.(store.Lister)
	if !ok {
		return nil, fmt.Errorf("%w: listing sessions", ErrUnsupported)
	}
	list := []Session{}
	err := l.List(ctx, func(id string, m store.Meta) bool {
		list = append(list, summary(id, &m))
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(x, y Session) int {
		if c := y.LastSeen.Compare(x.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return list, nil
}

// Show returns the session that id names, in full or by a unique prefix.
func (a *Admin) Show(ctx context.Context, id string) (Detail, error) {
	full, err := a.resolve(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	rec, found, err := a.st.Load(ctx, full)
	if err != nil {
		return Detail{}, err
	}
	if !found {
		return Detail{}, fmt.Errorf("%w: %s", ErrNotFound, prefix(full))
	}
	return detail(full, &rec), nil
}

// Delete removes the session that id names, in full or by a unique
// prefix, and returns what it was.
func (a *Admin) Delete(ctx context.Context, id string) (Session, error) {
	full, err := a.resolve(ctx, id)
	if err != nil {
		return Session{}, err
	}
	rec, found, err := a.st.Load(ctx, full)
	if err != nil {
		return Session{}, err
	}
	if !found {
		return Session{}, fmt.Errorf("%w: %s", ErrNotFound, prefix(full))
	}
	if err := a.st.Delete(ctx, full); err != nil {
		return Session{}, err
	}
	return summary(full, &rec.Meta), nil
}

// Clear deletes every session and returns how many it deleted. It needs
// force, so that no caller wipes a store by leaving out a flag.
func (a *Admin) Clear(ctx context.Context, force bool) (int, error) {
	if !force {
		return 0, fmt.Errorf("%w: clear deletes every session, signing every user out and losing their data", ErrRefused)
	}
	ids, err := a.ids(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if err := a.st.Delete(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Stats reports the store's counters, and counts open tabs when the
// store can list its sessions (which walks every session).
func (a *Admin) Stats(ctx context.Context) (Stats, error) {
	s, ok := a.st.(store.Statser)
	if !ok {
		return Stats{}, fmt.Errorf("%w: stats", ErrUnsupported)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		return Stats{}, err
	}
	out := Stats{Sessions: st.Sessions, Expired: st.Expired, Tabs: -1, Bytes: st.Bytes, FileBytes: st.FileBytes}
	if l, ok := a.st.(store.Lister); ok {
		out.Tabs = 0
		err := l.List(ctx, func(_ string, m store.Meta) bool {
			out.Tabs += int64(openTabs(&m))
			return true
		})
		if err != nil {
			return Stats{}, err
		}
	}
	return out, nil
}

// GC removes expired sessions now.
func (a *Admin) GC(ctx context.Context) (SweepResult, error) {
	s, ok := a.st.(store.Sweeper)
	if !ok {
		return SweepResult{}, fmt.Errorf("%w: sweeping", ErrUnsupported)
	}
	return s.Sweep(ctx)
}

// Compact gives the space of removed sessions back to the file system
// (bbolt files only; see boltstore.Store.Compact).
func (a *Admin) Compact(ctx context.Context) (CompactResult, error) {
	c, ok := a.st.(compacter)
	if !ok {
		return CompactResult{}, fmt.Errorf("%w: compaction (only bbolt files need it)", ErrUnsupported)
	}
	return c.Compact(ctx)
}

// resolve turns a full ID or a unique prefix into a full ID.
func (a *Admin) resolve(ctx context.Context, id string) (string, error) {
	if len(id) < MinPrefix {
		return "", fmt.Errorf("%w: give at least %d characters", ErrShortPrefix, MinPrefix)
	}
	if len(id) <= store.MaxIDLength {
		_, found, err := a.st.Load(ctx, id)
		if err != nil && !errors.Is(err, store.ErrInvalidID) {
			return "", err
		}
		if found {
			return id, nil
		}
	}
	l, ok := a.st.(store.Lister)
	if !ok {
		return "", fmt.Errorf("%w: %s (the store cannot list, so give the full ID)", ErrNotFound, prefix(id))
	}
	var matches []string
	err := l.List(ctx, func(full string, _ store.Meta) bool {
		if strings.HasPrefix(full, id) {
			matches = append(matches, full)
		}
		return len(matches) < 2
	})
	switch {
	case err != nil:
		return "", err
	case len(matches) == 0:
		return "", fmt.Errorf("%w: %s", ErrNotFound, prefix(id))
	case len(matches) > 1:
		return "", fmt.Errorf("%w: %s; give more characters", ErrAmbiguous, prefix(id))
	}
	return matches[0], nil
}

// ids returns every live session's ID. They are collected first because
// deleting while a store lists may skip sessions.
func (a *Admin) ids(ctx context.Context) ([]string, error) {
	l, ok := a.st.(store.Lister)
	if !ok {
		return nil, fmt.Errorf("%w: listing sessions", ErrUnsupported)
	}
	var ids []string
	err := l.List(ctx, func(id string, _ store.Meta) bool {
		ids = append(ids, id)
		return true
	})
	return ids, err
}

// prefix shortens a session ID to what may be shown.
func prefix(id string) string {
	if len(id) <= PrefixLength {
		return id
	}
	return id[:PrefixLength]
}

func openTabs(m *store.Meta) int {
	n := len(m.Tabs)
	if _, ok := m.Tabs[0]; !ok {
		n++ // tab 0 is always open
	}
	return n
}

func summary(id string, m *store.Meta) Session {
	return Session{
		ID:       prefix(id),
		Created:  m.Created,
		LastSeen: m.LastSeen,
		Expires:  m.ExpiresAt(),
		Tabs:     openTabs(m),
		Bytes:    m.Bytes,
	}
}
