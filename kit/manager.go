package kit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tabkit/tabkit/internal/session"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/tabs"
)

// Manager ties sessions and tabs to an application. Make one with New,
// wire it with Install (Echo) or Wrap (net/http), and Close it when the
// server has stopped.
type Manager struct {
	cfg       Config
	core      session.Config
	store     store.Store
	ownsStore bool
	cookies   cookieCodec
	rewriter  *tabs.Rewriter
	log       *slog.Logger

	// stopEvents cancels the subscription to the store's events.
	stopEvents func()
	closeOnce  sync.Once

	// routesMu guards getRoutes, which Echo may extend while the app
	// registers routes after Install.
	routesMu  sync.RWMutex
	getRoutes map[string]bool
}

// New checks cfg, fills its zero fields and opens the default store when
// cfg.Store is nil.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	exempt := append([]string{"/static/"}, cfg.ExemptPrefixes...)
	rw, err := tabs.New(tabs.Config{
		MaxID:  cfg.MaxTabID,
		Exempt: exempt,
		Attrs:  cfg.URLAttributes,
		Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	m := &Manager{
		cfg:       cfg,
		store:     cfg.Store,
		cookies:   newCookieCodec(cfg.SigningKeys, cfg.Lifetime),
		rewriter:  rw,
		log:       cfg.Logger,
		getRoutes: make(map[string]bool),
	}
	if m.store == nil {
		bolt, err := boltstore.Open(cfg.DBPath, nil)
		if err != nil {
			return nil, fmt.Errorf("kit: opening the default store: %w", err)
		}
		m.store, m.ownsStore = bolt, true
	}
	if cfg.MaxSessionsPerPrincipal > 0 {
		if _, ok := m.store.(store.PrincipalIndex); !ok {
			m.closeStore()
			return nil, fmt.Errorf("kit: MaxSessionsPerPrincipal: %w", ErrNoPrincipalIndex)
		}
	}
	m.core = session.Config{
		Store:             m.store,
		Now:               cfg.Now,
		IdleTimeout:       cfg.IdleTimeout,
		Lifetime:          cfg.Lifetime,
		TouchInterval:     cfg.TouchInterval,
		TabIdleTimeout:    cfg.TabIdleTimeout,
		MaxSessionBytes:   cfg.MaxSessionBytes,
		MaxTabs:           cfg.MaxTabs,
		MaxTabID:          cfg.MaxTabID,
		PersistentCookies: cfg.PersistentCookies,
		PrincipalLimit: store.PrincipalLimit{
			Max:         cfg.MaxSessionsPerPrincipal,
			EvictOldest: cfg.WhenPrincipalFull == EndOldestSession,
		},
		Observe: m.observeUnit,
	}
	if n, ok := m.store.(store.Notifier); ok {
		m.stopEvents = n.Subscribe(m.observeStore)
	}
	return m, nil
}

// Store returns the store the Manager uses.
func (m *Manager) Store() store.Store { return m.store }

// Rewriter returns the tab URL rewriter the Manager uses.
func (m *Manager) Rewriter() *tabs.Rewriter { return m.rewriter }

// Close stops listening to the store's events and closes the store if
// New opened it. A store passed in Config is left open for its owner.
func (m *Manager) Close() error {
	var err error
	m.closeOnce.Do(func() {
		if m.stopEvents != nil {
			m.stopEvents()
		}
		err = m.closeStore()
	})
	return err
}

func (m *Manager) closeStore() error {
	if !m.ownsStore {
		return nil
	}
	if c, ok := m.store.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// SessionInfo describes a stored session for listings. It never holds
// the session's token.
type SessionInfo struct {
	// Handle names the session (its store ID); it cannot be used as a
	// cookie. EndSession takes it.
	Handle    string
	Principal string
	Created   time.Time
	LastSeen  time.Time
	// Tabs counts the open tabs, tab 0 included.
	Tabs int
}

func sessionInfo(ref store.SessionRef) SessionInfo {
	n := len(ref.Meta.Tabs) + 1
	if _, ok := ref.Meta.Tabs[0]; ok {
		n--
	}
	return SessionInfo{
		Handle:    ref.ID,
		Principal: ref.Meta.Principal,
		Created:   ref.Meta.Created,
		LastSeen:  ref.Meta.LastSeen,
		Tabs:      n,
	}
}

func (m *Manager) principalIndex() (store.PrincipalIndex, error) {
	idx, ok := m.store.(store.PrincipalIndex)
	if !ok {
		return nil, ErrNoPrincipalIndex
	}
	return idx, nil
}

// SessionsOf lists the live sessions of principal, most recently seen
// first.
func (m *Manager) SessionsOf(ctx context.Context, principal string) ([]SessionInfo, error) {
	idx, err := m.principalIndex()
	if err != nil {
		return nil, err
	}
	refs, err := idx.SessionsOf(ctx, principal)
	if err != nil {
		return nil, fmt.Errorf("kit: listing sessions of a principal: %w", err)
	}
	list := make([]SessionInfo, 0, len(refs))
	for _, ref := range refs {
		list = append(list, sessionInfo(ref))
	}
	sortByLastSeen(list)
	return list, nil
}

// EndSessionsOf ends every session of principal ("sign out everywhere")
// and returns how many it ended. A browser whose session ended finds
// itself signed out on its next request.
func (m *Manager) EndSessionsOf(ctx context.Context, principal string) (int, error) {
	return m.endSessionsOf(ctx, principal, "")
}

func (m *Manager) endSessionsOf(ctx context.Context, principal, except string) (int, error) {
	if principal == "" {
		return 0, errors.New("kit: ending the sessions of no principal")
	}
	idx, err := m.principalIndex()
	if err != nil {
		return 0, err
	}
	refs, err := idx.SessionsOf(ctx, principal)
	if err != nil {
		return 0, fmt.Errorf("kit: listing sessions of a principal: %w", err)
	}
	ended := 0
	for _, ref := range refs {
		if ref.ID == except {
			continue
		}
		if err := m.store.Delete(ctx, ref.ID); err != nil {
			return ended, fmt.Errorf("kit: ending a session: %w", err)
		}
		ended++
		m.observe(Event{Kind: EventSessionDestroyed, Handle: ref.ID, Principal: principal})
	}
	if ended > 0 {
		m.log.Info("ended the sessions of a principal", "principal", principal, "sessions", ended)
	}
	return ended, nil
}

// EndSession ends the session with the given handle (SessionInfo.Handle),
// as an operator would.
func (m *Manager) EndSession(ctx context.Context, handle string) error {
	if err := m.store.Delete(ctx, handle); err != nil {
		return fmt.Errorf("kit: ending a session: %w", err)
	}
	m.observe(Event{Kind: EventSessionDestroyed, Handle: handle})
	return nil
}

func sortByLastSeen(list []SessionInfo) {
	slices.SortFunc(list, func(a, b SessionInfo) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.Handle, b.Handle)
	})
}
