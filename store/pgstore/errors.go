package pgstore

import "errors"

// ErrSchemaTooNew is returned by New and Open when the database's tables
// were made or upgraded by a newer version of this package than the one
// running: the store would not know how to read or keep them. The error
// names both versions; upgrade the application, or give it tables of its
// own with another TablePrefix.
var ErrSchemaTooNew = errors.New("pgstore: schema is newer than this code")
