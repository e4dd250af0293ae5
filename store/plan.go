package store

import (
	"bytes"
	"fmt"
	"maps"
	"time"
)

// Plan is the outcome of applying a Delta to a session, computed before
// anything is written. Every backend goes through PlanCommit, so they agree
// on what a delta means and a failing delta never leaves half its writes
// behind.
type Plan struct {
	// Meta is the session's meta after the change.
	Meta Meta
	// Put holds the values to write; they are the plan's own copies.
	Put map[Key][]byte
	// Remove lists values to delete that are not in a dropped tab.
	Remove []Key
	// DropTabs lists tabs that left the tab table: all their values go.
	DropTabs []uint32
}

// ValueReader returns a session's current value of k. The value only needs
// to stay valid until the next call; PlanCommit copies what it keeps.
type ValueReader func(k Key) (value []byte, found bool, err error)

// PlanCommit computes what Commit must write to apply d at now to a session
// whose meta is current (nil when the session is absent or expired). It
// reads current values through get and writes nothing.
func PlanCommit(now time.Time, current *Meta, get ValueReader, d *Delta) (Plan, error) {
	var m Meta
	switch {
	case d.Create && current != nil:
		return Plan{}, ErrExists
	case d.Create:
		m = Meta{Created: now, LastSeen: now, NextTab: 1}
		get = func(Key) ([]byte, bool, error) { return nil, false, nil }
	case current == nil:
		return Plan{}, ErrNotFound
	default:
		m = current.Clone()
	}
	applyDeadlines(&m, d)

	p := planner{now: now, get: get, meta: &m, pending: make(map[Key]pendingValue)}
	// Values whose time ran out read as missing: they are removed first,
	// so expectations and updates see them gone, and their bytes return.
	for k := range m.Expiring {
		if m.ValueExpired(k, now) {
			if err := p.remove(k); err != nil {
				return Plan{}, err
			}
		}
	}
	if err := p.checkExpectations(d.Expect); err != nil {
		return Plan{}, err
	}
	before := m.Clone()
	if d.EditMeta != nil {
		edited, err := editMeta(before, m, d.EditMeta)
		if err != nil {
			return Plan{}, err
		}
		m = edited
		p.dropped = droppedTabs(&before, &m)
		for k := range m.Expiring {
			if k.InTab && p.dropped[k.Tab] {
				delete(m.Expiring, k)
			}
		}
	}
	if d.SetPrincipal {
		m.Principal = d.Principal
	}
	for _, k := range d.Delete {
		if err := p.remove(k); err != nil {
			return Plan{}, err
		}
	}
	for k, v := range d.Set {
		if err := p.put(k, v); err != nil {
			return Plan{}, err
		}
		p.setDeadline(k, d.Expires, true)
	}
	for k, fn := range d.Update {
		written, err := p.update(k, fn)
		if err != nil {
			return Plan{}, err
		}
		if written {
			p.setDeadline(k, d.Expires, false)
		}
	}
	if len(m.Expiring) == 0 {
		m.Expiring = nil
	}

	m.NextTab = max(m.NextTab, 1)
	for n := range m.Tabs {
		if n >= m.NextTab {
			// The last number cannot have a successor: NextTab saturates,
			// and a caller must refuse to allocate it (kit stops far below).
			m.NextTab = max(n, n+1)
		}
	}
	m.Version++
	start := int64(0)
	if current != nil {
		start = current.Bytes
	}
	if d.MaxBytes > 0 && m.Bytes > d.MaxBytes && m.Bytes > start {
		return Plan{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, m.Bytes, d.MaxBytes)
	}
	return p.plan(), nil
}

// checkExpectations fails with ErrConflict unless every expected value is
// what the session holds.
func (p *planner) checkExpectations(expect map[Key]Expected) error {
	for k, want := range expect {
		v, found, err := p.current(k)
		if err != nil {
			return err
		}
		if found != want.Found || found && !bytes.Equal(v, want.Value) {
			return fmt.Errorf("%w: key %q", ErrConflict, k.Name)
		}
	}
	return nil
}

// setDeadline records the deadline that expires gives k, which the delta
// just wrote; without one, a Set clears k's deadline and an Update keeps
// it.
func (p *planner) setDeadline(k Key, expires map[Key]time.Time, clear bool) {
	at, ok := expires[k]
	switch {
	case ok && !at.IsZero():
		if p.meta.Expiring == nil {
			p.meta.Expiring = make(map[Key]time.Time)
		}
		p.meta.Expiring[k] = at
	case clear || ok:
		delete(p.meta.Expiring, k)
	}
}

func applyDeadlines(m *Meta, d *Delta) {
	if !d.LastSeen.IsZero() {
		m.LastSeen = d.LastSeen
	}
	if !d.IdleDeadline.IsZero() {
		m.IdleDeadline = d.IdleDeadline
	}
	if !d.AbsDeadline.IsZero() {
		m.AbsDeadline = d.AbsDeadline
	}
}

// editMeta runs fn on a copy of m and puts back what the store owns: the
// byte counts, the version, the principal and the value deadlines.
func editMeta(before, m Meta, fn func(*Meta) error) (Meta, error) {
	edited := m.Clone()
	// fn opens tabs with m.Tabs[n] = ...; a new session's nil table would
	// make that panic inside the store's transaction.
	if edited.Tabs == nil {
		edited.Tabs = make(map[uint32]TabInfo)
	}
	if err := fn(&edited); err != nil {
		return Meta{}, err
	}
	edited.Bytes, edited.Version = before.Bytes, before.Version
	edited.Principal, edited.Expiring = before.Principal, maps.Clone(before.Expiring)
	for n, info := range edited.Tabs {
		info.Bytes = before.Tabs[n].Bytes
		edited.Tabs[n] = info
	}
	edited.NextTab = max(edited.NextTab, before.NextTab)
	for n := range before.Tabs {
		if _, open := edited.Tabs[n]; !open {
			edited.Bytes -= before.Tabs[n].Bytes
		}
	}
	return edited, nil
}

func droppedTabs(before, after *Meta) map[uint32]bool {
	var dropped map[uint32]bool
	for n := range before.Tabs {
		if _, open := after.Tabs[n]; !open {
			if dropped == nil {
				dropped = make(map[uint32]bool)
			}
			dropped[n] = true
		}
	}
	return dropped
}

type pendingValue struct {
	value   []byte
	deleted bool
}

// planner accumulates one delta's writes on top of the stored values.
type planner struct {
	now     time.Time
	get     ValueReader
	meta    *Meta
	dropped map[uint32]bool
	pending map[Key]pendingValue
}

// current returns the value of k as the delta has left it so far.
func (p *planner) current(k Key) ([]byte, bool, error) {
	if pv, ok := p.pending[k]; ok {
		return pv.value, !pv.deleted, nil
	}
	if k.InTab && p.dropped[k.Tab] {
		return nil, false, nil
	}
	return p.get(k)
}

func (p *planner) remove(k Key) error {
	delete(p.meta.Expiring, k)
	old, found, err := p.current(k)
	if err != nil || !found {
		return err
	}
	p.account(k, -k.size(old))
	p.pending[k] = pendingValue{deleted: true}
	return nil
}

func (p *planner) put(k Key, v []byte) error {
	if err := p.checkWritable(k); err != nil {
		return err
	}
	old, found, err := p.current(k)
	if err != nil {
		return err
	}
	if found {
		p.account(k, -k.size(old))
	}
	p.openTabZero(k)
	p.account(k, k.size(v))
	p.pending[k] = pendingValue{value: append(make([]byte, 0, len(v)), v...)}
	return nil
}

// update runs fn on k's current value; written says the key holds a value
// afterwards.
func (p *planner) update(k Key, fn UpdateFunc) (written bool, err error) {
	if err := p.checkWritable(k); err != nil {
		return false, err
	}
	old, found, err := p.current(k)
	if err != nil {
		return false, err
	}
	// fn gets its own copy: the reader's slice may be the stored value
	// itself (read-only memory in bbolt), and a function that scribbled on
	// it would change the session even when the delta then fails.
	updated, err := fn(bytes.Clone(old), found)
	if err != nil {
		return false, err
	}
	if updated == nil {
		return false, p.remove(k)
	}
	return true, p.put(k, updated)
}

func (p *planner) checkWritable(k Key) error {
	if k.Name == "" || len(k.Name) > MaxKeyName {
		return fmt.Errorf("%w: key name of %d bytes (1 to %d allowed)", ErrTooLarge, len(k.Name), MaxKeyName)
	}
	// A tab the delta closed stays closed for the rest of it, tab 0
	// included: plan drops every value of a closed tab, so a write there
	// would be counted but never stored.
	if k.InTab && (p.dropped[k.Tab] || !p.meta.IsOpen(k.Tab)) {
		return fmt.Errorf("%w: tab %d", ErrNoTab, k.Tab)
	}
	return nil
}

// openTabZero gives tab 0 its table entry when it first holds a value. A
// delta that closed tab 0 never gets here: checkWritable refuses.
func (p *planner) openTabZero(k Key) {
	if !k.InTab || k.Tab != 0 {
		return
	}
	if _, ok := p.meta.Tabs[0]; ok {
		return
	}
	if p.meta.Tabs == nil {
		p.meta.Tabs = make(map[uint32]TabInfo)
	}
	p.meta.Tabs[0] = TabInfo{Created: p.now, LastSeen: p.now}
}

func (p *planner) account(k Key, n int64) {
	p.meta.Bytes += n
	if !k.InTab {
		return
	}
	if info, ok := p.meta.Tabs[k.Tab]; ok {
		info.Bytes += n
		p.meta.Tabs[k.Tab] = info
	}
}

func (p *planner) plan() Plan {
	plan := Plan{Meta: *p.meta, Put: make(map[Key][]byte, len(p.pending))}
	for k, pv := range p.pending {
		switch {
		case k.InTab && p.dropped[k.Tab]:
			// Gone with its tab: a write to a tab the same delta closed
			// cannot happen (checkWritable refuses it), so only removals
			// land here.
		case pv.deleted:
			plan.Remove = append(plan.Remove, k)
		default:
			plan.Put[k] = pv.value
		}
	}
	for n := range p.dropped {
		plan.DropTabs = append(plan.DropTabs, n)
	}
	return plan
}
