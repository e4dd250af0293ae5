package kit

import (
	"net/http"

	"github.com/tabkit/tabkit/internal/session"
)

// Wrap returns next with sessions and tabs, for net/http, chi and any
// router that takes a func(http.Handler) http.Handler: the tab prefix is
// cut from the path before next sees it, handlers reach the session with
// SessionOf(r), and the session is committed before the response's first
// byte. Bare URLs to GET and HEAD (not exempt) are redirected to a tab.
func (m *Manager) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = m.serve(w, r, false, nil, func(q *request) error {
			if q == nil {
				next.ServeHTTP(w, r) // skipped
				return nil
			}
			next.ServeHTTP(&q.writer, q.r)
			return nil
		})
	})
}

// finish commits the request's session once, before its response's
// first byte (or discards it for a server error), and returns the
// failure to answer with instead.
func (q *request) finish(status int) *Error {
	if q.unit.Finished() {
		return nil
	}
	err := q.unit.Finish(status >= http.StatusInternalServerError)
	switch {
	case err == nil:
		return nil
	case session.IsUpkeep(err):
		q.m.log.Warn("could not record session upkeep; serving the request anyway", "path", q.r.URL.Path, "err", err)
		return nil
	}
	return storeFailure(err)
}

// setCookie adds the Set-Cookie header when the browser's idea of the
// session must change.
func (q *request) setCookie(h http.Header) {
	token, expires, changed := q.unit.Cookie()
	if !changed {
		return
	}
	q.unit.CookieSent()
	r := q.r
	if token == "" && !hasCookieHeader(r, q.m.cookieName(r)) {
		return // the browser holds no cookie to remove
	}
	cookie, err := q.m.sessionCookie(r, token, expires)
	if err != nil {
		q.m.log.Error("encoding session cookie", "err", err)
		return
	}
	h.Add("Set-Cookie", cookie.String())
}

// Fail answers a handler's error for net/http handlers, as returning it
// from an Echo handler does: what the request queued is discarded (half
// its work must not land), and the error is answered through
// Config.ErrorHandler with its status (503 for a store that is down, 409
// for a conflict or a closed tab, 413 for a session too large, 400 for a
// tab route reached without a tab, 500 for anything else).
func Fail(w http.ResponseWriter, r *http.Request, err error) {
	q := requestOf(r)
	if q == nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	q.unit.Drop()
	e := errorFor(err)
	if e == nil {
		e = &Error{Status: http.StatusInternalServerError, Message: "Something went wrong.", Err: err}
	}
	q.m.fail(q, e)
}
