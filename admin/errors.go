package admin

import "errors"

// Errors the operations return, possibly wrapped; test them with
// errors.Is. Client returns the same ones for the same conditions.
var (
	// ErrNotFound is returned when no live session has the given ID or
	// ID prefix.
	ErrNotFound = errors.New("admin: no such session")

	// ErrAmbiguous is returned when an ID prefix matches more than one
	// session.
	ErrAmbiguous = errors.New("admin: session ID prefix matches several sessions")

	// ErrShortPrefix is returned when an ID prefix is shorter than
	// MinPrefix.
	ErrShortPrefix = errors.New("admin: session ID prefix too short")

	// ErrNoPrincipal is returned when an operation on a principal's
	// sessions is given the empty principal, which names the sessions
	// of nobody in particular.
	ErrNoPrincipal = errors.New("admin: no principal given")

	// ErrUnsupported is returned when the store cannot do what was asked:
	// list without store.Lister, sweep without store.Sweeper, find a
	// principal's sessions without store.PrincipalIndex, and so on.
	ErrUnsupported = errors.New("admin: the store does not support this operation")

	// ErrRefused is returned when a destructive operation was asked for
	// without its confirmation.
	ErrRefused = errors.New("admin: refused without confirmation")
)
