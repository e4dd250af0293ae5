package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

// Each principal has a set of the IDs of its sessions,
// <prefix>principal:{<principal>}. The session's own #p field is the
// truth; the set is where to look. SessionsOf reads every listed
// session and lists only those that are live and still the principal's,
// so the set may hold stale entries (they are dropped when met: by
// SessionsOf, a join's count, the sweeper) but must never miss a live
// session, or signing out everywhere would miss it.
//
// On a single server every change of a session's principal writes the
// set in the same MULTI/EXEC as the session, and stale entries are
// dropped by a script that reads the session in the same step
// (unlistScript): the set is exact. A join under a limit watches the set,
// so concurrent joins in any number of processes take turns, and the
// limit holds exactly.
//
// On a cluster the set lives in another slot. A session joining a
// principal is added to the set before its transaction (so a failure of
// the set's master refuses the join before anything is written) and
// again after it (so a stale-entry removal that raced the transaction
// is undone); a session leaving is removed after its transaction. A
// removal of a stale entry is followed by a read of the session, which
// puts the entry back if the session turned out to be the principal's
// meanwhile: whatever the interleaving, a session that names the
// principal ends up in its set. Joins of one Store under a limit take
// turns; joins in several processes at the same moment may each count
// the others' sessions before they exist, so a limit can be exceeded by
// the number of processes signing the same principal in at once, minus
// one. The next join of that principal counts all of them and refuses,
// or evicts down to the limit.

// lockPrincipal makes the joins of principal p under a limit in this
// Store take turns. The caller must call release.
func (s *Store) lockPrincipal(ctx context.Context, p string) (release func(), err error) {
	return s.principalLocks.lock(ctx, p)
}

// SessionsOf implements store.PrincipalIndex: it reads the principal's
// set, then every session listed (one pipeline), and returns those live
// and still the principal's. It drops the entries of the others.
func (s *Store) SessionsOf(ctx context.Context, p string) ([]store.SessionRef, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.now.Now()
	refs, stale, err := s.liveSessionsOf(ctx, s.client, p, now)
	if err != nil {
		return nil, s.fail(ctx, "sessions of", err)
	}
	s.unlist(ctx, p, stale)
	return refs, nil
}

// liveSessionsOf returns the live sessions of principal p but those in
// except, and the set's entries that name no live session of p, read
// through c.
func (s *Store) liveSessionsOf(ctx context.Context, c redis.Cmdable, p string, now time.Time, except ...string) (refs []store.SessionRef, stale []string, err error) {
	if p == "" {
		return nil, nil, nil
	}
	ids, err := c.SMembers(ctx, s.principalKey(p)).Result()
	if err != nil {
		return nil, nil, err
	}
	return s.readMembers(ctx, c, p, ids, now, except...)
}

// readMembers is liveSessionsOf once the set's members, ids, are read.
func (s *Store) readMembers(ctx context.Context, c redis.Cmdable, p string, ids []string, now time.Time, except ...string) (refs []store.SessionRef, stale []string, err error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pipe.HMGet(ctx, s.key(id), metaFieldNames...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
next:
	for i, id := range ids {
		vals := cmds[i].Val()
		if len(vals) < 2 || vals[1] == nil {
			stale = append(stale, id)
			continue
		}
		var mf metaFields
		mf.fromSlice(vals)
		m, err := mf.meta()
		if err != nil {
			return nil, nil, fmt.Errorf("redisstore: session %q: %w", id, err)
		}
		if m.Expired(now) || m.Principal != p {
			stale = append(stale, id)
			continue
		}
		for _, e := range except {
			if id == e {
				continue next
			}
		}
		refs = append(refs, store.SessionRef{ID: id, Meta: m})
	}
	return refs, stale, nil
}

// list adds session id to principal p's set: on a cluster, before and
// after the transaction that gives the session p. With WaitReplicas the
// first add waits for replicas like a commit, so a failover cannot lose
// the entry of an acknowledged sign-in.
func (s *Store) list(ctx context.Context, p, id string) error {
	key := s.principalKey(p)
	if s.waitReplicas > 0 {
		return s.writeAndWait(ctx, "commit", key, nil, func(pipe redis.Pipeliner) redis.Cmder {
			return pipe.SAdd(ctx, key, id)
		})
	}
	return s.client.SAdd(ctx, key, id).Err()
}

// unlistBatch bounds the sessions one unlist round trip handles.
const unlistBatch = 256

// unlist drops from principal p's set the entries of ids that name no
// live session of p. It is best effort: an entry left behind is
// dropped the next time it is met.
func (s *Store) unlist(ctx context.Context, p string, ids []string) {
	if p == "" {
		return
	}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), unlistBatch)]
		ids = ids[len(batch):]
		var err error
		if s.oneNode {
			err = s.unlistChecked(ctx, p, batch)
		} else {
			err = s.unlistThenCheck(ctx, p, batch)
		}
		if err != nil {
			s.indexed(ctx, err)
			return
		}
	}
}

// unlistChecked removes the stale entries of ids in one script that reads
// each session in the same step: a single server only.
func (s *Store) unlistChecked(ctx context.Context, p string, ids []string) error {
	keys := make([]string, 0, 1+len(ids))
	args := make([]any, 0, 2+len(ids))
	keys = append(keys, s.principalKey(p))
	args = append(args, formatDeadline(s.now.Now()), p)
	for _, id := range ids {
		keys = append(keys, s.key(id))
		args = append(args, id)
	}
	return unlistScript.Run(ctx, s.client, keys, args...).Err()
}

// unlistThenCheck removes the entries of ids, then reads the sessions and
// puts back those that are live and p's: the session's commit that made
// it p's may have raced the removal. On a cluster the sessions and the
// set are in different slots, so this is how the removal stays safe.
func (s *Store) unlistThenCheck(ctx context.Context, p string, ids []string) error {
	key := s.principalKey(p)
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	if err := s.client.SRem(ctx, key, members...).Err(); err != nil {
		return err
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pipe.HMGet(ctx, s.key(id), fieldVersion, fieldIdle, fieldAbs, fieldPrincipal)
		}
		return nil
	})
	now := s.now.Now()
	var back []any
	for i, id := range ids {
		vals, err := cmds[i].Result()
		// A session that cannot be read gets its entry back: a stale
		// entry costs a read later, a missing one a session that "sign
		// out everywhere" does not find.
		if err != nil || len(vals) == 4 && liveHead(vals[:3], now) && vals[3] == p {
			back = append(back, id)
		}
	}
	if err != nil {
		s.reloadSlots(ctx, err)
	}
	if len(back) == 0 {
		return nil
	}
	return s.client.SAdd(ctx, key, back...).Err()
}

// evict deletes session id for a limit of principal p, unless it is no
// longer p's, and reports whether it did.
func (s *Store) evict(ctx context.Context, id, p string) bool {
	key := s.key(id)
	var res *redis.Cmd
	if s.waitReplicas > 0 {
		err := s.writeAndWait(ctx, "evict", key, evictScript, func(pipe redis.Pipeliner) redis.Cmder {
			res = pipe.EvalSha(ctx, evictScript.Hash(), []string{key}, p)
			return res
		})
		if res == nil || res.Err() != nil {
			s.indexed(ctx, err)
			return false
		}
	} else {
		res = evictScript.Run(ctx, s.client, []string{key}, p)
	}
	if n, err := res.Int(); err != nil || n != 1 {
		s.indexed(ctx, err)
		return false
	}
	_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.ZRem(ctx, s.index, id)
		pipe.SRem(ctx, s.principalKey(p), id)
		return nil
	})
	s.indexed(ctx, err)
	return true
}
