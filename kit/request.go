package kit

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/internal/session"
	"github.com/tabkit/tabkit/tabs"
)

// request is the kit's state for one request: the session core's unit
// of work, the views handlers get, and the response writer. It is made
// in one allocation and is also the request's context.Context, so that
// SessionOf finds it without another allocation.
type request struct {
	// Context is the request's context before the kit.
	context.Context

	m    *Manager
	unit session.Unit
	// tokens backs the unit's candidate tokens.
	tokens [maxSessionCookies]string

	entry  entry
	exempt bool
	// r is the request as the handler sees it; out is where the kit
	// writes its own answers (Echo's Response, or writer).
	r   *http.Request
	out http.ResponseWriter

	sess   Session
	tab    Tab
	writer responseWriter

	// ec and kc are set when the request came through Echo.
	ec echo.Context
	kc Context

	user userCache
}

// requestKey finds the request in a context.
type requestKey struct{}

// Value implements context.Context. It answers tabs.IDFromContext
// itself, so a tab costs no context of its own.
func (q *request) Value(key any) any {
	switch {
	case key == (requestKey{}):
		return q
	case tabs.IsIDKey(key):
		if tab, ok := q.unit.Tab(); ok {
			return tab
		}
		return nil
	}
	return q.Context.Value(key)
}

// requestOf returns the kit's state of r, or nil.
func requestOf(r *http.Request) *request {
	q, _ := r.Context().Value(requestKey{}).(*request)
	return q
}

// SessionOf returns the session of a request that went through
// Manager.Wrap (or Install, for Echo). It loads nothing until a value is
// read or written. It panics when the request did not go through the
// kit, which is a wiring mistake.
func SessionOf(r *http.Request) *Session {
	q := requestOf(r)
	if q == nil {
		panic("kit: no session in the request; is it served through Manager.Wrap or Manager.Install, and not skipped?")
	}
	return &q.sess
}
