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
	if s.closed.Load() {
		return store.SweepResult{}, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return store.SweepResult{}, err
	}
	var res store.SweepResult
	for {
		n, bytes, err := s.sweepOnce(ctx)
		res.Sessions += n
		res.Bytes += bytes
		if err != nil {
			return res, s.fail(ctx, "sweep", err)
		}
		if n < s.sweepBatch {
			return res, nil
		}
	}
}

// sweepOnce deletes one batch of expired sessions and reports them.
func (s *Store) sweepOnce(ctx context.Context) (n int, bytes int64, err error) {
	now := s.now.Now()
	rows, err := s.pool.Query(ctx, s.q.sweep, now, s.sweepBatch)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	var events []store.Event
	for rows.Next() {
		var (
			id        []byte
			principal string
			size      int64
		)
		if err := rows.Scan(&id, &principal, &size); err != nil {
			return 0, 0, err
		}
		events = append(events, store.Event{Kind: store.EventExpired, ID: string(id), Principal: principal, At: now})
		bytes += size
	}
	if err := rows.Err(); err != nil {
		// The statement failed, so its transaction did not commit.
		return 0, 0, err
	}
	s.notify.Send(events)
	return len(events), bytes, nil
}
