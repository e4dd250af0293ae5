package redisstore

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

// The index is a sorted set of session IDs scored by expiry in Unix
// milliseconds (+inf: never). Redis expires sessions by itself; the index
// lets Sweep find sessions expired at the store's clock, and counts
// sessions for MaxSessions, without walking every key.
//
// A score may be lower than its session's expiry, never higher, so Sweep
// misses nothing: creates and commits that move an expiry earlier lower
// the score (ZADD LT); commits that only extend a deadline leave it, and
// Sweep raises it when it finds the session live. The index sits in its own
// key, which in Redis Cluster is another slot than the session's, so it is
// updated next to each session's atomic change rather than inside it;
// the rare race between a Sweep and a create of the same ID can leave a
// session out of the index, and Redis still expires it on time.

// sweepBatch is how many index entries Sweep checks per round trip.
const sweepBatch = 256

// indexScore is the index score of expiry at: rounded down, so a
// session is never found later than it expires.
func indexScore(at time.Time) float64 {
	if at.IsZero() {
		return math.Inf(1)
	}
	return float64(max(at.UnixNano(), 1) / 1e6)
}

// lowerIndex lowers id's index score to at after a commit moved its expiry
// earlier. The commit has succeeded by then, so a failure here is not
// reported: the entry then stays late until a Sweep after its old score
// corrects it, and Redis expires the session on time meanwhile.
func (s *Store) lowerIndex(ctx context.Context, id string, at time.Time) {
	s.indexed(ctx, s.client.ZAddArgs(ctx, s.index, redis.ZAddArgs{
		XX: true, LT: true,
		Members: []redis.Z{{Score: indexScore(at), Member: id}},
	}).Err())
}

// indexed takes the outcome of an index update that goes with a
// session's own write. The session's write decides the commit: on a
// cluster the index lives on one master, and a failure of that master
// must not fail the sessions of the others. A session whose entry is
// missing or late is still expired by Redis on time; Sweep and the
// MaxSessions count miss it (and creates under MaxSessions need the
// index anyway, to count).
func (s *Store) indexed(ctx context.Context, err error) {
	if err != nil {
		s.reloadSlots(ctx, err)
	}
}

// checkQuota returns store.ErrFull when MaxSessions sessions are stored
// and a sweep frees none, and the expiries the sweep removed, to report.
func (s *Store) checkQuota(ctx context.Context, now time.Time) ([]store.Event, error) {
	if s.maxSessions == 0 {
		return nil, nil
	}
	var events []store.Event
	for swept := false; ; swept = true {
		n, err := s.client.ZCard(ctx, s.index).Result()
		if err != nil {
			return events, s.fail(ctx, "create", err)
		}
		if n < s.maxSessions {
			return events, nil
		}
		if swept {
			return events, fmt.Errorf("%w: %d sessions, limit %d", store.ErrFull, n, s.maxSessions)
		}
		_, expired, err := s.sweep(ctx, now)
		events = append(events, expired...)
		if err != nil {
			return events, err
		}
	}
}

// Sweep implements store.Sweeper. It deletes the sessions that are
// expired at the store's clock, reports each to subscribers
// (store.EventExpired, with its principal), drops their principal index
// entries, and drops index entries of sessions that are gone. Redis
// keeps an expired session for Options.ExpiryGrace past its deadline,
// so a sweep within that time sees it; sessions Redis expired by itself
// are neither counted nor reported.
func (s *Store) Sweep(ctx context.Context) (store.SweepResult, error) {
	if s.closed.Load() {
		return store.SweepResult{}, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return store.SweepResult{}, err
	}
	res, events, err := s.sweep(ctx, s.now.Now())
	s.notify.Send(events)
	return res, err
}

// sweep is Sweep at now; it returns the events to report rather than
// reporting them, as a caller may hold a lock.
func (s *Store) sweep(ctx context.Context, now time.Time) (store.SweepResult, []store.Event, error) {
	var res store.SweepResult
	var events []store.Event
	limit := strconv.FormatFloat(indexScore(now), 'f', -1, 64)
	// A live session expiring within now's millisecond keeps a score in
	// range; seen makes each entry count once, and stay lets the next
	// batch reach past those entries.
	seen := make(map[string]bool)
	stay := 0
	for {
		ids, err := s.client.ZRangeByScore(ctx, s.index, &redis.ZRangeBy{
			Min: "-inf", Max: limit, Count: int64(sweepBatch + stay),
		}).Result()
		if err != nil {
			return res, events, s.fail(ctx, "sweep", err)
		}
		var batch []string
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				batch = append(batch, id)
			}
		}
		if len(batch) == 0 {
			return res, events, nil
		}
		n, expired, err := s.reap(ctx, batch, now, &res)
		events = append(events, expired...)
		if err != nil {
			return res, events, err
		}
		stay += n
	}
}

// reap deletes the sessions of ids that are expired at now, fixes their
// index entries and their principals' sets, adds what it deleted to res,
// and reports how many live entries kept a score at or below now, and
// the expiries to report.
func (s *Store) reap(ctx context.Context, ids []string, now time.Time, res *store.SweepResult) (int, []store.Event, error) {
	nowArg := formatDeadline(now)
	cmds := make([]*redis.Cmd, len(ids))
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.EvalSha(ctx, reapScript.Hash(), []string{s.key(id)}, nowArg)
		}
		return nil
	})
	if err != nil && !isNoScript(err) {
		return 0, nil, s.fail(ctx, "sweep", err)
	}
	var gone []any
	var live []redis.Z
	var events []store.Event
	principals := make(map[string][]string)
	stay := 0
	for i, id := range ids {
		cmd := cmds[i]
		if isNoScript(cmd.Err()) {
			// The script cache is per server and empty after a restart;
			// Run loads the script.
			cmd = reapScript.Run(ctx, s.client, []string{s.key(id)}, nowArg)
		}
		reply, err := cmd.StringSlice()
		if err != nil {
			return 0, events, s.fail(ctx, "sweep", err)
		}
		switch {
		case len(reply) == 1 && reply[0] == "gone":
			gone = append(gone, id)
		case len(reply) == 3 && reply[0] == "swept":
			gone = append(gone, id)
			res.Sessions++
			b, _ := strconv.ParseInt(reply[1], 10, 64)
			res.Bytes += b
			events = append(events, store.Event{Kind: store.EventExpired, ID: id, Principal: reply[2], At: now})
			if p := reply[2]; p != "" {
				principals[p] = append(principals[p], id)
			}
		case len(reply) == 2 && reply[0] == "live":
			score := math.Inf(1)
			if reply[1] != "" {
				at, err := parseTime(reply[1])
				if err != nil {
					return 0, events, fmt.Errorf("redisstore: sweep: %w: deadline %q", store.ErrCorrupt, reply[1])
				}
				score = indexScore(at)
			}
			if score <= indexScore(now) {
				stay++
			}
			live = append(live, redis.Z{Score: score, Member: id})
		default:
			return 0, events, fmt.Errorf("redisstore: sweep: script replied %q", reply)
		}
	}
	for p, ids := range principals {
		s.unlist(ctx, p, ids)
	}
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		if len(gone) > 0 {
			p.ZRem(ctx, s.index, gone...)
		}
		if len(live) > 0 {
			p.ZAddArgs(ctx, s.index, redis.ZAddArgs{XX: true, Members: live})
		}
		return nil
	})
	if err != nil {
		return 0, events, s.fail(ctx, "sweep", err)
	}
	return stay, events, nil
}
