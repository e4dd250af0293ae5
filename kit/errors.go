package kit

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/store"
)

// Errors a handler may branch on. Errors from the store pass through
// wrapped, so errors.Is(err, store.ErrTooLarge) and friends work too.
var (
	// ErrNoTab is returned by the methods of Session.Tab on a request that
	// has no tab: an exempt route, or a skipped one.
	ErrNoTab = errors.New("kit: request has no tab")

	// ErrReservedKey is returned for key names that begin with the byte
	// the kit keeps for its own keys (flashes).
	ErrReservedKey = errors.New("kit: key names starting with \\x00 are reserved")

	// ErrUnknownTab is what the kit answers, as an *Error with status 409,
	// to an unsafe request naming a tab that this session does not have.
	ErrUnknownTab = errors.New("kit: tab is not open in this session")
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

// storeFailure turns an error from the store into the answer a visitor
// gets: 503 for conditions that pass, 413 for a session over its limit,
// 409 for a session ended meanwhile, 500 for the rest.
func storeFailure(err error) *Error {
	switch {
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrFull):
		return &Error{Status: http.StatusServiceUnavailable, Message: "Sessions are unavailable right now; please retry shortly.", Err: err}
	case errors.Is(err, store.ErrTooLarge):
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: "Your session is too large to store this change.", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusConflict, Message: "Your session ended while this request ran; nothing was saved.", Err: err}
	default:
		return &Error{Status: http.StatusInternalServerError, Message: "The session could not be saved.", Err: err}
	}
}

// isStoreError reports whether err comes from the store with a meaning
// the visitor should get as a status.
func isStoreError(err error) bool {
	for _, target := range []error{store.ErrUnavailable, store.ErrFull, store.ErrTooLarge, store.ErrNotFound} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// retryAfterSeconds is what a 503 tells clients to wait.
const retryAfterSeconds = "5"

func plainErrorPage(c echo.Context, err *Error) error {
	if err.Status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	}
	return c.String(err.Status, fmt.Sprintf("%d %s\n%s\n", err.Status, http.StatusText(err.Status), err.Message))
}
