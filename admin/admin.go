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

// Listings show the first PrefixLength characters of each session ID,
// enough to tell sessions apart and to name one, and operations that
// name one session accept a prefix of at least MinPrefix characters or
// the whole ID. The whole ID is in Session.Handle when it is a hash
// (store.HashToken), which works as no cookie; an ID that may be a
// cookie's token (a store written before IDs were hashed) is never shown
// beyond its prefix.
const (
	PrefixLength = 8
	MinPrefix    = 8
)

// Session is one line of a listing.
type Session struct {
	// ID is the first PrefixLength characters of the session ID.
	ID string `json:"id"`
	// Handle is the whole session ID when it is a hash of the cookie's
	// token (the handle kit's SessionInfo and events carry), and ""
	// when the ID may be the token itself: a session stored before IDs
	// were hashed, which Rekey moves to its hash.
	Handle string `json:"handle,omitempty"`
	// KeyedByToken marks a session stored under an ID of the shape of a
	// cookie token: one from before IDs were hashed, which kit no
	// longer finds until Rekey moves it.
	KeyedByToken bool `json:"keyed_by_token,omitempty"`
	// Principal is who the session belongs to (store.Meta.Principal),
	// "" when nobody.
	Principal string    `json:"principal"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
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

// Ender ends sessions as an application would, so that the
// application hears of it. *kit.Manager is one: sessions it ends are
// reported to kit.Config.Observe as kit.EventSessionDestroyed.
type Ender interface {
	// EndSession ends the session whose store ID is handle.
	EndSession(ctx context.Context, handle string) error
	// EndSessionsOf ends every live session of principal and returns
	// how many it ended.
	EndSessionsOf(ctx context.Context, principal string) (int, error)
}

// Config configures NewWith.
type Config struct {
	// Store is what the operations run on. Required; it stays the
	// caller's to close.
	Store store.Store
	// Ender, when set, ends the sessions that Delete, Clear and
	// EndSessionsOf remove, instead of deleting them from Store: give
	// the application's *kit.Manager (over the same Store) so that its
	// Config.Observe sees the sessions an operator ends. Default nil:
	// the sessions are deleted from Store, and the application is not
	// told (its users find themselves signed out all the same).
	Ender Ender
}

// Admin runs the operations on a store in this process.
type Admin struct {
	st    store.Store
	ender Ender
}

// New returns an Admin for st that deletes from st directly. The store
// stays the caller's to close.
func New(st store.Store) *Admin { return &Admin{st: st} }

// NewWith returns an Admin configured by cfg.
func NewWith(cfg Config) (*Admin, error) {
	if cfg.Store == nil {
		return nil, errors.New("admin: Config.Store is nil")
	}
	return &Admin{st: cfg.Store, ender: cfg.Ender}, nil
}

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
	sortSessions(list)
	return list, nil
}

// SessionsOf lists the live sessions of principal p, most recently seen
// first. It needs a store.PrincipalIndex.
func (a *Admin) SessionsOf(ctx context.Context, p string) ([]Session, error) {
	idx, err := a.principalIndex(p)
	if err != nil {
		return nil, err
	}
	refs, err := idx.SessionsOf(ctx, p)
	if err != nil {
		return nil, err
	}
	list := make([]Session, 0, len(refs))
	for _, ref := range refs {
		list = append(list, summary(ref.ID, &ref.Meta))
	}
	sortSessions(list)
	return list, nil
}

// EndSessionsOf ends every live session of principal p ("sign out
// everywhere") and returns how many it ended. It needs a
// store.PrincipalIndex.
func (a *Admin) EndSessionsOf(ctx context.Context, p string) (int, error) {
	idx, err := a.principalIndex(p)
	if err != nil {
		return 0, err
	}
	if a.ender != nil {
		return a.ender.EndSessionsOf(ctx, p)
	}
	refs, err := idx.SessionsOf(ctx, p)
	if err != nil {
		return 0, err
	}
	for i, ref := range refs {
		if err := a.st.Delete(ctx, ref.ID); err != nil {
			return i, err
		}
	}
	return len(refs), nil
}

func (a *Admin) principalIndex(p string) (store.PrincipalIndex, error) {
	if p == "" {
		return nil, ErrNoPrincipal
	}
	idx, ok := a.st.(store.PrincipalIndex)
	if !ok {
		return nil, fmt.Errorf("%w: finding the sessions of a principal (the store keeps no index of principals)", ErrUnsupported)
	}
	return idx, nil
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
	if err := a.end(ctx, full); err != nil {
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
		if err := a.end(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// end ends session id through the Ender when there is one.
func (a *Admin) end(ctx context.Context, id string) error {
	if a.ender != nil {
		return a.ender.EndSession(ctx, id)
	}
	return a.st.Delete(ctx, id)
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

func sortSessions(list []Session) {
	slices.SortFunc(list, func(x, y Session) int {
		if c := y.LastSeen.Compare(x.LastSeen); c != 0 {
			return c
		}
		if c := strings.Compare(x.ID, y.ID); c != 0 {
			return c
		}
		return strings.Compare(x.Handle, y.Handle)
	})
}

func summary(id string, m *store.Meta) Session {
	s := Session{
		ID:        prefix(id),
		Principal: m.Principal,
		Created:   m.Created,
		LastSeen:  m.LastSeen,
		Expires:   m.ExpiresAt(),
		Tabs:      openTabs(m),
		Bytes:     m.Bytes,
	}
	switch {
	case isHandle(id):
		s.Handle = id
	case isToken(id):
		s.KeyedByToken = true
	}
	return s
}
