package session

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/tabs"
)

// maxLabel bounds a tab label, which every page of the session carries.
const maxLabel = 200

// TabOpen reports whether the request's tab belongs to its session and
// has not idled out. Tab 0 is always open.
func (u *Unit) TabOpen() (bool, error) {
	if !u.hasTab {
		return false, nil
	}
	if u.tab == 0 {
		return true, nil
	}
	if len(u.candidates) == 0 && u.token == "" {
		return false, nil
	}
	if err := u.load(); err != nil {
		return false, err
	}
	if !u.found {
		return false, nil
	}
	info, ok := u.rec.Meta.Tabs[uint32(u.tab)]
	return ok && !u.idledOut(uint32(u.tab), info), nil
}

// idledOut reports whether tab n went unused past TabIdleTimeout. Tab 0
// never closes.
func (u *Unit) idledOut(n uint32, info store.TabInfo) bool {
	timeout := u.cfg.TabIdleTimeout
	return n != 0 && timeout > 0 && u.now.Sub(info.LastSeen) > timeout
}

// SetLabel queues naming the request's tab.
func (u *Unit) SetLabel(label string) error {
	if !u.hasTab {
		return ErrNoTab
	}
	if len(label) > maxLabel {
		return fmt.Errorf("session: tab label of %d bytes, at most %d: %w", len(label), maxLabel, store.ErrTooLarge)
	}
	if err := u.load(); err != nil {
		return err
	}
	u.pending.label, u.pending.hasLabel = label, true
	return u.afterQueue()
}

func (u *Unit) labelEdit(label string) func(*store.Meta) error {
	tab, now := uint32(u.tab), u.now
	return func(m *store.Meta) error {
		if !m.IsOpen(tab) {
			return fmt.Errorf("session: labelling tab %d: %w", tab, store.ErrNoTab)
		}
		info, ok := m.Tabs[tab]
		if !ok {
			info = store.TabInfo{Created: now}
		}
		info.Label, info.LastSeen = label, now
		m.Tabs[tab] = info
		return nil
	}
}

// upkeepDue reports whether the session the request loaded needs its tab
// table kept: the current tab's last-seen time is stale, or other tabs
// idled out.
func (u *Unit) upkeepDue() bool { return u.upkeep() != nil || u.touchDue() }

// upkeep returns the edit that keeps the tab table, or nil when nothing
// is due. It only looks at a session the request loaded anyway, so it
// never costs a read, whatever the tab or path.
func (u *Unit) upkeep() func(*store.Meta) error {
	if !u.loaded || !u.found {
		return nil
	}
	var stale []uint32
	for n, info := range u.rec.Meta.Tabs {
		// The request's own tab too: a request that reached an idled-out
		// tab was turned away, and must not bring it back to life.
		if u.idledOut(n, info) {
			stale = append(stale, n)
		}
	}
	info, tracked := u.rec.Meta.Tabs[uint32(u.tab)]
	touch := u.hasTab && tracked && !u.idledOut(uint32(u.tab), info) && u.now.Sub(info.LastSeen) >= u.cfg.TouchInterval
	if len(stale) == 0 && !touch {
		return nil
	}
	tab, now, timeout := uint32(u.tab), u.now, u.cfg.TabIdleTimeout
	return func(m *store.Meta) error {
		for _, n := range stale {
			// Checked again: another request may have used it meanwhile.
			if info, ok := m.Tabs[n]; ok && now.Sub(info.LastSeen) > timeout {
				delete(m.Tabs, n)
			}
		}
		if touch {
			touchTab(m, tab, now)
		}
		return nil
	}
}

func touchTab(m *store.Meta, n uint32, now time.Time) {
	info, ok := m.Tabs[n]
	if !ok {
		return // tab 0 without an entry: nothing to touch
	}
	info.LastSeen = now
	m.Tabs[n] = info
}

// Opening says how OpenTab picks a number.
type Opening int

const (
	// FreshTab always allocates a new number.
	FreshTab Opening = iota
	// ReuseEmptyTab takes the newest tab that holds nothing and has no
	// label, so repeated bare visits do not grow the tab table.
	ReuseEmptyTab
)

// OpenTab returns a tab for the browser to use. With no stored session
// it returns tab 0 and stores nothing; otherwise it allocates (or reuses)
// a number, closing the least recently used tabs past MaxTabs, tabs that
// hold nothing first. copyFrom, when set, gives the new tab a copy of
// that tab's data as the request loaded it (a fork).
func (u *Unit) OpenTab(how Opening, copyFrom *tabs.ID) (tabs.ID, error) {
	if err := u.load(); err != nil {
		return 0, err
	}
	if !u.found {
		return 0, nil
	}
	if u.finished {
		return 0, ErrResponseStarted
	}
	cfg, now := u.cfg, u.now
	// Tabs the request stands on, its own and the one it copies, go last
	// among tabs alike: a fork must not evict the data it copies.
	spare := []uint32{}
	if u.hasTab {
		spare = append(spare, uint32(u.tab))
	}
	if copyFrom != nil {
		spare = append(spare, uint32(*copyFrom))
	}
	var got uint32
	var evicted []uint32
	edit := func(m *store.Meta) error {
		got, evicted = 0, nil
		if how == ReuseEmptyTab {
			if n, ok := newestEmptyTab(m); ok {
				got = n
				touchTab(m, n, now)
				return nil
			}
		}
		n := m.NextTab
		if uint64(n) > uint64(cfg.MaxTabID) {
			return fmt.Errorf("session: up to %d: %w", cfg.MaxTabID, ErrTabNumbersUsedUp)
		}
		m.Tabs[n] = store.TabInfo{Created: now, LastSeen: now}
		m.NextTab = n + 1
		got = n
		evicted = evictTabs(m, cfg.MaxTabs, n, spare)
		return nil
	}
	u.pending.edits = append(u.pending.edits, edit)
	meta, err := u.commit(nil)
	if err != nil {
		return 0, err
	}
	if len(evicted) > 0 {
		u.cfg.observe(Event{Kind: EventTabsEvicted, Handle: u.id, Principal: meta.Principal, Tabs: evicted})
	}
	if copyFrom != nil {
		if err := u.copyTab(uint32(*copyFrom), got); err != nil {
			return 0, err
		}
	}
	return tabs.ID(got), nil
}

// copyTab gives tab to a copy of tab from's values, as loaded.
func (u *Unit) copyTab(from, to uint32) error {
	values := u.storedValues(from)
	if len(values) == 0 {
		return nil
	}
	p := &u.pending
	if p.set == nil {
		p.set = make(map[store.Key][]byte, len(values))
	}
	for k, v := range values {
		copied := store.TabKey(to, k.Name)
		p.set[copied] = v
		if at, ok := u.rec.Meta.Expiring[k]; ok {
			// A copied value expires when the original does.
			if p.expires == nil {
				p.expires = make(map[store.Key]time.Time)
			}
			p.expires[copied] = at
		}
	}
	_, err := u.commit(nil)
	return err
}

// newestEmptyTab finds the highest-numbered open tab with no data and no
// label. Tab 0 counts when it has never held anything.
func newestEmptyTab(m *store.Meta) (uint32, bool) {
	best, found := uint32(0), false
	for n, info := range m.Tabs {
		if info.Bytes == 0 && info.Label == "" && (!found || n > best) {
			best, found = n, true
		}
	}
	if !found {
		if _, ok := m.Tabs[0]; !ok {
			return 0, true
		}
	}
	return best, found
}

// evictTabs closes tabs until at most max are open (tab 0 always counts
// and is never closed, nor is keep): tabs that hold nothing go first,
// then tabs with data, the least recently seen first, and the tabs in
// spare last of their kind. It returns the closed numbers.
func evictTabs(m *store.Meta, max int, keep uint32, spare []uint32) []uint32 {
	open := len(m.Tabs) + 1
	if _, ok := m.Tabs[0]; ok {
		open--
	}
	if open <= max {
		return nil
	}
	var victims []uint32
	for n := range m.Tabs {
		if n != 0 && n != keep {
			victims = append(victims, n)
		}
	}
	slices.SortFunc(victims, func(a, b uint32) int {
		ia, ib := m.Tabs[a], m.Tabs[b]
		if emptyA, emptyB := ia.Bytes == 0 && ia.Label == "", ib.Bytes == 0 && ib.Label == ""; emptyA != emptyB {
			if emptyA {
				return -1
			}
			return 1
		}
		if spareA, spareB := slices.Contains(spare, a), slices.Contains(spare, b); spareA != spareB {
			if spareB {
				return -1
			}
			return 1
		}
		if c := ia.LastSeen.Compare(ib.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var closed []uint32
	for _, n := range victims {
		if open <= max {
			break
		}
		delete(m.Tabs, n)
		closed = append(closed, n)
		open--
	}
	return closed
}

// CloseTab closes the request's tab now: its data is deleted, in the
// store and in what this request sees, and its number is never handed
// out again. Tab 0 cannot close; closing it clears its data.
func (u *Unit) CloseTab() error {
	if !u.hasTab {
		return ErrNoTab
	}
	tab := uint32(u.tab)
	if err := u.load(); err != nil {
		return err
	}
	u.forgetTab(tab)
	if !u.found {
		return nil
	}
	u.pending.edits = append(u.pending.edits, func(m *store.Meta) error {
		delete(m.Tabs, tab)
		return nil
	})
	if _, err := u.commit(nil); err != nil {
		return err
	}
	// Tab 0 stays "open" in the meta, so absorb kept its values.
	u.forgetTab(tab)
	return nil
}

// forgetTab drops what the request holds or queued for tab.
func (u *Unit) forgetTab(tab uint32) {
	in := func(k store.Key) bool { return k.InTab && k.Tab == tab }
	p := &u.pending
	for _, m := range []map[store.Key][]byte{u.rec.Values, p.set} {
		for k := range m {
			if in(k) {
				delete(m, k)
			}
		}
	}
	for k := range p.del {
		if in(k) {
			delete(p.del, k)
		}
	}
	for k := range p.expires {
		if in(k) {
			delete(p.expires, k)
		}
	}
	for k := range p.queued {
		if in(k) {
			delete(p.queued, k)
		}
	}
	u.read.forget(in)
	if p.hasLabel && uint32(u.tab) == tab {
		p.label, p.hasLabel = "", false
	}
}
