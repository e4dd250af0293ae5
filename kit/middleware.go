package kit

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/tabs"
)

// ForkPath is the endpoint, under a tab's prefix, that tabs.js calls to
// turn a duplicated browser tab into a tab of its own: POST /N/_tabkit/fork.
const ForkPath = "/_tabkit/fork"

// ForkHeader must be present on fork requests. A cross-site page cannot
// send a custom header without a CORS preflight, which the kit never
// grants, so the header is the fork endpoint's CSRF defence.
const ForkHeader = "X-Tabkit-Fork"

// entry says how a request's path addressed a tab.
type entry int

const (
	bareEntry   entry = iota // no prefix: "/cart"
	tabEntry                 // "/3/cart"
	newTabEntry              // "/+/cart": open a new tab there
)

// newTabKey marks a request that came in through "/+/": the rare case
// that needs a mark of its own. A tab entry is known by its tab ID in the
// request's context, a bare one by having neither.
type newTabKey struct{}

func entryFrom(r *http.Request) entry {
	ctx := r.Context()
	if _, ok := tabs.IDFromContext(ctx); ok {
		if ctx.Value(newTabKey{}) != nil {
			return newTabEntry
		}
		return tabEntry
	}
	if ctx.Value(newTabKey{}) != nil {
		return newTabEntry
	}
	return bareEntry
}

// prefixMiddleware runs in e.Pre: it takes the tab prefix off the path, so
// routes are registered without it, and notes what it found.
func (m *Manager) prefixMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		// The escaped path decides, so "/%31/" is not tab 1.
		escaped := r.URL.EscapedPath()
		how := bareEntry
		ctx := r.Context()
		if rest, ok := tabs.ParseNew(escaped); ok {
			how = newTabEntry
			setPath(r, escaped, rest)
		} else if id, rest, ok := m.rewriter.Parse(escaped); ok {
			how = tabEntry
			ctx = tabs.WithID(ctx, id)
			if newRest, ok := tabs.ParseNew(rest); ok {
				// "/3/+/cart": a tab's rewritten link to "/+/cart".
				how, rest = newTabEntry, newRest
			}
			setPath(r, escaped, rest)
		}
		if how == newTabEntry {
			ctx = context.WithValue(ctx, newTabKey{}, true)
		}
		if how != bareEntry {
			c.SetRequest(r.WithContext(ctx))
		}
		return next(c)
	}
}

// setPath replaces r's path by rest, the escaped path after its prefix.
// The prefix is plain ASCII, so the unescaped path loses the same bytes.
func setPath(r *http.Request, escaped, rest string) {
	cut := len(escaped) - len(rest)
	if cut < 0 {
		cut = 0 // "/3" became "/": nothing after the prefix
	}
	if r.URL.RawPath != "" {
		r.URL.RawPath = rest
	}
	if cut <= len(r.URL.Path) {
		r.URL.Path = r.URL.Path[cut:]
	}
	if r.URL.Path == "" || r.URL.Path[0] != '/' {
		r.URL.Path = "/" + r.URL.Path
	}
}

// requestParts holds what the session middleware makes per request, so
// it costs one allocation.
type requestParts struct {
	state   requestState
	session Session
	context Context
	writer  responseWriter
}

// sessionMiddleware runs first in e.Use: it attaches the session, keeps
// the request in its lane, and commits before the response starts.
func (m *Manager) sessionMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		if m.cfg.Skipper != nil && m.cfg.Skipper(c) {
			return next(c)
		}
		r := c.Request()
		how := entryFrom(r)
		exempt := m.rewriter.IsExempt(r.URL.Path)
		// One allocation for everything the request needs.
		parts := &requestParts{}
		st := &parts.state
		m.initState(st, c)
		if exempt {
			st.hasTab, st.tab = false, 0
		}
		parts.session.namespace = namespace{st: st}
		kc := &parts.context
		kc.Context, kc.session = c, &parts.session
		c.Set(contextKey, kc)

		if !exempt {
			handled, err := m.route(kc, st, how)
			if handled || err != nil {
				return err
			}
		}

		w := &parts.writer
		*w = responseWriter{ResponseWriter: c.Response().Writer, st: st, c: c, rewrite: st.hasTab}
		c.Response().Writer = w
		defer func() {
			if p := recover(); p != nil {
				st.dropPending("panic")
				panic(p)
			}
		}()
		if st.hasTab {
			st.maintainTabs()
		}
		if err := next(kc); err != nil {
			// A failed handler commits nothing it queued: half its work
			// must not land.
			st.dropPending("handler returned an error")
			m.handleError(c, err)
		}
		if !w.wroteHeader {
			if failure := st.finish(c.Response().Status); failure != nil {
				if err := m.cfg.ErrorHandler(c, failure); err != nil {
					c.Error(err)
				}
			}
		}
		return w.close()
	}
}

// route handles what the kit answers itself: bare URLs, new-tab entries,
// forks and tabs this session does not have. handled reports that the
// response is written.
func (m *Manager) route(kc *Context, st *requestState, how entry) (handled bool, err error) {
	r := kc.Request()
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch how {
	case newTabEntry:
		return true, m.redirectToNewTab(kc, st, freshTab, safe)
	case bareEntry:
		if safe && m.isGetRoute(kc.Path()) {
			return true, m.redirectToNewTab(kc, st, reuseEmptyTab, true)
		}
		return false, nil
	}
	open, err := st.tabIsOpen()
	if err != nil {
		return true, m.fail(kc, storeFailure(err))
	}
	if !open {
		m.observe(Event{Kind: EventUnknownTab})
		m.log.Info("request for a tab this session does not have", "tab", st.tab, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		if !safe {
			return true, m.fail(kc, &Error{Status: http.StatusConflict, Err: ErrUnknownTab,
				Message: "This page belongs to a tab that is no longer open in your session. Nothing was changed; reload the page to continue in a new tab."})
		}
		return true, m.redirectFromUnknownTab(kc, st)
	}
	if r.URL.Path == ForkPath && r.Method == http.MethodPost {
		return true, m.fork(kc, st)
	}
	return false, nil
}

// handleError answers a handler's error: the kit's own errors and the
// store's (wrapped by Get, Set, Update…) get their status (503 for a store
// that is down, 413 for a session too large); the rest go to Echo.
func (m *Manager) handleError(c echo.Context, err error) {
	var kitErr *Error
	switch {
	case errors.As(err, &kitErr):
	case isStoreError(err):
		kitErr = storeFailure(err)
	default:
		c.Error(err)
		return
	}
	if c.Response().Committed {
		m.log.Error("handler failed after its response started", "err", err)
		return
	}
	if err := m.fail(c, kitErr); err != nil {
		c.Error(err)
	}
}

func (m *Manager) fail(c echo.Context, e *Error) error {
	if e.Status >= http.StatusInternalServerError {
		m.log.Error("session store failed", "status", e.Status, "path", c.Request().URL.Path, "err", e.Err)
	}
	return m.cfg.ErrorHandler(c, e)
}

// redirectToNewTab sends the browser to the same path in another tab: 303
// for a safe request, 307 (method and body kept) otherwise.
func (m *Manager) redirectToNewTab(kc *Context, st *requestState, how tabOpening, safe bool) error {
	tab, err := st.openTab(how, nil)
	if err != nil {
		return m.fail(kc, storeFailure(err))
	}
	status := http.StatusSeeOther
	if !safe {
		status = http.StatusTemporaryRedirect
	}
	return m.redirect(kc, st, status, tab)
}

// redirectFromUnknownTab opens a fresh tab for a stale or forged number
// and says so in a flash there, under the "tabkit" key.
func (m *Manager) redirectFromUnknownTab(kc *Context, st *requestState) error {
	tab, err := st.openTab(freshTab, nil)
	if err != nil {
		return m.fail(kc, storeFailure(err))
	}
	if st.found {
		st.tab = tab
		_ = kc.Session().Tab().Flash(FlashKey, UnknownTabMessage)
	}
	return m.redirect(kc, st, http.StatusSeeOther, tab)
}

// FlashKey is the flash key under which the kit leaves its own messages
// for a tab, such as UnknownTabMessage.
const FlashKey = "tabkit"

// UnknownTabMessage is flashed in the tab a stale or forged tab number was
// redirected to.
const UnknownTabMessage = "That tab is no longer open, so this page opened in a new one."

func (m *Manager) redirect(kc *Context, st *requestState, status int, tab tabs.ID) error {
	r := kc.Request()
	target := tabs.Prefix(tab, r.URL.EscapedPath())
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	if failure := st.finish(status); failure != nil {
		return m.fail(kc, failure)
	}
	kc.Response().Header().Set("Cache-Control", "no-store")
	return kc.Redirect(status, target)
}

// fork answers tabs.js: the browser tab is a copy of this tab, so give it
// a new number with a copy of this tab's data.
func (m *Manager) fork(kc *Context, st *requestState) error {
	r := kc.Request()
	if r.Header.Get(ForkHeader) == "" || !sameOrigin(r) {
		return m.fail(kc, &Error{Status: http.StatusForbidden, Message: "Cross-site fork refused."})
	}
	if err := st.load(); err != nil {
		return m.fail(kc, storeFailure(err))
	}
	if !st.found {
		// Without a session there is only tab 0 and nothing to copy; an
		// answer naming tab 0 again would send the page round in circles.
		return m.fail(kc, &Error{Status: http.StatusConflict, Err: ErrUnknownTab,
			Message: "There is no session to fork a tab in."})
	}
	parent := st.tab
	tab, err := st.openTab(freshTab, &parent)
	if err != nil {
		return m.fail(kc, storeFailure(err))
	}
	if failure := st.finish(http.StatusOK); failure != nil {
		return m.fail(kc, failure)
	}
	kc.Response().Header().Set("Cache-Control", "no-store")
	return kc.JSON(http.StatusOK, forkAnswer{Tab: tab, Prefix: tabs.Prefix(tab, "/")})
}

type forkAnswer struct {
	Tab    tabs.ID `json:"tab"`
	Prefix string  `json:"prefix"`
}

// sameOrigin rejects requests a browser marks as coming from another
// site; requests without those headers (old browsers, tools) pass on the
// strength of ForkHeader.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		return strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://") == r.Host
	}
	return true
}
