package boltstore

import (
	"context"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// sweepBatch is how many sessions one sweep transaction removes at most,
// so a large backlog never holds the writer lock (and the commits queued
// behind it) for long.
const sweepBatch = 1000

// Sweep implements store.Sweeper. It walks the expiry index from its
// start up to the store's now, in transactions of at most sweepBatch
// sessions, so its cost grows with what expired, not with what is stored.
// Each removed session is reported to Subscribe's functions as
// store.EventExpired before Sweep returns.
func (s *Store) Sweep(ctx context.Context) (store.SweepResult, error) {
	if err := s.enter(ctx); err != nil {
		return store.SweepResult{}, err
	}
	res, expired, err := s.sweep(ctx, s.opts.Now.Now())
	s.closeMu.RUnlock()
	s.notify.Send(expired)
	return res, err
}

// sweep removes what expired at now and returns what it removed, to be
// reported once the caller has let go of closeMu.
func (s *Store) sweep(ctx context.Context, now time.Time) (total store.SweepResult, expired removals, err error) {
	began := time.Now()
	defer func() {
		s.observe(Event{Kind: EventSweep, Sessions: total.Sessions, Bytes: total.Bytes, Duration: time.Since(began), Err: err})
	}()
	// A write transaction costs an fsync even when it changes nothing, so
	// a sweep with nothing due stays read-only.
	if due, err := s.anyDue(now); err != nil || !due {
		return total, nil, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return total, expired, err
		}
		var res store.SweepResult
		var rm removals
		visited := 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			b, err := openBuckets(tx)
			if err != nil {
				return err
			}
			visited, rm = 0, rm[:0]
			if err := dropMoved(tx, now); err != nil {
				return err
			}
			res, err = reclaimExpired(b, now, func() bool {
				visited++
				return visited <= sweepBatch
			}, &rm)
			return err
		})
		if err != nil {
			return total, expired, s.writeError(err)
		}
		total.Sessions += res.Sessions
		total.Bytes += res.Bytes
		expired = append(expired, rm...)
		if visited <= sweepBatch {
			// The walk ended before the batch was used up: nothing due is left.
			return total, expired, nil
		}
	}
}

// sweepEvery is the background sweeper. It stops when ctx is cancelled,
// which Close does. A failed sweep is retried at the next tick: what it
// did not remove is still absent to readers.
func (s *Store) sweepEvery(ctx context.Context, interval time.Duration) {
	defer close(s.sweeperDone)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if s.enter(ctx) != nil {
				return
			}
			_, expired, _ := s.sweep(ctx, s.opts.Now.Now())
			s.closeMu.RUnlock()
			s.notify.Send(expired)
		}
	}
}

// anyDue reports whether the expiry index has an entry due at now.
func (s *Store) anyDue(now time.Time) (bool, error) {
	var due bool
	err := s.db.View(func(tx *bolt.Tx) error {
		b, err := openBuckets(tx)
		if err != nil {
			return err
		}
		k, _ := b.expiry.Cursor().First()
		due = k != nil && isDue(k, indexNanos(now)) || movedDue(tx, now)
		return nil
	})
	return due, s.readError(err)
}
