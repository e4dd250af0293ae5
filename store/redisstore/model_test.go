package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// TestAgainstModel drives the store and store.Memory, the reference
// implementation, with the same random sequences of operations on one
// session (creates, plain commits with expectations and value deadlines,
// updates, tab edits, principals, moves, deletes, a clock that moves) and
// compares every outcome: the error's kind, the meta returned, and the
// session loaded. The commit script redoes store.PlanCommit in Lua; this
// is where the two would part. A failing sequence is shrunk to the
// fewest operations that still fail before it is reported.
func TestAgainstModel(t *testing.T) {
	const sequences, length = 40, 60
	onEachServer(t, func(t *testing.T, url string) {
		for seed := range uint64(sequences) {
			ops := randomOps(rand.New(rand.NewPCG(seed, 1)), length)
			step, _ := runModel(t, url, ops)
			if step < 0 {
				continue
			}
			ops = shrinkOps(t, url, ops[:step+1])
			step, why := runModel(t, url, ops)
			var b strings.Builder
			for i, op := range ops {
				fmt.Fprintf(&b, "\n  %2d %s", i, op)
			}
			t.Fatalf("seed %d: step %d: %s\nshrunk sequence:%s", seed, step, why, b.String())
		}
	})
}

// modelOp is one operation, as data, so a sequence can be replayed.
type modelOp struct {
	advance time.Duration // the clock moves first
	kind    string        // "commit", "create", "move", "delete"
	sets    map[store.Key]string
	ttls    map[store.Key]time.Duration
	deletes []store.Key
	// expect lists keys expected as stored now ("="), as missing ("-") or
	// with a stale value ("x").
	expect   map[store.Key]string
	updates  []store.Key
	openTab  bool
	closeTab uint32 // 0: none
	touch    bool
	maxBytes int64
	setP     bool
	p        string
}

func (op modelOp) String() string {
	var parts []string
	if op.advance > 0 {
		parts = append(parts, "advance "+op.advance.String())
	}
	parts = append(parts, op.kind)
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	for _, k := range sortedModelKeys(op.expect) {
		add("expect %s%s", op.expect[k], keyName(k))
	}
	for _, k := range op.deletes {
		add("delete %s", keyName(k))
	}
	for _, k := range sortedModelKeys(op.sets) {
		if ttl, ok := op.ttls[k]; ok {
			add("set %s=%q ttl %v", keyName(k), op.sets[k], ttl)
		} else {
			add("set %s=%q", keyName(k), op.sets[k])
		}
	}
	for _, k := range op.updates {
		add("update %s", keyName(k))
	}
	if op.openTab {
		add("open tab")
	}
	if op.closeTab > 0 {
		add("close tab %d", op.closeTab)
	}
	if op.touch {
		add("touch")
	}
	if op.maxBytes > 0 {
		add("max %d bytes", op.maxBytes)
	}
	if op.setP {
		add("principal %q", op.p)
	}
	return strings.Join(parts, ", ")
}

func keyName(k store.Key) string {
	if k.InTab {
		return fmt.Sprintf("t%d/%s", k.Tab, k.Name)
	}
	return k.Name
}

func sortedModelKeys[V any](m map[store.Key]V) []store.Key {
	keys := make([]store.Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b store.Key) int { return strings.Compare(keyName(a), keyName(b)) })
	return keys
}

func randomOps(r *rand.Rand, n int) []modelOp {
	keys := []store.Key{store.SessionKey("a"), store.SessionKey("b"), store.TabKey(0, "x"), store.TabKey(1, "y"), store.TabKey(2, "x")}
	key := func() store.Key { return keys[r.IntN(len(keys))] }
	ops := make([]modelOp, 0, n)
	for range n {
		op := modelOp{kind: "commit"}
		switch x := r.IntN(20); {
		case x == 0:
			op.kind = "create"
		case x == 1:
			op.kind = "move"
		case x == 2:
			op.kind = "delete"
		}
		if r.IntN(4) == 0 {
			op.advance = time.Duration(r.IntN(20)) * time.Minute
		}
		for range r.IntN(3) {
			if op.expect == nil {
				op.expect = make(map[store.Key]string)
			}
			op.expect[key()] = []string{"=", "=", "=", "-", "x"}[r.IntN(5)]
		}
		for range r.IntN(2) {
			op.deletes = append(op.deletes, key())
		}
		for range r.IntN(3) {
			k := key()
			if op.sets == nil {
				op.sets = make(map[store.Key]string)
			}
			op.sets[k] = strings.Repeat("v", r.IntN(8))
			if r.IntN(3) == 0 {
				if op.ttls == nil {
					op.ttls = make(map[store.Key]time.Duration)
				}
				op.ttls[k] = time.Duration(1+r.IntN(30)) * time.Minute
			}
		}
		if r.IntN(6) == 0 {
			op.updates = append(op.updates, key())
		}
		switch r.IntN(12) {
		case 0:
			op.openTab = true
		case 1:
			op.closeTab = uint32(1 + r.IntN(2))
		}
		op.touch = r.IntN(3) == 0
		if r.IntN(8) == 0 {
			op.maxBytes = int64(10 + r.IntN(40))
		}
		if r.IntN(10) == 0 {
			op.setP, op.p = true, []string{"", "ann", "ben"}[r.IntN(3)]
		}
		ops = append(ops, op)
	}
	return ops
}

// runModel runs ops on a fresh Redis store and a fresh memory store and
// returns the index of the first step where they differ and how, or -1.
func runModel(t *testing.T, url string, ops []modelOp) (int, string) {
	t.Helper()
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	rs, err := New(newClient(t, url), &Options{KeyPrefix: uniquePrefix(t, url), Now: clock.Now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	defer rs.client.Close()
	ms := store.NewMemoryWith(store.MemoryOptions{Now: clock.Now, SweepInterval: -1})
	defer ms.Close()
	ctx := t.Context()
	ids := [2]string{store.HashToken("model-token-A"), store.HashToken("model-token-B")}
	cur := 0
	for i, op := range ops {
		clock.Advance(op.advance)
		var gotM, wantM store.Meta
		var gotErr, wantErr error
		switch op.kind {
		case "delete":
			gotErr, wantErr = rs.Delete(ctx, ids[cur]), ms.Delete(ctx, ids[cur])
		case "move":
			d := op.delta(ctx, ms, ids[cur], clock.Now(), false)
			gotM, gotErr = rs.Move(ctx, ids[cur], ids[1-cur], d)
			d = op.delta(ctx, ms, ids[cur], clock.Now(), false)
			wantM, wantErr = ms.Move(ctx, ids[cur], ids[1-cur], d)
			if wantErr == nil {
				cur = 1 - cur
			}
		default:
			create := op.kind == "create"
			d := op.delta(ctx, ms, ids[cur], clock.Now(), create)
			gotM, gotErr = rs.Commit(ctx, ids[cur], d)
			d = op.delta(ctx, ms, ids[cur], clock.Now(), create)
			wantM, wantErr = ms.Commit(ctx, ids[cur], d)
		}
		if g, w := errorKind(gotErr), errorKind(wantErr); g != w {
			return i, fmt.Sprintf("error: got %v, want %v", gotErr, wantErr)
		}
		if gotErr == nil && op.kind != "delete" {
			if diff := metaDiff(gotM, wantM); diff != "" {
				return i, "meta returned: " + diff
			}
		}
		for _, id := range ids {
			got, gotFound, gotErr := rs.Load(ctx, id)
			want, wantFound, wantErr := ms.Load(ctx, id)
			if g, w := errorKind(gotErr), errorKind(wantErr); g != w {
				return i, fmt.Sprintf("Load(%s): got %v, want %v", id, gotErr, wantErr)
			}
			if gotFound != wantFound {
				return i, fmt.Sprintf("Load(%s): found %v, want %v", id, gotFound, wantFound)
			}
			if !gotFound {
				continue
			}
			if diff := metaDiff(got.Meta, want.Meta); diff != "" {
				return i, "meta loaded: " + diff
			}
			if diff := valuesDiff(got.Values, want.Values); diff != "" {
				return i, "values loaded: " + diff
			}
		}
	}
	return -1, ""
}

// delta builds op's delta for session id, resolving its expectations
// against what the reference store holds now.
func (op modelOp) delta(ctx context.Context, ref store.Store, id string, now time.Time, create bool) store.Delta {
	d := store.Delta{Create: create, MaxBytes: op.maxBytes, SetPrincipal: op.setP, Principal: op.p}
	if create {
		d.IdleDeadline = now.Add(40 * time.Minute)
	}
	if op.touch {
		d.LastSeen, d.IdleDeadline = now, now.Add(40*time.Minute)
	}
	rec, _, _ := ref.Load(ctx, id)
	for k, how := range op.expect {
		if d.Expect == nil {
			d.Expect = make(map[store.Key]store.Expected)
		}
		v, found := rec.Values[k]
		switch how {
		case "=":
			d.Expect[k] = store.Expected{Value: v, Found: found}
		case "-":
			d.Expect[k] = store.Expected{}
		default:
			d.Expect[k] = store.Expected{Value: []byte("stale"), Found: true}
		}
	}
	d.Delete = op.deletes
	for k, v := range op.sets {
		if d.Set == nil {
			d.Set = make(map[store.Key][]byte)
		}
		d.Set[k] = []byte(v)
	}
	for k, ttl := range op.ttls {
		if d.Expires == nil {
			d.Expires = make(map[store.Key]time.Time)
		}
		d.Expires[k] = now.Add(ttl)
	}
	for _, k := range op.updates {
		if d.Update == nil {
			d.Update = make(map[store.Key]store.UpdateFunc)
		}
		d.Update[k] = func(old []byte, _ bool) ([]byte, error) { return append(old, 'u'), nil }
	}
	if op.openTab || op.closeTab > 0 {
		d.EditMeta = func(m *store.Meta) error {
			if op.openTab {
				m.Tabs[m.NextTab] = store.TabInfo{Created: now, LastSeen: now}
				m.NextTab++
			}
			delete(m.Tabs, op.closeTab)
			return nil
		}
	}
	return d
}

func errorKind(err error) string {
	for _, e := range []error{store.ErrMoved, store.ErrNotFound, store.ErrExists, store.ErrConflict, store.ErrNoTab, store.ErrTooLarge, store.ErrInvalidID} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "nil"
}

// metaDiff describes the first difference between two metas, "" when
// they agree.
func metaDiff(got, want store.Meta) string {
	type field struct {
		name      string
		got, want any
	}
	fields := []field{
		{"Created", got.Created.UnixNano(), want.Created.UnixNano()},
		{"LastSeen", got.LastSeen.UnixNano(), want.LastSeen.UnixNano()},
		{"IdleDeadline", got.IdleDeadline.UnixNano(), want.IdleDeadline.UnixNano()},
		{"AbsDeadline", got.AbsDeadline.UnixNano(), want.AbsDeadline.UnixNano()},
		{"NextTab", got.NextTab, want.NextTab},
		{"Principal", got.Principal, want.Principal},
		{"Bytes", got.Bytes, want.Bytes},
		{"Version", got.Version, want.Version},
		{"Expiring", expiringString(got.Expiring), expiringString(want.Expiring)},
		{"Tabs", tabsString(got.Tabs), tabsString(want.Tabs)},
	}
	for _, f := range fields {
		if f.got != f.want {
			return fmt.Sprintf("%s: got %v, want %v", f.name, f.got, f.want)
		}
	}
	return ""
}

func expiringString(m map[store.Key]time.Time) string {
	var parts []string
	for _, k := range sortedModelKeys(m) {
		parts = append(parts, fmt.Sprintf("%s@%d", keyName(k), m[k].UnixNano()))
	}
	return strings.Join(parts, " ")
}

func tabsString(tabs map[uint32]store.TabInfo) string {
	var parts []string
	for n, info := range tabs {
		parts = append(parts, fmt.Sprintf("%d:%d/%d/%d", n, info.Bytes, info.Created.UnixNano(), info.LastSeen.UnixNano()))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func valuesDiff(got, want map[store.Key][]byte) string {
	for k, w := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, w) {
			return fmt.Sprintf("%s: got %q (present %v), want %q", keyName(k), g, ok, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			return fmt.Sprintf("%s: got %q, want none", keyName(k), g)
		}
	}
	return ""
}

// shrinkOps drops operations one at a time while the sequence still
// fails, and returns what is left.
func shrinkOps(t *testing.T, url string, ops []modelOp) []modelOp {
	for i := len(ops) - 1; i >= 0; i-- {
		shorter := slices.Delete(slices.Clone(ops), i, i+1)
		if step, _ := runModel(t, url, shorter); step >= 0 {
			ops = shorter[:step+1]
			i = min(i, len(ops))
		}
	}
	return ops
}
