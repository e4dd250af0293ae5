package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/tabs"
)

// Unit is one request's unit of work on its session: what was loaded,
// what the request read, what it changed, and what the browser's cookie
// must become. It belongs to one request.
type Unit struct {
	cfg *Config
	ctx context.Context
	now time.Time

	// candidates are the tokens the request's cookies carry, tried in
	// order by load; token is the one that names the session ("" when
	// there is none), id its store ID.
	candidates []string
	token      string
	id         string
	// gone is the store ID of the first token the browser sent when none
	// named a live session: a session that ended, expired or moved.
	gone   string
	loaded bool
	// found says a live record for id exists in the store.
	found bool
	rec   store.Record

	tab    tabs.ID
	hasTab bool

	// The pending delta: what the request changed since its last commit.
	pending pending
	// read holds the stored value of every key the request read, for the
	// expectations of the keys it then writes.
	read reads
	// updated holds what the store computed for queued updates during a
	// commit; a store may run an update more than once, and the last run
	// is what it stored.
	updated map[store.Key][]byte

	// cookieChanged says the browser must be told the token (or, with
	// token "", that the session is gone).
	cookieChanged bool
	// finished says Finish ran: the response has started.
	finished bool
	// dropped says the request failed: nothing more is committed.
	dropped bool
}

// pending is what a request changed and has not committed.
type pending struct {
	set     map[store.Key][]byte
	expires map[store.Key]time.Time
	del     map[store.Key]bool
	queued  map[store.Key][]store.UpdateFunc
	edits   []func(*store.Meta) error
	// label is the current tab's new label when hasLabel.
	label    string
	hasLabel bool
	// principal is the session's new principal when hasPrincipal.
	principal    string
	hasPrincipal bool
}

func (p *pending) empty() bool {
	return len(p.set) == 0 && len(p.del) == 0 && len(p.queued) == 0 && len(p.edits) == 0 && !p.hasPrincipal && !p.hasLabel
}

// Reset makes u the unit of work of a new request, as Begin does, so a
// Unit can be reused.
func (u *Unit) Reset(c *Config, ctx context.Context, tokens []string, tab tabs.ID, hasTab bool) {
	*u = Unit{cfg: c, ctx: ctx, now: c.Now.Now(), candidates: tokens, tab: tab, hasTab: hasTab}
}

// Tab returns the tab the request works in.
func (u *Unit) Tab() (tabs.ID, bool) { return u.tab, u.hasTab }

// MoveToTab makes tab the request's tab, as after a redirect the kit
// answers itself.
func (u *Unit) MoveToTab(tab tabs.ID) { u.tab, u.hasTab = tab, true }

// Handle returns the session's store ID, a name for logs that cannot be
// used as a cookie; "" when there is no session.
func (u *Unit) Handle() string { return u.id }

// HasCookie reports whether the request carried a session cookie.
func (u *Unit) HasCookie() bool { return len(u.candidates) > 0 || u.token != "" }

// Now returns the time the request started, by the Config's clock.
func (u *Unit) Now() time.Time { return u.now }

// load reads the session once, on first need: the first candidate token
// that names a live session wins.
func (u *Unit) load() error {
	if u.loaded {
		return nil
	}
	var moved error
	for _, token := range u.candidates {
		id := store.HashToken(token)
		rec, found, err := u.cfg.Store.Load(u.ctx, id)
		if errors.Is(err, store.ErrMoved) {
			// A sign-in in another tab moved this session a moment ago:
			// the browser is about to hold the new token, which this
			// request does not know.
			moved = err
			continue
		}
		if err != nil {
			return fmt.Errorf("session: loading: %w", err)
		}
		if found {
			u.token, u.id, u.found, u.rec = token, id, true, rec
			break
		}
	}
	if moved != nil && !u.found {
		// Neither create a session nor drop the cookie: either would undo
		// the sign-in when this response reaches the browser last.
		return fmt.Errorf("session: loading: %w", moved)
	}
	u.loaded = true
	if !u.found && len(u.candidates) > 0 {
		u.gone = store.HashToken(u.candidates[0])
		// Tokens the store does not know are never adopted: the next
		// write creates a session under a fresh one, and the browser is
		// told to forget the stale cookie.
		u.cookieChanged = true
	}
	u.candidates = nil
	return nil
}

// Gone reports whether the browser's cookie named a session that no
// longer exists (ended, expired, regenerated away), and that session's
// store ID, so an app that noted why it ended one can say so.
func (u *Unit) Gone() (handle string, gone bool, err error) {
	if err := u.load(); err != nil {
		return "", false, err
	}
	return u.gone, u.gone != "", nil
}

// Exists reports whether the request has a live session.
func (u *Unit) Exists() (bool, error) {
	if err := u.load(); err != nil {
		return false, err
	}
	return u.found, nil
}

// Meta returns the session's meta as this request sees it: as loaded,
// with the pending label and principal.
func (u *Unit) Meta() (store.Meta, error) {
	if err := u.load(); err != nil {
		return store.Meta{}, err
	}
	m := u.rec.Meta.Clone()
	for n, info := range m.Tabs {
		if u.idledOut(n, info) {
			delete(m.Tabs, n) // closed at the next commit; gone already
		}
	}
	if u.pending.hasLabel {
		if info, ok := m.Tabs[uint32(u.tab)]; ok {
			info.Label = u.pending.label
			m.Tabs[uint32(u.tab)] = info
		}
	}
	if u.pending.hasPrincipal {
		m.Principal = u.pending.principal
	}
	return m, nil
}

// Get returns the value of k as this request sees it: pending changes
// included. A value read from the store is remembered, so that a later
// Set or Delete of k commits only if k still holds it.
func (u *Unit) Get(k store.Key) ([]byte, bool, error) {
	v, found, err := u.base(k)
	if err != nil {
		return nil, false, err
	}
	for _, fn := range u.pending.queued[k] {
		if v, err = fn(v, found); err != nil {
			return nil, false, err
		}
		found = v != nil
	}
	return v, found, nil
}

// base is Get before queued updates.
func (u *Unit) base(k store.Key) ([]byte, bool, error) {
	if u.pending.del[k] {
		return nil, false, nil
	}
	if v, ok := u.pending.set[k]; ok {
		return v, true, nil
	}
	if err := u.load(); err != nil {
		return nil, false, err
	}
	v, ok := u.rec.Values[k]
	if u.found {
		u.read.note(k, store.Expected{Value: v, Found: ok})
	}
	return v, ok, nil
}

// Keys returns the keys match accepts, as this request sees them, sorted
// by name.
func (u *Unit) Keys(match func(store.Key) bool) ([]store.Key, error) {
	if err := u.load(); err != nil {
		return nil, err
	}
	var keys []store.Key
	for k := range u.rec.Values {
		if _, set := u.pending.set[k]; match(k) && !u.pending.del[k] && !set {
			keys = append(keys, k)
		}
	}
	for k := range u.pending.set {
		if match(k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b store.Key) int { return cmpString(a.Name, b.Name) })
	return keys, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Set queues storing v under k; ttl, when positive, makes the value
// expire that long from now. It fails with an error wrapping
// store.ErrTooLarge when the session would outgrow MaxSessionBytes.
func (u *Unit) Set(k store.Key, v []byte, ttl time.Duration) error {
	if err := u.writable(k); err != nil {
		return err
	}
	if projected := u.projectedBytes(k, v); projected > u.cfg.MaxSessionBytes {
		return fmt.Errorf("session: setting %q would make the session %d bytes, over the %d-byte limit: %w",
			k.Name, projected, u.cfg.MaxSessionBytes, store.ErrTooLarge)
	}
	p := &u.pending
	if p.set == nil {
		p.set = make(map[store.Key][]byte)
	}
	p.set[k] = v
	delete(p.del, k)
	if ttl > 0 {
		if p.expires == nil {
			p.expires = make(map[store.Key]time.Time)
		}
		p.expires[k] = u.now.Add(ttl)
	} else {
		delete(p.expires, k)
	}
	return u.afterQueue()
}

// Delete queues removing k. Removing a missing key is not an error.
func (u *Unit) Delete(k store.Key) error {
	if err := u.writable(k); err != nil {
		return err
	}
	p := &u.pending
	delete(p.set, k)
	delete(p.expires, k)
	if p.del == nil {
		p.del = make(map[store.Key]bool)
	}
	p.del[k] = true
	return u.afterQueue()
}

// Queue queues a read-modify-write of k, run inside the store's
// transaction at the next commit. Get sees its result at once.
func (u *Unit) Queue(k store.Key, fn store.UpdateFunc) error {
	if err := u.writable(k); err != nil {
		return err
	}
	p := &u.pending
	if p.queued == nil {
		p.queued = make(map[store.Key][]store.UpdateFunc)
	}
	p.queued[k] = append(p.queued[k], fn)
	return u.afterQueue()
}

// writable loads the session and checks that k may be written by this
// request.
func (u *Unit) writable(k store.Key) error {
	if k.InTab && (!u.hasTab || k.Tab != uint32(u.tab)) {
		return ErrNoTab
	}
	return u.load()
}

// afterQueue commits what was just queued when the response has already
// started, since Finish will not run again; a change that would need a
// new cookie cannot land then.
func (u *Unit) afterQueue() error {
	if !u.finished {
		return nil
	}
	if !u.found || u.dropped {
		u.clearPending()
		return ErrResponseStarted
	}
	_, err := u.commit(nil)
	if err != nil {
		u.clearPending()
	}
	return err
}

// projectedBytes estimates the session's size once k holds v, from what
// was loaded and what is pending. The store checks again atomically.
func (u *Unit) projectedBytes(k store.Key, v []byte) int64 {
	size := func(k store.Key, v []byte) int64 { return int64(len(k.Name) + len(v)) }
	total := u.rec.Meta.Bytes
	for pk, pv := range u.pending.set {
		if old, ok := u.rec.Values[pk]; ok {
			total -= size(pk, old)
		}
		if pk != k {
			total += size(pk, pv)
		}
	}
	for dk := range u.pending.del {
		if old, ok := u.rec.Values[dk]; ok {
			total -= size(dk, old)
		}
	}
	if _, set := u.pending.set[k]; !set && !u.pending.del[k] {
		if old, ok := u.rec.Values[k]; ok {
			total -= size(k, old)
		}
	}
	return total + size(k, v)
}

// Update changes k now: fn runs inside the store's transaction on k's
// current value (it may run more than once) and its result is stored
// with whatever the request has queued. ttl, when positive, gives the
// value a new deadline that long from now; otherwise it keeps the one it
// has. It returns the stored value.
func (u *Unit) Update(k store.Key, fn store.UpdateFunc, ttl time.Duration) ([]byte, error) {
	if err := u.writable(k); err != nil {
		return nil, err
	}
	if u.finished && !u.found {
		return nil, ErrResponseStarted
	}
	var result []byte
	if _, err := u.commit(func(d *store.Delta) {
		if d.Update == nil {
			d.Update = make(map[store.Key]store.UpdateFunc, 1)
		}
		d.Update[k] = func(old []byte, found bool) ([]byte, error) {
			v, err := fn(old, found)
			result = v
			return v, err
		}
		if ttl > 0 {
			if d.Expires == nil {
				d.Expires = make(map[store.Key]time.Time, 1)
			}
			d.Expires[k] = u.now.Add(ttl)
		}
	}); err != nil {
		return nil, err
	}
	u.absorbValue(k, result)
	return result, nil
}

// absorbValue notes that the store now holds v (nil: nothing) under k.
func (u *Unit) absorbValue(k store.Key, v []byte) {
	if v == nil {
		delete(u.rec.Values, k)
	} else {
		u.rec.Values[k] = v
	}
	u.read.refresh(k, store.Expected{Value: v, Found: v != nil})
}

// SetPrincipal queues making p the session's principal ("" clears it).
func (u *Unit) SetPrincipal(p string) error {
	if err := u.load(); err != nil {
		return err
	}
	u.pending.principal, u.pending.hasPrincipal = p, true
	return u.afterQueue()
}

// Principal returns the session's principal as this request sees it.
func (u *Unit) Principal() (string, error) {
	if u.pending.hasPrincipal {
		return u.pending.principal, nil
	}
	if err := u.load(); err != nil {
		return "", err
	}
	return u.rec.Meta.Principal, nil
}

// Discard drops what the request queued and has not committed. What took
// effect (Update, Regenerate, Destroy, tab changes) stays.
func (u *Unit) Discard() { u.clearPending() }

// HasPending reports whether the request queued changes not committed
// yet.
func (u *Unit) HasPending() bool { return !u.pendingEmpty() }

func (u *Unit) pendingEmpty() bool {
	if !u.found && u.loaded {
		// Deleting from a session that does not exist changes nothing,
		// and must not create one.
		p := &u.pending
		return len(p.set) == 0 && len(p.queued) == 0 && len(p.edits) == 0 && !p.hasPrincipal && !p.hasLabel
	}
	return u.pending.empty()
}

func (u *Unit) clearPending() { u.pending = pending{} }

// valueOf is a value with its pending queued updates dropped: what the
// store will hold if none of them runs. Used to copy a tab.
func (u *Unit) storedValues(tab uint32) map[store.Key][]byte {
	values := make(map[store.Key][]byte)
	for k, v := range u.rec.Values {
		if k.InTab && k.Tab == tab {
			values[k] = bytes.Clone(v)
		}
	}
	return values
}

// Context returns the request's context.
func (u *Unit) Context() context.Context { return u.ctx }

// User returns the user record the store loaded with the session
// (store.Record.User), if it did.
func (u *Unit) User() ([]byte, bool) {
	if err := u.load(); err != nil || !u.found || u.rec.User == nil {
		return nil, false
	}
	return u.rec.User, true
}
