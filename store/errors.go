package store

import (
	"errors"
	"fmt"
)

// Errors a caller branches on. Backends return these (possibly wrapped), so
// test them with errors.Is.
var (
	// ErrNotFound is returned by Commit when the session does not exist, or
	// has expired, and the delta does not create it. A session destroyed by
	// one request while another was running ends up here.
	ErrNotFound = errors.New("store: session not found")

	// ErrExists is returned by Commit when a delta with Create set names a
	// session that is already live.
	ErrExists = errors.New("store: session already exists")

	// ErrNoTab is returned by Commit when the delta writes a value in a tab
	// that is not in the session's tab table, or in a tab the same delta's
	// EditMeta closed. Tab 0 is otherwise always open.
	ErrNoTab = errors.New("store: tab is not open")

	// ErrTooLarge is returned by Commit when applying the delta would make
	// the session bigger than Delta.MaxBytes or the store's own limit, or
	// when a key name is longer than MaxKeyName.
	ErrTooLarge = errors.New("store: session too large")

	// ErrFull is returned by Commit when creating a session would exceed a
	// store-wide quota (number of sessions or bytes) and the store's policy
	// is to refuse. Existing sessions keep working.
	ErrFull = errors.New("store: store is full")

	// ErrUnavailable is returned when the store cannot serve a request
	// right now: its server is unreachable, its disk is full. Nothing was
	// changed, and the same call may succeed later.
	ErrUnavailable = errors.New("store: store unavailable")

	// ErrInvalidID is returned when a session ID is empty or longer than
	// MaxIDLength.
	ErrInvalidID = errors.New("store: invalid session id")

	// ErrClosed is returned by every method of a store after Close.
	ErrClosed = errors.New("store: store is closed")

	// ErrCorrupt is returned when a stored record cannot be decoded.
	ErrCorrupt = errors.New("store: corrupt record")

	// ErrConflict is returned by Commit and Move when a value named in
	// Delta.Expect no longer holds what the caller read: another request
	// changed it meanwhile. Nothing was written; reading again and
	// retrying is safe.
	ErrConflict = errors.New("store: value changed since it was read")

	// ErrMoved is returned by Load and Commit for an ID that Move moved
	// away less than MovedGrace ago: a request that raced a sign-in in
	// another tab of the same browser. It wraps ErrNotFound. The session
	// lives on under an ID the request does not know; it must not create
	// a new one nor tell the browser to forget its cookie.
	ErrMoved = fmt.Errorf("store: session moved to a new ID: %w", ErrNotFound)

	// ErrTooManySessions is returned by Commit when giving the session a
	// principal would exceed Delta.PrincipalLimit and the limit does not
	// evict. Nothing was written.
	ErrTooManySessions = errors.New("store: principal has too many sessions")
)
