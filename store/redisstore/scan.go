package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

// List implements store.Lister. It walks the keys with SCAN (never KEYS,
// which blocks the server) and reads each page's metas in one pipeline,
// so it sees the sessions that exist throughout the walk, plus possibly
// some created or deleted during it.
func (s *Store) List(ctx context.Context, fn func(id string, m store.Meta) bool) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now.Now()
	return s.scan(ctx, "list", func(ids []string) (bool, error) {
		cmds := make([]*redis.SliceCmd, len(ids))
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HMGet(ctx, s.key(id), metaFieldNames...)
			}
			return nil
		})
		if err != nil {
			return false, s.fail(ctx, "list", err)
		}
		for i, id := range ids {
			vals := cmds[i].Val()
			if len(vals) == 0 || vals[1] == nil {
				continue // deleted since SCAN saw it
			}
			var mf metaFields
			mf.fromSlice(vals)
			m, err := mf.meta()
			if err != nil {
				return false, fmt.Errorf("redisstore: session %q: %w", id, err)
			}
			if m.Expired(now) {
				continue
			}
			if !fn(id, m) {
				return false, nil
			}
		}
		return true, nil
	})
}

// Stats implements store.Statser by walking the keys with SCAN, one
// pipeline per page. Its cost grows with the database's size.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	if s.closed.Load() {
		return store.Stats{}, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return store.Stats{}, err
	}
	now := s.now.Now()
	var st store.Stats
	err := s.scan(ctx, "stats", func(ids []string) (bool, error) {
		cmds := make([]*redis.SliceCmd, len(ids))
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HMGet(ctx, s.key(id), fieldVersion, fieldBytes, fieldIdle, fieldAbs)
			}
			return nil
		})
		if err != nil {
			return false, s.fail(ctx, "stats", err)
		}
		for _, cmd := range cmds {
			vals := cmd.Val()
			if len(vals) != 4 || vals[0] == nil {
				continue
			}
			st.Sessions++
			var m store.Meta
			if b, ok := vals[1].(string); ok {
				m.Bytes, _ = strconv.ParseInt(b, 10, 64)
			}
			if idle, ok := vals[2].(string); ok {
				m.IdleDeadline, _ = parseTime(idle)
			}
			if abs, ok := vals[3].(string); ok {
				m.AbsDeadline, _ = parseTime(abs)
			}
			st.Bytes += m.Bytes
			if m.Expired(now) {
				st.Expired++
			}
		}
		return true, nil
	})
	return st, err
}

// errStopScan ends a scan early when the page callback asks to.
var errStopScan = errors.New("redisstore: scan stopped")

// scan calls page with the IDs of the store's session keys, a SCAN page
// at a time, until page returns false or an error. SCAN may return a key
// twice (when Redis resizes its table mid-walk), so scan remembers the
// IDs it passed on. On Redis Cluster it walks every master, one page at a
// time.
func (s *Store) scan(ctx context.Context, op string, page func(ids []string) (bool, error)) error {
	match := s.keyPattern()
	seen := make(map[string]struct{})
	// mu guards seen and stopped, and serializes page calls, which on a
	// cluster come from one goroutine per master.
	var mu sync.Mutex
	stopped := false
	walk := func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.ScanType(ctx, cursor, match, s.scanCount, "hash").Result()
			if err != nil {
				return s.fail(ctx, op, err)
			}
			ids := make([]string, 0, len(keys))
			for _, k := range keys {
				if id, ok := s.idOfKey(k); ok {
					ids = append(ids, id)
				}
			}
			mu.Lock()
			if stopped {
				mu.Unlock()
				return errStopScan
			}
			fresh := ids[:0]
			for _, id := range ids {
				if _, dup := seen[id]; !dup {
					seen[id] = struct{}{}
					fresh = append(fresh, id)
				}
			}
			more := true
			if len(fresh) > 0 {
				more, err = page(fresh)
			}
			stopped = err != nil || !more
			mu.Unlock()
			switch {
			case err != nil:
				return err
			case !more:
				return errStopScan
			case next == 0:
				return nil
			}
			cursor = next
		}
	}
	var err error
	if cluster, ok := s.client.(*redis.ClusterClient); ok {
		err = cluster.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return walk(ctx, c) })
	} else {
		err = walk(ctx, s.client)
	}
	if errors.Is(err, errStopScan) {
		return nil
	}
	return err
}

// globEscape quotes the characters SCAN MATCH treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
