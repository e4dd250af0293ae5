package kit

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/tabs"
)

// Manager ties sessions and tabs to an Echo application. Make one with
// New, wire it with Install, and Close it when the server has stopped.
type Manager struct {
	cfg       Config
	store     store.Store
	ownsStore bool
	cookies   cookieCodec
	rewriter  *tabs.Rewriter
	log       *slog.Logger
	now       store.Clock

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
	return m, nil
}

// Store returns the store the Manager uses.
func (m *Manager) Store() store.Store { return m.store }

// Rewriter returns the tab URL rewriter the Manager uses.
func (m *Manager) Rewriter() *tabs.Rewriter { return m.rewriter }

// Close closes the store if New opened it. A store passed in Config is
// left open for its owner.
func (m *Manager) Close() error {
	if !m.ownsStore {
		return nil
	}
	if c, ok := m.store.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Install wires the kit into e: the tab prefix handling first in e.Pre,
// the session middleware in e.Use (call Install before adding other
// middleware, so the session is committed before theirs writes). It
// refuses routes whose first path segment is all digits, since such paths
// belong to tabs; routes added later with one panic at registration.
//
// Compression middleware must run outside the kit (e.Pre, before Install)
// so the kit sees and rewrites HTML before it is compressed; a response
// that is already encoded is passed through untouched.
func (m *Manager) Install(e *echo.Echo) error {
	if e == nil {
		return errors.New("kit: Install needs an *echo.Echo")
	}
	for _, r := range e.Routes() {
		if err := m.addRoute(r.Method, r.Path); err != nil {
			return err
		}
	}
	previous := e.OnAddRouteHandler
	e.OnAddRouteHandler = func(host string, r echo.Route, h echo.HandlerFunc, mw []echo.MiddlewareFunc) {
		if err := m.addRoute(r.Method, r.Path); err != nil {
			panic(err.Error())
		}
		if previous != nil {
			previous(host, r, h, mw)
		}
	}
	e.Pre(m.prefixMiddleware)
	e.Use(m.sessionMiddleware)
	return nil
}

// addRoute checks a route and remembers GET routes, which bare URLs are
// redirected to a tab for.
func (m *Manager) addRoute(method, path string) error {
	if tabs.HasNumericFirstSegment(path) {
		return fmt.Errorf("kit: route %s %s: a first path segment of digits is a tab number; choose another path", method, path)
	}
	if path == ForkPath || path == "/+" || len(path) > 2 && path[:3] == "/+/" {
		return fmt.Errorf("kit: route %s %s is reserved for tabs", method, path)
	}
	if method == http.MethodGet {
		m.routesMu.Lock()
		m.getRoutes[path] = true
		m.routesMu.Unlock()
	}
	return nil
}

func (m *Manager) isGetRoute(path string) bool {
	m.routesMu.RLock()
	defer m.routesMu.RUnlock()
	return m.getRoutes[path]
}
