package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

// A delta that needs Go (EditMeta or Update functions, a principal to
// set, a create that sets one) and every Move run as an optimistic
// transaction: WATCH the session, read it, plan with store.PlanCommit,
// write the plan in MULTI/EXEC, and start over when another client
// changed a watched key in between.
//
// On a single server the transaction also holds the session's entries
// in the expiry index and in the principals' sets, and the evictions of
// a principal limit, so all of it is one atomic step; a join under a
// limit watches the principal's set too, so concurrent joins take turns
// and the limit holds exactly. On a cluster those keys live in other
// slots: they are written around the transaction (see afterTx and
// principals.go).

// txResult is what a transaction decided and wrote.
type txResult struct {
	plan store.Plan
	// from is the session's ID before the write, id after it: to for a
	// Move.
	from, id string
	// before is the session's expiry before the write, zero when it had
	// none or was created.
	before time.Time
	// created, moved: a new session, or one that changed ID.
	created, moved bool
	// oldPrincipal is the principal before the write; unlist and list
	// say whether the old ID leaves oldPrincipal's set and the new one
	// joins plan.Meta.Principal's.
	oldPrincipal string
	unlist, list bool
	// victims are the sessions a principal limit evicts; evicted those
	// the transaction deleted (single server only).
	victims []string
	evicted []string
	// stale are entries of the principal's set met while counting that
	// name sessions no longer its own.
	stale []string
	now   time.Time
}

// transact applies d to session id (moved to to, when not ""), and
// reports the evictions it made to subscribers once every lock is
// released.
func (s *Store) transact(ctx context.Context, id, to string, d *store.Delta) (store.Meta, error) {
	m, events, err := s.transactLocked(ctx, id, to, d)
	s.notify.Send(events)
	return m, err
}

func (s *Store) transactLocked(ctx context.Context, id, to string, d *store.Delta) (store.Meta, []store.Event, error) {
	op := "commit"
	if to != "" {
		op = "move"
	}
	unlock, err := s.locks.lock(ctx, id)
	if err != nil {
		return store.Meta{}, nil, fmt.Errorf("redisstore: %s: %w", op, err)
	}
	defer unlock()
	var events []store.Event
	joining := mayJoin(d)
	if joining {
		release, err := s.lockPrincipal(ctx, d.Principal)
		if err != nil {
			return store.Meta{}, nil, s.fail(ctx, op, err)
		}
		defer release()
	}
	if d.Create && s.maxSessions > 0 {
		s.quotaMu.Lock()
		defer s.quotaMu.Unlock()
		swept, err := s.checkQuota(ctx, s.now.Now())
		events = append(events, swept...)
		if err != nil {
			return store.Meta{}, events, s.existsOr(ctx, s.key(id), s.now.Now(), err)
		}
	}
	watch := []string{s.key(id)}
	if to != "" {
		watch = append(watch, s.key(to))
	}
	if joining && s.oneNode {
		watch = append(watch, s.principalKey(d.Principal))
	}
	final := id
	if to != "" {
		final = to
	}
	var listed string // a principal whose set got final ahead of a transaction
	for attempt := 0; ; attempt++ {
		var side sideWork
		var err error
		if !s.oneNode && (d.SetPrincipal || to != "") {
			side, err = s.prepareSide(ctx, id, final, d)
			if side.listed != "" {
				listed = side.listed
			}
		}
		var res txResult
		if err == nil {
			err = s.client.Watch(ctx, func(tx *redis.Tx) error {
				var err error
				res, err = s.txAttempt(ctx, tx, id, to, d, &side)
				return err
			}, watch...)
		}
		var refused *planError
		var written *writtenError
		switch {
		case err == nil:
			return res.plan.Meta, append(events, s.afterTx(ctx, &res)...), nil
		case errors.As(err, &refused):
			err = refused.err
		case errors.As(err, &written):
			// Applied, but not on enough replicas: the rest of the
			// change still follows it.
			events = append(events, s.afterTx(ctx, &res)...)
			return store.Meta{}, events, written.err
		case !errors.Is(err, redis.TxFailedErr) && !errors.Is(err, errSideStale):
			err = s.fail(ctx, op, err)
		case attempt >= s.maxRetries:
			err = fmt.Errorf("redisstore: %s: %w: session %q changed by other clients during %d attempts",
				op, store.ErrUnavailable, id, attempt+1)
		default:
			if err := backoff(ctx, attempt); err != nil {
				err = fmt.Errorf("redisstore: %s: %w", op, err)
				s.unlist(context.WithoutCancel(ctx), listed, []string{final})
				return store.Meta{}, events, err
			}
			continue
		}
		// The principal's set may hold an entry written ahead of a
		// transaction that never happened; unlist keeps it only if the
		// session is the principal's after all.
		s.unlist(context.WithoutCancel(ctx), listed, []string{final})
		return store.Meta{}, events, err
	}
}

// sideWork is what a transaction on a cluster does before its WATCH, in
// other slots than the session's: it reads the session's principal
// (prepareSide), counts the principal's sessions for a limit, and adds
// the session to its principal's set. The transaction then checks that
// the session is as prepareSide read it, or starts over. Done inside the
// WATCH, this work would hold the transaction's connection while taking
// others from the same pools, which deadlocks under load.
type sideWork struct {
	// done is set when prepareSide ran; live and principal are the
	// session as it read it.
	done      bool
	live      bool
	principal string
	// others are the live sessions of the joined principal, and stale
	// the entries of its set that name none, when the delta joins one
	// under a limit.
	others []store.SessionRef
	stale  []string
	// listed is the principal whose set prepareSide added the session
	// (its ID after the change) to, or "".
	listed string
}

// errSideStale says the session changed between prepareSide and the
// transaction's WATCH: start over, like a conflict.
var errSideStale = errors.New("redisstore: session changed before the transaction")

// prepareSide does sideWork for d on session id, whose ID after the
// change is final.
func (s *Store) prepareSide(ctx context.Context, id, final string, d *store.Delta) (sideWork, error) {
	var head *redis.SliceCmd
	var members *redis.StringSliceCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		head = p.HMGet(ctx, s.key(id), fieldVersion, fieldIdle, fieldAbs, fieldPrincipal)
		if mayJoin(d) {
			members = p.SMembers(ctx, s.principalKey(d.Principal))
		}
		return nil
	})
	if err != nil {
		return sideWork{}, err
	}
	vals := head.Val()
	side := sideWork{done: true, live: len(vals) == 4 && liveHead(vals[:3], s.now.Now())}
	if side.live {
		side.principal, _ = vals[3].(string)
	}
	var current *store.Meta
	if side.live {
		current = &store.Meta{Principal: side.principal}
	}
	principal := side.principal
	if d.SetPrincipal {
		principal = d.Principal
	}
	if d.JoinsPrincipal(current) {
		if side.others, side.stale, err = s.readMembers(ctx, s.client, principal, members.Val(), s.now.Now(), id, final); err != nil {
			return side, err
		}
	}
	if principal != "" && (principal != side.principal || final != id) {
		// Listed before the session names its principal, so the set is
		// never behind a live session (see principals.go).
		if err := s.list(ctx, principal, final); err != nil {
			return side, err
		}
		side.listed = principal
	}
	return side, nil
}

// mayJoin reports whether d may join a principal under a limit, which
// depends on the session's current principal too (store.Delta.JoinsPrincipal).
func mayJoin(d *store.Delta) bool {
	return d.SetPrincipal && d.Principal != "" && d.PrincipalLimit.Max > 0
}

// planError carries an error of store.PlanCommit (the delta's own
// functions included) through redis.Client.Watch, so it is returned as
// it is rather than taken for a Redis failure.
type planError struct{ err error }

func (e *planError) Error() string { return e.err.Error() }
func (e *planError) Unwrap() error { return e.err }

// txAttempt reads the watched session (and for a Move the target),
// plans the delta and queues the writes in MULTI/EXEC.
func (s *Store) txAttempt(ctx context.Context, tx *redis.Tx, id, to string, d *store.Delta, side *sideWork) (txResult, error) {
	key := s.key(id)
	var stored *redis.MapStringStringCmd
	var target *redis.SliceCmd
	var members *redis.StringSliceCmd
	_, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
		stored = p.HGetAll(ctx, key)
		if to != "" {
			target = p.HMGet(ctx, s.key(to), fieldVersion, fieldIdle, fieldAbs)
		}
		if s.oneNode && mayJoin(d) {
			// The set is watched too: read with the session.
			members = p.SMembers(ctx, s.principalKey(d.Principal))
		}
		return nil
	})
	if err != nil {
		return txResult{}, err
	}
	res := txResult{from: id, id: id, now: s.now.Now()}
	fields := stored.Val()
	var current *store.Meta
	var rec store.Record
	if trace, answers := movedAway(fields, res.now); trace {
		if answers && !d.Create {
			return res, &planError{store.ErrMoved}
		}
		fields = nil
	}
	if len(fields) > 0 {
		if rec, err = decodeSession(fields); err != nil {
			return res, &planError{fmt.Errorf("redisstore: session %q: %w", id, err)}
		}
		if !rec.Meta.Expired(res.now) {
			current = &rec.Meta
		}
	}
	if side.done && (side.live != (current != nil) || current != nil && side.principal != current.Principal) {
		return res, errSideStale
	}
	if to != "" {
		if current == nil {
			return res, &planError{store.ErrNotFound}
		}
		if liveHead(target.Val(), res.now) {
			return res, &planError{store.ErrExists}
		}
		res.id, res.moved = to, true
	}
	get := func(k store.Key) ([]byte, bool, error) {
		v, ok := rec.Values[k]
		return v, ok, nil
	}
	if res.plan, err = store.PlanCommit(res.now, current, get, d); err != nil {
		return res, &planError{err}
	}
	if current != nil {
		res.before = current.ExpiresAt()
		res.oldPrincipal = current.Principal
	} else {
		res.created = true
	}
	newPrincipal := res.plan.Meta.Principal
	res.unlist = res.oldPrincipal != "" && (res.oldPrincipal != newPrincipal || res.moved)
	res.list = newPrincipal != "" && (newPrincipal != res.oldPrincipal || res.moved)
	if d.JoinsPrincipal(current) {
		others, stale := side.others, side.stale
		if s.oneNode {
			// On the transaction's connection: the set is watched.
			if others, stale, err = s.readMembers(ctx, tx, newPrincipal, members.Val(), res.now, id, to); err != nil {
				return res, err
			}
		}
		res.stale = stale
		if res.victims, err = d.PrincipalLimit.Victims(others); err != nil {
			return res, &planError{err}
		}
	}

	var victimDels []*redis.Cmd
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		s.queuePlan(ctx, p, key, fields, &res.plan, res.created)
		if res.moved {
			// RENAME replaces an expired record (or a trace) under to,
			// and keeps the expiry queuePlan set. The old ID keeps a
			// trace, so a request that raced the move is told
			// store.ErrMoved rather than that the session ended.
			p.Rename(ctx, key, s.key(to))
			until := res.now.Add(store.MovedGrace)
			p.HSet(ctx, key, fieldMoved, formatDeadline(until))
			p.PExpireAt(ctx, key, time.UnixMilli(s.expireAtMillis(until)))
		}
		if !s.oneNode {
			return nil
		}
		s.queueIndex(ctx, p, &res)
		if res.unlist {
			p.SRem(ctx, s.principalKey(res.oldPrincipal), id)
		}
		if res.list {
			p.SAdd(ctx, s.principalKey(newPrincipal), res.id)
		}
		for _, v := range res.victims {
			victimDels = append(victimDels, evictScript.Eval(ctx, p, []string{s.key(v)}, newPrincipal))
			p.ZRem(ctx, s.index, v)
			p.SRem(ctx, s.principalKey(newPrincipal), v)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for i, cmd := range victimDels {
		if n, _ := cmd.Int(); n == 1 {
			res.evicted = append(res.evicted, res.victims[i])
		}
	}
	if s.waitReplicas > 0 {
		err = s.waitTx(ctx, tx)
	}
	return res, err
}

// liveHead reports whether an HMGET of version, idle and absolute
// deadline names a live session at now.
func liveHead(vals []any, now time.Time) bool {
	if len(vals) != 3 || vals[0] == nil {
		return false
	}
	var m store.Meta
	if idle, ok := vals[1].(string); ok {
		m.IdleDeadline, _ = parseTime(idle)
	}
	if abs, ok := vals[2].(string); ok {
		m.AbsDeadline, _ = parseTime(abs)
	}
	return !m.Expired(now)
}

// queuePlan queues the writes that turn the stored fields into plan; a
// fresh session replaces whatever is stored (an expired record).
func (s *Store) queuePlan(ctx context.Context, p redis.Pipeliner, key string, stored map[string]string, plan *store.Plan, fresh bool) {
	pairs, unset := appendMetaFields(nil, &plan.Meta)
	for k, v := range plan.Put {
		pairs = append(pairs, store.AppendKey(nil, k), v)
	}
	if fresh {
		p.Del(ctx, key)
	} else {
		del := unset
		for _, tab := range plan.DropTabs {
			prefix := string(store.AppendTabKeyPrefix(nil, tab))
			for f := range stored {
				if strings.HasPrefix(f, prefix) {
					del = append(del, f)
				}
			}
		}
		for _, k := range plan.Remove {
			del = append(del, string(store.AppendKey(nil, k)))
		}
		p.HDel(ctx, key, del...)
	}
	p.HSet(ctx, key, pairs...)
	if at := plan.Meta.ExpiresAt(); at.IsZero() {
		p.Persist(ctx, key)
	} else {
		p.PExpireAt(ctx, key, time.UnixMilli(s.expireAtMillis(at)))
	}
}

// queueIndex queues what the transaction changes in the expiry index:
// a new ID's entry, a moved one's, or a lower score. An entry never
// scores above its session's expiry (see index.go).
func (s *Store) queueIndex(ctx context.Context, p redis.Cmdable, res *txResult) {
	after := res.plan.Meta.ExpiresAt()
	switch {
	case res.created || res.moved:
		if res.moved {
			p.ZRem(ctx, s.index, res.idBefore())
		}
		p.ZAddArgs(ctx, s.index, redis.ZAddArgs{
			LT:      true,
			Members: []redis.Z{{Score: indexScore(after), Member: res.id}},
		})
	case !after.IsZero() && (res.before.IsZero() || after.Before(res.before)):
		p.ZAddArgs(ctx, s.index, redis.ZAddArgs{
			XX: true, LT: true,
			Members: []redis.Z{{Score: indexScore(after), Member: res.id}},
		})
	}
}

// afterTx does what a successful transaction leaves to do: on a cluster
// the writes to other slots (the expiry index, the principals' sets, the
// evictions), everywhere the cleanup of stale set entries. It returns
// the evictions to report. Failures here do not fail the commit, which
// has happened; see principals.go for how the sets stay right.
func (s *Store) afterTx(ctx context.Context, res *txResult) []store.Event {
	principal := res.plan.Meta.Principal
	evicted := res.evicted
	if !s.oneNode {
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			s.queueIndex(ctx, p, res)
			if res.list {
				p.SAdd(ctx, s.principalKey(principal), res.id)
			}
			return nil
		})
		s.indexed(ctx, err)
		if res.unlist {
			s.unlist(ctx, res.oldPrincipal, []string{res.idBefore()})
		}
		for _, v := range res.victims {
			if s.evict(ctx, v, principal) {
				evicted = append(evicted, v)
			}
		}
	}
	if len(res.stale) > 0 {
		s.unlist(ctx, principal, res.stale)
	}
	events := make([]store.Event, 0, len(evicted))
	for _, v := range evicted {
		events = append(events, store.Event{Kind: store.EventEvicted, ID: v, Principal: principal, At: res.now})
	}
	return events
}

// idBefore is the session's ID before the transaction.
func (res *txResult) idBefore() string { return res.from }
