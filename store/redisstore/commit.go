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

// commitPlain applies a delta without functions or a principal in one
// script call. The script redoes store.PlanCommit's accounting for the
// parts such a delta can have (deadlines, expectations, value deadlines,
// Delete, Set), so both paths agree.
func (s *Store) commitPlain(ctx context.Context, id string, d *store.Delta) (store.Meta, error) {
	args := make([]any, 0, 8+3*len(d.Expect)+len(d.Delete)+3*len(d.Set))
	args = append(args,
		formatDeadline(s.now.Now()),
		optional(d.LastSeen, formatTime),
		optional(d.IdleDeadline, formatDeadline),
		optional(d.AbsDeadline, formatDeadline),
		d.MaxBytes,
		s.grace.Milliseconds(),
		len(d.Expect),
		len(d.Delete),
	)
	for k, e := range d.Expect {
		found := "0"
		if e.Found {
			found = "1"
		}
		args = append(args, store.AppendKey(nil, k), found, e.Value)
	}
	for _, k := range d.Delete {
		args = append(args, store.AppendKey(nil, k))
	}
	for k, v := range d.Set {
		args = append(args, store.AppendKey(nil, k), v, optional(d.Expires[k], formatDeadline))
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
		if strings.Contains(err.Error(), "CORRUPT_DEADLINES") {
			return store.Meta{}, fmt.Errorf("redisstore: session %q: %w: value deadlines", id, store.ErrCorrupt)
		}
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
	case "moved":
		return store.Meta{}, store.ErrMoved
	case "conflict":
		name := arg(1)
		if k, err := store.ParseKey([]byte(name)); err == nil {
			name = k.Name
		}
		return store.Meta{}, fmt.Errorf("%w: key %q", store.ErrConflict, name)
	case "keyname":
		return store.Meta{}, fmt.Errorf("%w: key name of %s bytes (1 to %d allowed)", store.ErrTooLarge, arg(1), store.MaxKeyName)
	case "notab":
		return store.Meta{}, fmt.Errorf("%w: tab %s", store.ErrNoTab, arg(1))
	case "toolarge":
		return store.Meta{}, fmt.Errorf("%w: %s bytes, limit %s", store.ErrTooLarge, arg(1), arg(2))
	default:
		return store.Meta{}, fmt.Errorf("redisstore: commit: script replied %q", reply[0])
	}
	if len(reply) != 12 {
		return store.Meta{}, fmt.Errorf("redisstore: commit: script replied %d fields", len(reply))
	}
	mf := metaFields{
		version: reply[1], bytes: reply[2], tabBytes: reply[3], blob: reply[4],
		lastSeen: reply[5], tabZero: reply[6], idle: reply[7], abs: reply[8],
		principal: reply[10], expiring: reply[11],
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
	// What the quota's sweep removed is reported once its lock is
	// released (deferred first, so run last).
	var swept []store.Event
	defer func() { s.notify.Send(swept) }()
	if s.maxSessions > 0 {
		s.quotaMu.Lock()
		defer s.quotaMu.Unlock()
	}
	swept, err = s.checkQuota(ctx, now)
	if err != nil {
		return store.Meta{}, s.existsOr(ctx, key, now, err)
	}
	expireAt := ""
	if at := plan.Meta.ExpiresAt(); !at.IsZero() {
		expireAt = strconv.FormatInt(s.expireAtMillis(at), 10)
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
