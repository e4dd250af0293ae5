package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/tabkit/tabkit/store"
)

// Move implements store.Store as one optimistic transaction: WATCH both
// IDs, read the session and whether to is live, plan d with
// store.PlanCommit, then in MULTI/EXEC write the plan into the session's
// hash and RENAME it to to's key, which replaces an expired record there.
// Nothing is written when the plan fails. Both keys must be in one slot
// on a cluster: IDs of one family are (see layout.go); IDs of different
// families fail with ErrCrossSlot there, and work on a single server.
func (s *Store) Move(ctx context.Context, from, to string, d store.Delta) (store.Meta, error) {
	if err := s.check(ctx, from); err != nil {
		return store.Meta{}, err
	}
	if err := store.CheckID(to); err != nil {
		return store.Meta{}, err
	}
	if d.Create || from == to {
		return store.Meta{}, errBadMove
	}
	if !s.oneNode && keyTag(s.key(from)) != keyTag(s.key(to)) {
		return store.Meta{}, fmt.Errorf("redisstore: move %q to %q: %w", store.Family(from), store.Family(to), ErrCrossSlot)
	}
	s.capBytes(&d)
	return s.transact(ctx, from, to, &d)
}

// errBadMove is a caller's mistake, never a condition to branch on.
var errBadMove = errors.New("redisstore: Move needs two different IDs and a delta without Create")
