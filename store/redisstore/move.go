package redisstore

import (
	"context"
	"errors"

	"github.com/tabkit/tabkit/store"
)

// Move implements store.Store. Not yet atomic here.
func (s *Store) Move(ctx context.Context, from, to string, d store.Delta) (store.Meta, error) {
	return store.Meta{}, errors.New("redisstore: Move is not implemented yet")
}
