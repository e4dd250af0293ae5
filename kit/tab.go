package kit

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/tabs"
)

// Tab is the current tab's part of the session: the same value methods as
// Session, on keys only this tab sees, plus what describes the tab.
type Tab struct {
	namespace
}

// ID returns the tab's number. It is 0 on a request without a tab.
func (t *Tab) ID() tabs.ID { return t.st.tab }

// URL returns path as this tab should link to it: with the tab prefix,
// unless path is exempt, absolute, or already prefixed.
func (t *Tab) URL(path string) string {
	if t.noTab {
		return path
	}
	return t.st.m.rewriter.URL(t.st.tab, path)
}

// Label returns the tab's label, "" when it has none.
func (t *Tab) Label() (string, error) {
	if t.noTab {
		return "", ErrNoTab
	}
	if err := t.st.load(); err != nil {
		return "", err
	}
	label := t.st.rec.Meta.Tabs[uint32(t.st.tab)].Label
	if l, ok := t.st.pendingLabel(); ok {
		label = l
	}
	return label, nil
}

// maxLabel bounds a tab label, which every page of the session carries.
const maxLabel = 200

// SetLabel names the tab ("Register 2"). It is committed with the
// request's other changes.
func (t *Tab) SetLabel(label string) error {
	if t.noTab {
		return ErrNoTab
	}
	if len(label) > maxLabel {
		return fmt.Errorf("kit: tab label of %d bytes, at most %d: %w", len(label), maxLabel, store.ErrTooLarge)
	}
	if err := t.st.load(); err != nil {
		return err
	}
	tab, now := uint32(t.st.tab), t.st.now
	t.st.labels = append(t.st.labels, label)
	t.st.edits = append(t.st.edits, func(m *store.Meta) error {
		if !m.IsOpen(tab) {
			return fmt.Errorf("kit: labelling tab %d: %w", tab, store.ErrNoTab)
		}
		info, ok := m.Tabs[tab]
		if !ok {
			info = store.TabInfo{Created: now}
		}
		info.Label, info.LastSeen = label, now
		if m.Tabs == nil {
			m.Tabs = make(map[uint32]store.TabInfo)
		}
		m.Tabs[tab] = info
		return nil
	})
	return nil
}

// pendingLabel returns the label SetLabel last set in this request.
func (st *requestState) pendingLabel() (string, bool) {
	if len(st.labels) == 0 {
		return "", false
	}
	return st.labels[len(st.labels)-1], true
}

// Close closes the tab now: its data is deleted and its number is never
// handed out again. Tab 0 cannot close; closing it clears its data.
func (t *Tab) Close() error {
	if t.noTab {
		return ErrNoTab
	}
	tab := uint32(t.st.tab)
	if err := t.st.load(); err != nil || !t.st.found {
		return err
	}
	_, err := t.st.commit(func(d *store.Delta) {
		d.EditMeta = chainEdits(d.EditMeta, func(m *store.Meta) error {
			delete(m.Tabs, tab)
			return nil
		})
	})
	return err
}

// TabInfo describes an open tab, for listings.
type TabInfo struct {
	ID       tabs.ID
	Label    string
	Created  time.Time
	LastSeen time.Time
	// Bytes is the size of the tab's stored data.
	Bytes int64
}

// Tabs lists the session's open tabs by number. Tab 0 is always among
// them.
func (s *Session) Tabs() ([]TabInfo, error) {
	st := s.st
	if err := st.load(); err != nil {
		return nil, err
	}
	meta := st.rec.Meta
	list := []TabInfo{{ID: 0, Created: meta.Created, LastSeen: meta.LastSeen}}
	for n, info := range meta.Tabs {
		t := TabInfo{ID: tabs.ID(n), Label: info.Label, Created: info.Created, LastSeen: info.LastSeen, Bytes: info.Bytes}
		if n == 0 {
			list[0] = t
			continue
		}
		list = append(list, t)
	}
	if label, ok := st.pendingLabel(); ok {
		for i := range list {
			if list[i].ID == st.tab {
				list[i].Label = label
			}
		}
	}
	slices.SortFunc(list, func(a, b TabInfo) int { return cmp.Compare(a.ID, b.ID) })
	return list, nil
}

func chainEdits(first, then func(*store.Meta) error) func(*store.Meta) error {
	if first == nil {
		return then
	}
	return func(m *store.Meta) error {
		if err := first(m); err != nil {
			return err
		}
		return then(m)
	}
}

// tabOpening says how openTab picks a number.
type tabOpening int

const (
	// freshTab always allocates a new number.
	freshTab tabOpening = iota
	// reuseEmptyTab takes the newest tab that holds nothing and has no
	// label, so repeated bare visits do not grow the tab table.
	reuseEmptyTab
)

// openTab returns a tab for this browser to use. With no stored session it
// returns tab 0 and stores nothing; otherwise it allocates (or reuses) a
// number, closing the least recently used tabs past MaxTabs. copyFrom,
// when set, gives the new tab a copy of that tab's data (a fork).
func (st *requestState) openTab(how tabOpening, copyFrom *tabs.ID) (tabs.ID, error) {
	if err := st.load(); err != nil {
		return 0, err
	}
	if !st.found {
		return 0, nil
	}
	cfg, now := &st.m.cfg, st.now
	var got uint32
	var evicted []uint32
	edit := func(m *store.Meta) error {
		got, evicted = 0, nil
		if how == reuseEmptyTab {
			if n, ok := newestEmptyTab(m); ok {
				got = n
				touchTab(m, n, now)
				return nil
			}
		}
		n := m.NextTab
		if uint64(n) > uint64(cfg.MaxTabID) {
			return fmt.Errorf("kit: session has used every tab number up to %d", cfg.MaxTabID)
		}
		if m.Tabs == nil {
			m.Tabs = make(map[uint32]store.TabInfo)
		}
		m.Tabs[n] = store.TabInfo{Created: now, LastSeen: now}
		m.NextTab = n + 1
		got = n
		evicted = evictTabs(m, cfg.MaxTabs, n)
		return nil
	}
	if _, err := st.commit(func(d *store.Delta) { d.EditMeta = chainEdits(d.EditMeta, edit) }); err != nil {
		return 0, err
	}
	if len(evicted) > 0 {
		st.m.log.Info("closed least recently used tabs to stay within MaxTabs", "tabs", evicted, "max_tabs", cfg.MaxTabs)
		st.m.observe(Event{Kind: EventTabEvicted, Tabs: len(evicted)})
	}
	if copyFrom != nil {
		if err := st.copyTab(uint32(*copyFrom), got); err != nil {
			return 0, err
		}
	}
	return tabs.ID(got), nil
}

// copyTab gives tab to a copy of tab from's values, as loaded.
func (st *requestState) copyTab(from, to uint32) error {
	for k, v := range st.rec.Values {
		if k.InTab && k.Tab == from {
			if err := st.put(store.TabKey(to, k.Name), v); err != nil {
				return err
			}
		}
	}
	if !st.hasPending() {
		return nil
	}
	_, err := st.commit(nil)
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

func touchTab(m *store.Meta, n uint32, now time.Time) {
	info, ok := m.Tabs[n]
	if !ok {
		return // tab 0 without an entry: nothing to touch
	}
	info.LastSeen = now
	m.Tabs[n] = info
}

// evictTabs closes tabs until at most max are open (tab 0 always counts
// and is never closed), sparing keep; empty tabs go first, then the least
// recently seen. It returns the closed numbers.
func evictTabs(m *store.Meta, max int, keep uint32) []uint32 {
	open := len(m.Tabs) + 1
	if _, ok := m.Tabs[0]; ok {
		open--
	}
	var victims []uint32
	for n := range m.Tabs {
		if n != 0 && n != keep {
			victims = append(victims, n)
		}
	}
	slices.SortFunc(victims, func(a, b uint32) int {
		ia, ib := m.Tabs[a], m.Tabs[b]
		if emptyA, emptyB := ia.Bytes == 0, ib.Bytes == 0; emptyA != emptyB {
			if emptyA {
				return -1
			}
			return 1
		}
		return ia.LastSeen.Compare(ib.LastSeen)
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

// tabIsOpen reports whether the request's tab belongs to its session and
// has not idled out.
func (st *requestState) tabIsOpen() (bool, error) {
	if st.tab == 0 {
		return true, nil
	}
	if st.id == "" {
		return false, nil
	}
	if err := st.load(); err != nil {
		return false, err
	}
	if !st.found {
		return false, nil
	}
	info, ok := st.rec.Meta.Tabs[uint32(st.tab)]
	if !ok {
		return false, nil
	}
	return !st.tabIdledOut(info), nil
}

func (st *requestState) tabIdledOut(info store.TabInfo) bool {
	timeout := st.m.cfg.TabIdleTimeout
	return timeout > 0 && st.now.Sub(info.LastSeen) > timeout
}

// maintainTabs queues the tab table's upkeep for the next commit: the
// current tab's last-seen time when stale, and closing tabs idle past
// TabIdleTimeout. It only touches a session that exists.
func (st *requestState) maintainTabs() {
	if !st.found {
		return
	}
	var stale []uint32
	for n, info := range st.rec.Meta.Tabs {
		if n != uint32(st.tab) && st.tabIdledOut(info) {
			stale = append(stale, n)
		}
	}
	info, tracked := st.rec.Meta.Tabs[uint32(st.tab)]
	touch := st.hasTab && tracked && st.now.Sub(info.LastSeen) >= st.m.cfg.TouchInterval
	if len(stale) == 0 && !touch {
		return
	}
	tab, now, timeout := uint32(st.tab), st.now, st.m.cfg.TabIdleTimeout
	st.upkeep = append(st.upkeep, func(m *store.Meta) error {
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
	})
}
