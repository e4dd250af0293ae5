package pgstore

import (
	"context"

	"github.com/tabkit/tabkit/store"
)

// listPage is how many sessions List reads per query.
const listPage = 256

// List implements store.Lister. It pages through the sessions in the
// order of their IDs, a query per 256, and calls fn between queries, so
// fn may call the store. A session committed while List runs may or may
// not be seen.
func (s *Store) List(ctx context.Context, fn func(id string, m store.Meta) bool) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	after := []byte{}
	for {
		now := s.now.Now()
		var page []store.SessionRef
		rows, err := s.pool.Query(ctx, s.q.list, after, now, listPage)
		if err == nil {
			err = scanSessions(rows, func(id string, m store.Meta) {
				page = append(page, store.SessionRef{ID: id, Meta: m})
			})
		}
		if err != nil {
			return s.fail(ctx, "list", err)
		}
		for _, ref := range page {
			if ref.Meta.Expired(now) {
				continue
			}
			if !fn(ref.ID, ref.Meta) {
				return nil
			}
		}
		if len(page) < listPage {
			return nil
		}
		after = []byte(page[len(page)-1].ID)
	}
}

// Stats implements store.Statser with one query, which reads every
// session row: a cost for an admin page, not for every request.
// FileBytes is the size on disk of both tables with their indexes and
// TOAST.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	if s.closed.Load() {
		return store.Stats{}, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return store.Stats{}, err
	}
	var st store.Stats
	err := s.pool.QueryRow(ctx, s.q.stats, s.now.Now()).Scan(&st.Sessions, &st.Bytes, &st.Expired, &st.FileBytes)
	if err != nil {
		return store.Stats{}, s.fail(ctx, "stats", err)
	}
	return st, nil
}

// SessionsOf implements store.PrincipalIndex through the index on the
// principal column.
func (s *Store) SessionsOf(ctx context.Context, p string) ([]store.SessionRef, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p == "" || !validPrincipal(p) {
		return nil, nil // no session can have it
	}
	now := s.now.Now()
	var refs []store.SessionRef
	rows, err := s.pool.Query(ctx, s.q.sessionsOf, p, now)
	if err == nil {
		err = scanSessions(rows, func(id string, m store.Meta) {
			if !m.Expired(now) {
				refs = append(refs, store.SessionRef{ID: id, Meta: m})
			}
		})
	}
	if err != nil {
		return nil, s.fail(ctx, "sessions of a principal", err)
	}
	return refs, nil
}
