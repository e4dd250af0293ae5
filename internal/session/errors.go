package session

import "errors"

// Errors a caller branches on.
var (
	// ErrResponseStarted is returned for a change made after Finish that
	// cannot land without telling the browser a new cookie: creating,
	// regenerating the session. Changes to an existing session made after
	// Finish are committed at once instead.
	ErrResponseStarted = errors.New("session: the response has started; this change needs a cookie it can no longer send")

	// ErrNoTab is returned for tab operations on a request without a tab.
	ErrNoTab = errors.New("session: request has no tab")

	// ErrTabNumbersUsedUp is returned when a session has handed out every
	// tab number up to Config.MaxTabID.
	ErrTabNumbersUsedUp = errors.New("session: every tab number is used")
)
