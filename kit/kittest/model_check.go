package kittest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tabkit/tabkit/store"
)

// check looks at the store after a step, bypassing the kit (Load writes
// nothing): every token that must be dead is, and the session each
// browser holds is the model's, value for value and tab for tab. It
// settles what the model left open: the order of racing flashes, idled
// out tabs the store removed, and the last-seen times and deadlines,
// after checking them.
func (m *mModel) check(ctx context.Context, st store.Store) *mFail {
	for bi, b := range m.browsers {
		for _, token := range b.dead {
			_, found, err := st.Load(ctx, store.HashToken(token))
			if errors.Is(err, store.ErrMoved) {
				continue // dead, and known to have moved for a while
			}
			if err != nil {
				return failf(invStatus, "store: %v", err)
			}
			if found {
				return failf(invDeadToken, "b%d: token %s must be dead, but the store has its session", bi, shortToken(token))
			}
		}
		if b.token == "" {
			continue
		}
		s := m.sessions[b.token]
		rec, found, err := st.Load(ctx, store.HashToken(b.token))
		if err != nil {
			return failf(invStatus, "store: %v", err)
		}
		live := s != nil && !s.expired(m.now)
		if found != live {
			why := "the model has no session for it"
			if s != nil {
				why = fmt.Sprintf("model deadlines idle %s, absolute %s, now %s", s.idleDeadline.Format("15:04:05"),
					s.absDeadline.Format("15:04:05"), m.now.Format("15:04:05"))
			}
			return failf(invExpiry, "b%d: the store has session %s: %v; %s", bi, shortToken(b.token), found, why)
		}
		if live {
			if f := m.compare(bi, s, rec); f != nil {
				return f
			}
		}
	}
	return nil
}

func (m *mModel) compare(bi int, s *mSess, rec store.Record) *mFail {
	now := m.now
	s.purge(now)
	where := fmt.Sprintf("b%d session %s", bi, shortToken(s.token))
	for n := range s.tabs {
		if _, ok := rec.Meta.Tabs[n]; !ok && s.stale(n, now) {
			m.count("idled-out tab removed")
			s.dropTab(n) // idled out, and now removed
		}
	}
	if f := m.compareValues(where, s, rec); f != nil {
		return f
	}
	for n := range s.tabs {
		if _, ok := rec.Meta.Tabs[n]; !ok {
			return failf(invTabs, "%s: tab %d is open in the model but not in the store (store: %v, model: %v)", where, n, tabNumbers(rec.Meta.Tabs), tabNumbers(s.tabs))
		}
	}
	for n := range rec.Meta.Tabs {
		if _, ok := s.tabs[n]; !ok {
			return failf(invTabs, "%s: the store has tab %d, which the model does not (store: %v, model: %v)", where, n, tabNumbers(rec.Meta.Tabs), tabNumbers(s.tabs))
		}
	}
	open := 1
	for n, info := range rec.Meta.Tabs {
		if n != 0 && now.Sub(info.LastSeen) <= mTabIdle {
			open++
		}
	}
	if open > mMaxTabs {
		return failf(invMaxTabs, "%s: %d open tabs in the store: %v", where, open, tabNumbers(rec.Meta.Tabs))
	}

	if rec.Meta.NextTab != s.nextTab {
		return failf(invTabs, "%s: next tab number %d, the model %d", where, rec.Meta.NextTab, s.nextTab)
	}

	meta := rec.Meta
	switch {
	case !meta.Created.Equal(s.created):
		return failf(invExpiry, "%s: created %v, the model %v", where, meta.Created, s.created)
	case !meta.AbsDeadline.Equal(s.created.Add(mLifetime)):
		return failf(invExpiry, "%s: absolute deadline %v, created %v", where, meta.AbsDeadline, s.created)
	case !meta.IdleDeadline.Equal(meta.LastSeen.Add(mIdle)):
		return failf(invExpiry, "%s: idle deadline %v, last seen %v", where, meta.IdleDeadline, meta.LastSeen)
	case meta.LastSeen.Before(s.lastSeen) || meta.LastSeen.After(now):
		return failf(invTouch, "%s: last seen %v, before %v, now %v", where, meta.LastSeen, s.lastSeen, now)
	}
	u := m.use[s.token]
	if u != nil && u.session && now.Sub(meta.LastSeen) >= mTouch {
		return failf(invTouch, "%s: used now (%v) but last seen %v", where, now, meta.LastSeen)
	}
	for n, info := range meta.Tabs {
		if n != 0 && s.stale(n, now) && !info.LastSeen.Equal(s.tabs[n]) {
			return failf(invTabs, "%s: tab %d idled out (last seen %v), yet the store has it seen at %v: a request revived it (stale-revive)",
				where, n, s.tabs[n], info.LastSeen)
		}
		if info.LastSeen.Before(s.tabs[n]) || info.LastSeen.After(now) {
			return failf(invTouch, "%s: tab %d last seen %v, before %v, now %v", where, n, info.LastSeen, s.tabs[n], now)
		}
		if u != nil && u.tabs[n] && now.Sub(info.LastSeen) >= mTouch {
			return failf(invTouch, "%s: tab %d used now (%v) but last seen %v", where, n, now, info.LastSeen)
		}
		s.tabs[n] = info.LastSeen
	}
	s.lastSeen, s.idleDeadline, s.absDeadline = meta.LastSeen, meta.IdleDeadline, meta.AbsDeadline
	return nil
}

// compareValues compares the values and notices of a session.
func (m *mModel) compareValues(where string, s *mSess, rec store.Record) *mFail {
	got, notices, err := decodeRecord(rec)
	if err != nil {
		return failf(invValue, "%s: %v", where, err)
	}
	for k, r := range s.resolve {
		v, ok := got[k]
		if !r.check(v.List, ok) {
			return failf(invFlash, "%s: %v holds %v, want %v then %v in any order (and any of %v)", where, k, v,
				listString(r.Prefix), listString(r.Rest), listString(r.May))
		}
		delete(s.resolve, k)
		if ok {
			s.values[k] = mVal{List: v.List, Deadline: r.Deadline}
		}
	}
	for k, want := range s.values {
		v, ok := got[k]
		switch {
		case !ok:
			return failf(invLostWrite, "%s: %v should hold %v, the store has nothing", where, k, want)
		case !slices.Equal(v.List, want.List):
			inv := invValue
			for _, item := range want.List {
				if !slices.Contains(v.List, item) {
					inv = invLostWrite // an acknowledged item is gone
				}
			}
			return failf(inv, "%s: %v holds %v, the model %v", where, k, v, want)
		case !v.Deadline.Equal(want.Deadline):
			return failf(invTTL, "%s: %v holds %v, the model %v", where, k, v, want)
		}
	}
	for k, v := range got {
		if _, ok := s.values[k]; !ok {
			return failf(invValue, "%s: the store holds %v = %v, which the model does not", where, k, v)
		}
	}
	if !slices.Equal(notices, s.notices) {
		return failf(invFlash, "%s: notices %v, the model %v", where, notices, s.notices)
	}
	return nil
}

func tabNumbers[V any](tabs map[uint32]V) []uint32 {
	return slices.Sorted(maps.Keys(tabs))
}

// decodeRecord turns a stored session into the model's shape.
func decodeRecord(rec store.Record) (map[mKey]mVal, []notice, error) {
	values := make(map[mKey]mVal, len(rec.Values))
	var notices []notice
	for k, v := range rec.Values {
		mk := mKey{Tab: mSessionWide, Name: k.Name}
		if k.InTab {
			mk.Tab = int64(k.Tab)
		}
		var list []string
		switch {
		case !k.InTab && k.Name == noticesKey.Name:
			if err := json.Unmarshal(v, &notices); err != nil {
				return nil, nil, fmt.Errorf("notices %q: %w", v, err)
			}
			continue
		case strings.HasPrefix(k.Name, flashPrefix):
			items, err := splitFlashes(v)
			if err != nil {
				return nil, nil, fmt.Errorf("flashes %v: %w", mk, err)
			}
			for _, item := range items {
				var s string
				if err := json.Unmarshal(item, &s); err != nil {
					return nil, nil, fmt.Errorf("flash %v %q: %w", mk, item, err)
				}
				list = append(list, s)
			}
			mk.Name = "~" + strings.TrimPrefix(k.Name, flashPrefix)
		case strings.HasPrefix(k.Name, "\x00"):
			return nil, nil, fmt.Errorf("unknown reserved key %q", k.Name)
		default:
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, nil, fmt.Errorf("%v = %q: %w", mk, v, err)
			}
		}
		values[mk] = mVal{List: list, Deadline: rec.Meta.Expiring[k]}
	}
	return values, notices, nil
}
