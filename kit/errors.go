package kit

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tabkit/tabkit/internal/session"
	"github.com/tabkit/tabkit/store"
)

// Errors a handler may branch on. Errors from the store pass through
// wrapped, so errors.Is(err, store.ErrTooLarge) and friends work too.
var (
	// ErrNoTab is returned by the methods of Session.Tab on a request that
	// has no tab: an exempt or skipped route, or a request to a tab route
	// that named no tab (then wrapped in an *Error with status 400).
	ErrNoTab = errors.New("kit: request has no tab")

	// ErrReservedKey is returned for key names that begin with the byte
	// the kit keeps for its own keys (flashes).
	ErrReservedKey = errors.New("kit: key names starting with \\x00 are reserved")

	// ErrUnknownTab is what the kit answers, as an *Error with status 409,
	// to an unsafe request naming a tab that this session does not have.
	ErrUnknownTab = errors.New("kit: tab is not open in this session")

	// ErrConflict is returned when a change was computed from a value
	// that another request changed meanwhile: the request read a key,
	// then set or deleted it, and the stored value was no longer what it
	// read. Nothing was saved; the client gets 409. Use Update to change
	// a value atomically instead. It is store.ErrConflict.
	ErrConflict = store.ErrConflict

	// ErrTooManySessions is returned when a sign-in (SetPrincipal) would
	// exceed Config.MaxSessionsPerPrincipal under RefuseSignIn. It is
	// store.ErrTooManySessions.
	ErrTooManySessions = store.ErrTooManySessions

	// ErrResponseStarted is returned for a change made after the response
	// started that cannot land: one that would create or regenerate the
	// session, which needs a cookie the response can no longer carry.
	// Changes to an existing session made then are committed at once.
	ErrResponseStarted = session.ErrResponseStarted

	// ErrNoUserLoader is returned by Session.User when neither the store
	// loads users with sessions nor Config.LoadUser is set.
	ErrNoUserLoader = errors.New("kit: no way to load users: set Config.LoadUser or use a store that joins them")

	// ErrNoPrincipalIndex is returned by principal operations on a store
	// that does not implement store.PrincipalIndex.
	ErrNoPrincipalIndex = errors.New("kit: the store keeps no index of principals")
)

// Error is an answer the kit gives on its own, rendered by
// Config.ErrorHandler.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int
	// Message is safe to show the visitor.
	Message string
	// Err is the cause, for logs; never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("kit: %d %s", e.Status, e.Message)
	}
	return fmt.Sprintf("kit: %d %s: %v", e.Status, e.Message, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// errorFor turns an error from the session into the answer a visitor
// gets, or nil when it is not one the kit knows: 503 for conditions that
// pass, 413 for a session over its limit, 409 for a session ended or a
// value changed meanwhile, 400 for a tab route reached without a tab.
func errorFor(err error) *Error {
	var kitErr *Error
	switch {
	case errors.As(err, &kitErr):
		return kitErr
	case isErr(err, store.ErrUnavailable), isErr(err, store.ErrFull):
		return &Error{Status: http.StatusServiceUnavailable, Message: "Sessions are unavailable right now; please retry shortly.", Err: err}
	case isErr(err, store.ErrTooLarge):
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: "Your session is too large to store this change.", Err: err}
	case isErr(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Message: "This was changed in another tab or window while you were working. Nothing was saved; reload the page and try again.", Err: err}
	case isErr(err, store.ErrTooManySessions):
		return &Error{Status: http.StatusConflict, Message: "This account is signed in on too many devices. Sign out on one of them first.", Err: err}
	case isErr(err, store.ErrMoved):
		return &Error{Status: http.StatusConflict, Message: "You signed in again in another tab or window while this page was on its way. Nothing was saved; reload the page.", Err: err}
	case isErr(err, store.ErrNotFound):
		return &Error{Status: http.StatusConflict, Message: "Your session ended while this request ran; nothing was saved.", Err: err}
	case isErr(err, session.ErrResponseStarted):
		return &Error{Status: http.StatusInternalServerError, Message: "The session could not be saved.", Err: err}
	case isErr(err, session.ErrNoTab), isErr(err, store.ErrNoTab):
		return &Error{Status: http.StatusConflict, Message: "This tab is no longer open. Nothing was changed; reload the page to continue in a new tab.", Err: err}
	}
	return nil
}

// storeFailure is errorFor for errors the kit met itself: anything
// unknown is a 500.
func storeFailure(err error) *Error {
	if e := errorFor(err); e != nil {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Message: "The session could not be saved.", Err: err}
}

func isErr(err, target error) bool { return errors.Is(err, target) }

// retryAfterSeconds is what a 503 tells clients to wait.
const retryAfterSeconds = "5"

// ownPageCSP is the Content-Security-Policy of the kit's own pages: they
// load nothing and run nothing.
const ownPageCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// setOwnPageHeaders marks a page the kit answers itself.
func setOwnPageHeaders(h http.Header, e *Error) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", ownPageCSP)
	if e != nil && e.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", retryAfterSeconds)
	}
}

func plainErrorPage(w http.ResponseWriter, _ *http.Request, err *Error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(err.Status)
	fmt.Fprintf(w, "%d %s\n%s\n", err.Status, http.StatusText(err.Status), err.Message)
}
