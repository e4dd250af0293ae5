package boltstore

import "errors"

// Errors Open returns, possibly wrapped; test them with errors.Is. The
// methods of Store return the sentinel errors of package store.
var (
	// ErrLocked is returned by Open when another process (or another Open
	// in this one) has the file open and does not release it within
	// Options.Timeout. bbolt allows one writer per file.
	ErrLocked = errors.New("boltstore: file is in use by another process")

	// ErrNotDatabase is returned by Open when the file exists but is not a
	// bbolt database, or is one that belongs to another program or to an
	// unknown version of this package.
	ErrNotDatabase = errors.New("boltstore: not a session database")
)
