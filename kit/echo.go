package kit

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/tabs"
)

// Context is the echo.Context handlers get through Handler, with the
// session attached.
type Context struct {
	echo.Context
	session *Session
}

// Session returns the request's session. It loads nothing until a value
// is read or written.
func (c *Context) Session() *Session { return c.session }

// From returns the *Context of a request that went through the kit. It
// panics if the kit is not installed, or the route is skipped, which is a
// wiring mistake.
func From(c echo.Context) *Context {
	if kc, ok := c.(*Context); ok {
		return kc
	}
	if q := requestOf(c.Request()); q != nil && q.ec != nil {
		return &q.kc
	}
	panic("kit: no session in context; is Manager.Install called, and is the route not skipped?")
}

// Handler adapts a handler that takes a *Context to Echo.
func Handler(h func(c *Context) error) echo.HandlerFunc {
	return func(c echo.Context) error { return h(From(c)) }
}

// Install wires the kit into e, as the first of e.Pre's middleware to
// run: every request passes through it before routing, so routes are
// registered without the tab number, and the kit's response writer sits
// under every other middleware. It refuses routes whose first path
// segment is all digits, since such paths belong to tabs; routes added
// later with one panic at registration.
//
// Compression belongs outside the kit, in e.Pre before Install (or in
// front of Echo), so the kit rewrites HTML before it is compressed. A
// gzip or deflate middleware registered after Install still works: the
// kit decodes a tab's HTML, rewrites it and encodes it again, at some
// cost. Any other encoding of a tab's HTML is refused with a 500 and an
// error in the log, never passed on with links that leave the tab.
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
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return m.serveEcho(c, next) }
	})
	return nil
}

// serveEcho runs an Echo request through the kit.
func (m *Manager) serveEcho(c echo.Context, next echo.HandlerFunc) error {
	res := c.Response()
	return m.serve(res.Writer, c.Request(), true, func(q *request) {
		q.ec = c
		q.kc = Context{Context: c, session: &q.sess}
		c.SetRequest(q.r)
		res.Writer = &q.writer
		q.out = res
	}, func(q *request) error {
		if q == nil {
			return next(c) // skipped
		}
		return next(c)
	})
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

// isEchoPage reports whether r's path is a GET route of e, so a bare
// visit is worth a tab (a 404 is not).
func (m *Manager) isEchoPage(e *echo.Echo, r *http.Request) bool {
	c := e.AcquireContext()
	defer e.ReleaseContext(c)
	c.Reset(r, nil)
	e.Router().Find(http.MethodGet, echo.GetPath(r), c)
	m.routesMu.RLock()
	defer m.routesMu.RUnlock()
	return m.getRoutes[c.Path()]
}
