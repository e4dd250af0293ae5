package pgstore

import (
	"context"
	"time"

	"github.com/tabkit/tabkit/store"
)

func (s *Store) sweepEvery(interval time.Duration) {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Close cancels a sweep in flight rather than waiting it out.
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
			_, _ = s.Sweep(ctx)
		}
	}
}

// Sweep implements store.Sweeper. Each batch of at most
// Options.SweepBatch sessions is one statement, and so one transaction,
// that finds them through the index on expires_at and deletes them with
// their values; rows that a commit holds locked are skipped, and left to
// that commit or the next sweep. Subscribers hear of each batch's
// sessions once it committed.
func (s *Store) Sweep(ctx context.Context) (store.SweepResult, error) {
	return s.sweep(ctx, s.notify.Send)
}

// sweep is Sweep that hands each batch's sessions to report.
func (s *Store) sweep(ctx context.Context, report func([]store.Event)) (store.SweepResult, error) {
	if s.closed.Load() {
		return store.SweepResult{}, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return store.SweepResult{}, err
	}
	if _, err := s.pool.Exec(ctx, s.q.sweepMoved, s.now.Now()); err != nil {
		return store.SweepResult{}, s.fail(ctx, "sweep", err)
	}
	var res store.SweepResult
	for {
		events, bytes, err := s.sweepOnce(ctx)
		if err != nil {
			return res, s.fail(ctx, "sweep", err)
		}
		report(events)
		res.Sessions += len(events)
		res.Bytes += bytes
		if len(events) < s.sweepBatch {
			return res, nil
		}
	}
}

// sweepOnce deletes one batch of expired sessions and returns them and
// their bytes.
func (s *Store) sweepOnce(ctx context.Context) (events []store.Event, bytes int64, err error) {
	now := s.now.Now()
	rows, err := s.pool.Query(ctx, s.q.sweep, now, s.sweepBatch)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id        []byte
			principal string
			size      int64
		)
		if err := rows.Scan(&id, &principal, &size); err != nil {
			return nil, 0, err
		}
		events = append(events, store.Event{Kind: store.EventExpired, ID: string(id), Principal: principal, At: now})
		bytes += size
	}
	if err := rows.Err(); err != nil {
		// The statement failed, so its transaction did not commit.
		return nil, 0, err
	}
	return events, bytes, nil
}
