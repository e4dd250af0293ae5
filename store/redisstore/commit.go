package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

// commitPlain applies a delta without functions in one script call. The
// script redoes store.PlanCommit's accounting for the parts such a delta
// can have (deadlines, Delete, Set), so both paths agree.
func (s *Store) commitPlain(ctx context.Context, id string, d *store.Delta) (store.Meta, error) {
	args := make([]any, 0, 6+len(d.Delete)+2*len(d.Set))
	args = append(args,
		formatDeadline(s.now.Now()),
		optional(d.LastSeen, formatTime),
		optional(d.IdleDeadline, formatDeadline),
		optional(d.AbsDeadline, formatDeadline),
		d.MaxBytes,
		len(d.Delete),
	)
	for _, k := range d.Delete {
		args = append(args, store.AppendKey(nil, k))
	}
	for k, v := range d.Set {
		args = append(args, store.AppendKey(nil, k), v)
	}
	key := s.key(id)
	var res *redis.Cmd
	if s.waitReplicas > 0 {
		err := s.writeAndWait(ctx, "commit", key, commitScript, func(p redis.Pipeliner) redis.Cmder {
			res = p.EvalSha(ctx, commitScript.Hash(), []string{key}, args...)
			return res
		})
		if err != nil {
			return store.Meta{}, err
		}
	} else {
		res = commitScript.Run(ctx, s.client, []string{key}, args...)
	}
	reply, err := res.StringSlice()
	if err != nil {
		return store.Meta{}, s.fail(ctx, "commit", err)
	}
	if len(reply) == 0 {
		return store.Meta{}, fmt.Errorf("redisstore: commit: empty script reply")
	}
	arg := func(i int) string {
		if i < len(reply) {
			return reply[i]
		}
		return "?"
	}
	switch reply[0] {
	case "ok":
	case "notfound":
		return store.Meta{}, store.ErrNotFound
	case "keyname":
		return store.Meta{}, fmt.Errorf("%w: key name of %s bytes (1 to %d allowed)", store.ErrTooLarge, arg(1), store.MaxKeyName)
	case "notab":
		return store.Meta{}, fmt.Errorf("%w: tab %s", store.ErrNoTab, arg(1))
	case "toolarge":
		return store.Meta{}, fmt.Errorf("%w: %s bytes, limit %s", store.ErrTooLarge, arg(1), arg(2))
	default:
		return store.Meta{}, fmt.Errorf("redisstore: commit: script replied %q", reply[0])
	}
	if len(reply) != 10 {
		return store.Meta{}, fmt.Errorf("redisstore: commit: script replied %d fields", len(reply))
	}
	mf := metaFields{
		version: reply[1], bytes: reply[2], tabBytes: reply[3], blob: reply[4],
		lastSeen: reply[5], tabZero: reply[6], idle: reply[7], abs: reply[8],
	}
	m, err := mf.meta()
	if err != nil {
		return store.Meta{}, fmt.Errorf("redisstore: session %q: %w", id, err)
	}
	if reply[9] == "1" {
		s.lowerIndex(ctx, id, m.ExpiresAt())
	}
	return m, nil
}

func optional(t time.Time, format func(time.Time) string) string {
	if t.IsZero() {
		return ""
	}
	return format(t)
}

// create writes a new session in one script call. Nothing about a new
// session depends on what is stored, so the plan is made in Go up front
// and the script only checks that no live session has the ID.
func (s *Store) create(ctx context.Context, id string, d *store.Delta) (store.Meta, error) {
	now := s.now.Now()
	key := s.key(id)
	plan, err := store.PlanCommit(now, nil, nil, d)
	if err != nil {
		// PlanCommit checks for a live session before anything else.
		return store.Meta{}, s.existsOr(ctx, key, now, err)
	}
	if s.maxSessions > 0 {
		s.quotaMu.Lock()
		defer s.quotaMu.Unlock()
	}
	if err := s.checkQuota(ctx, now); err != nil {
		return store.Meta{}, s.existsOr(ctx, key, now, err)
	}
	expireAt := ""
	if at := plan.Meta.ExpiresAt(); !at.IsZero() {
		expireAt = strconv.FormatInt(expireAtMillis(at), 10)
	}
	args := []any{formatDeadline(now), expireAt}
	args, _ = appendMetaFields(args, &plan.Meta)
	for k, v := range plan.Put {
		args = append(args, store.AppendKey(nil, k), v)
	}
	keys := []string{key}
	if s.waitReplicas > 0 {
		return s.createAndWait(ctx, id, plan.Meta, keys, args)
	}

	// The index entry goes in the same round trip. ZADD LT only ever
	// lowers a score, so an entry stays at or below its session's expiry
	// even when the create loses to a live session.
	var res *redis.Cmd
	var indexed *redis.IntCmd
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		res = p.EvalSha(ctx, createScript.Hash(), keys, args...)
		indexed = p.ZAddArgs(ctx, s.index, redis.ZAddArgs{
			LT:      true,
			Members: []redis.Z{{Score: indexScore(plan.Meta.ExpiresAt()), Member: id}},
		})
		return nil
	})
	if isNoScript(res.Err()) {
		res = createScript.Eval(ctx, s.client, keys, args...)
	}
	if err := res.Err(); err != nil {
		return store.Meta{}, s.fail(ctx, "create", err)
	}
	s.indexed(ctx, indexed.Err())
	return createReply(res, plan.Meta)
}

// createAndWait is create's write with WaitReplicas: the index entry
// first (an entry without its session is harmless: Sweep drops it), then
// the script and WAIT on the session's master.
func (s *Store) createAndWait(ctx context.Context, id string, m store.Meta, keys []string, args []any) (store.Meta, error) {
	s.indexed(ctx, s.client.ZAddArgs(ctx, s.index, redis.ZAddArgs{
		LT:      true,
		Members: []redis.Z{{Score: indexScore(m.ExpiresAt()), Member: id}},
	}).Err())
	var res *redis.Cmd
	err := s.writeAndWait(ctx, "create", keys[0], createScript, func(p redis.Pipeliner) redis.Cmder {
		res = p.EvalSha(ctx, createScript.Hash(), keys, args...)
		return res
	})
	if err != nil {
		return store.Meta{}, err
	}
	return createReply(res, m)
}

// createReply reads the create script's reply.
func createReply(res *redis.Cmd, m store.Meta) (store.Meta, error) {
	switch reply, _ := res.Text(); reply {
	case "ok":
		return m, nil
	case "exists":
		return store.Meta{}, store.ErrExists
	default:
		return store.Meta{}, fmt.Errorf("redisstore: create: script replied %q", reply)
	}
}

// existsOr returns store.ErrExists when a live session has the key, and
// err otherwise, so a create that fails for two reasons reports the same
// one as store.PlanCommit.
func (s *Store) existsOr(ctx context.Context, key string, now time.Time, err error) error {
	vals, lerr := s.client.HMGet(ctx, key, fieldVersion, fieldIdle, fieldAbs).Result()
	if lerr != nil {
		return s.fail(ctx, "create", lerr)
	}
	if vals[0] == nil {
		return err
	}
	var m store.Meta
	if idle, ok := vals[1].(string); ok {
		m.IdleDeadline, _ = parseTime(idle)
	}
	if abs, ok := vals[2].(string); ok {
		m.AbsDeadline, _ = parseTime(abs)
	}
	if m.Expired(now) {
		return err
	}
	return store.ErrExists
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT"))
}

// commitTx applies a delta with EditMeta or Update functions, which must
// run in Go on the current record: WATCH, HGETALL, plan, MULTI/EXEC, and
// again from the top when another client changed the session in between.
func (s *Store) commitTx(ctx context.Context, id string, d *store.Delta) (store.Meta, error) {
	unlock, err := s.locks.lock(ctx, id)
	if err != nil {
		return store.Meta{}, fmt.Errorf("redisstore: commit: %w", err)
	}
	defer unlock()
	key := s.key(id)
	for attempt := 0; ; attempt++ {
		var plan store.Plan
		var before time.Time
		err := s.client.Watch(ctx, func(tx *redis.Tx) error {
			var err error
			plan, before, err = s.planTx(ctx, tx, key, d)
			return err
		}, key)
		var refused *planError
		var written *writtenError
		switch {
		case err == nil:
			if after := plan.Meta.ExpiresAt(); !after.IsZero() && (before.IsZero() || after.Before(before)) {
				s.lowerIndex(ctx, id, after)
			}
			return plan.Meta, nil
		case errors.As(err, &refused):
			return store.Meta{}, refused.err
		case errors.As(err, &written):
			return store.Meta{}, written.err
		case !errors.Is(err, redis.TxFailedErr):
			return store.Meta{}, s.fail(ctx, "commit", err)
		case attempt >= s.maxRetries:
			return store.Meta{}, fmt.Errorf("redisstore: commit: %w: session %q changed by other clients during %d attempts",
				store.ErrUnavailable, id, attempt+1)
		}
		if err := backoff(ctx, attempt); err != nil {
			return store.Meta{}, fmt.Errorf("redisstore: commit: %w", err)
		}
	}
}

// planError carries an error of store.PlanCommit (the delta's own
// functions included) through redis.Client.Watch, so it is returned as
// it is rather than taken for a Redis failure.
type planError struct{ err error }

func (e *planError) Error() string { return e.err.Error() }
func (e *planError) Unwrap() error { return e.err }

// planTx reads the watched session, plans the delta and queues the writes
// in MULTI/EXEC. It returns the plan and the session's expiry before it.
func (s *Store) planTx(ctx context.Context, tx *redis.Tx, key string, d *store.Delta) (store.Plan, time.Time, error) {
	fields, err := tx.HGetAll(ctx, key).Result()
	if err != nil {
		return store.Plan{}, time.Time{}, err
	}
	now := s.now.Now()
	var current *store.Meta
	var rec store.Record
	if len(fields) > 0 {
		if rec, err = decodeSession(fields); err != nil {
			return store.Plan{}, time.Time{}, &planError{fmt.Errorf("redisstore: %s: %w", key, err)}
		}
		if !rec.Meta.Expired(now) {
			current = &rec.Meta
		}
	}
	get := func(k store.Key) ([]byte, bool, error) {
		v, ok := rec.Values[k]
		return v, ok, nil
	}
	plan, err := store.PlanCommit(now, current, get, d)
	if err != nil {
		return store.Plan{}, time.Time{}, &planError{err}
	}
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		queuePlan(ctx, p, key, fields, &plan)
		return nil
	})
	if err == nil && s.waitReplicas > 0 {
		err = s.waitTx(ctx, tx)
	}
	return plan, rec.Meta.ExpiresAt(), err
}

// queuePlan queues the writes that turn the stored fields into plan.
func queuePlan(ctx context.Context, p redis.Pipeliner, key string, stored map[string]string, plan *store.Plan) {
	var del []string
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
	pairs, unset := appendMetaFields(nil, &plan.Meta)
	del = append(del, unset...)
	for k, v := range plan.Put {
		pairs = append(pairs, store.AppendKey(nil, k), v)
	}
	p.HDel(ctx, key, del...)
	p.HSet(ctx, key, pairs...)
	if at := plan.Meta.ExpiresAt(); at.IsZero() {
		p.Persist(ctx, key)
	} else {
		p.PExpireAt(ctx, key, time.UnixMilli(expireAtMillis(at)))
	}
}

// backoff waits a random time that grows with attempt, so clients that
// keep colliding on one session spread out instead of colliding again.
func backoff(ctx context.Context, attempt int) error {
	limit := int64(100*time.Microsecond) << min(attempt, 7)
	t := time.NewTimer(time.Duration(rand.Int64N(limit)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
