package kit

import (
	"github.com/labstack/echo/v4"
)

// contextKey is where the session middleware leaves the *Context in
// echo.Context's store, for From.
const contextKey = "tabkit.context"

// Context is the echo.Context handlers get from the session middleware,
// with the session attached.
type Context struct {
	echo.Context
	session *Session
}

// Session returns the request's session. It loads nothing until a value
// is read or written.
func (c *Context) Session() *Session { return c.session }

// From returns the *Context of a request that went through the session
// middleware. It panics if the middleware is not installed, which is a
// wiring mistake.
func From(c echo.Context) *Context {
	if kc, ok := c.(*Context); ok {
		return kc
	}
	if kc, ok := c.Get(contextKey).(*Context); ok {
		return kc
	}
	panic("kit: no session in context; is Manager.Install called, and is the route not skipped?")
}

// Handler adapts a handler that takes a *Context to Echo.
func Handler(h func(c *Context) error) echo.HandlerFunc {
	return func(c echo.Context) error { return h(From(c)) }
}
