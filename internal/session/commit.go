package session

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/tabkit/tabkit/store"
)

// delta turns the pending changes and the tab table's upkeep into a
// Delta, creating the session when there is none.
func (u *Unit) delta() store.Delta {
	cfg, p := u.cfg, &u.pending
	d := store.Delta{MaxBytes: cfg.MaxSessionBytes}
	if !u.found {
		d.Create = true
		if cfg.Lifetime > 0 {
			d.AbsDeadline = u.now.Add(cfg.Lifetime)
		}
		if cfg.IdleTimeout > 0 {
			d.IdleDeadline = u.now.Add(cfg.IdleTimeout)
		}
	} else if u.touchDue() {
		d.LastSeen = u.now
		if cfg.IdleTimeout > 0 {
			d.IdleDeadline = u.now.Add(cfg.IdleTimeout)
		}
	}
	if len(p.set) > 0 {
		d.Set = maps.Clone(p.set)
	}
	if len(p.expires) > 0 {
		d.Expires = maps.Clone(p.expires)
	}
	for k := range p.del {
		d.Delete = append(d.Delete, k)
	}
	if u.found {
		d.Expect = u.expectations()
	}
	for k, fns := range p.queued {
		if d.Update == nil {
			d.Update = make(map[store.Key]store.UpdateFunc)
		}
		d.Update[k] = u.recordQueued(k, fns)
	}
	// Upkeep first: tabs that idled out are closed before a new tab is
	// picked or the table is trimmed to MaxTabs.
	var edits []func(*store.Meta) error
	if upkeep := u.upkeep(); upkeep != nil {
		edits = append(edits, upkeep)
	}
	edits = append(edits, p.edits...)
	if p.hasLabel {
		edits = append(edits, u.labelEdit(p.label))
	}
	if len(edits) > 0 {
		d.EditMeta = chainEdits(edits)
	}
	if p.hasPrincipal {
		d.SetPrincipal, d.Principal = true, p.principal
		d.PrincipalLimit = cfg.PrincipalLimit
	}
	return d
}

// expectations are the stored values the pending sets and deletes were
// decided on: the keys the request read before changing them.
func (u *Unit) expectations() map[store.Key]store.Expected {
	var expect map[store.Key]store.Expected
	note := func(k store.Key) {
		if e, ok := u.read.get(k); ok {
			if expect == nil {
				expect = make(map[store.Key]store.Expected)
			}
			expect[k] = e
		}
	}
	for k := range u.pending.set {
		note(k)
	}
	for k := range u.pending.del {
		note(k)
	}
	return expect
}

func chainEdits(edits []func(*store.Meta) error) func(*store.Meta) error {
	if len(edits) == 1 {
		return edits[0]
	}
	return func(m *store.Meta) error {
		for _, edit := range edits {
			if err := edit(m); err != nil {
				return err
			}
		}
		return nil
	}
}

// recordQueued chains fns into one UpdateFunc and notes its result, so
// the request sees what was stored once the commit succeeds.
func (u *Unit) recordQueued(k store.Key, fns []store.UpdateFunc) store.UpdateFunc {
	return func(v []byte, found bool) ([]byte, error) {
		var err error
		for _, fn := range fns {
			if v, err = fn(v, found); err != nil {
				return nil, err
			}
			found = v != nil
		}
		if u.updated == nil {
			u.updated = make(map[store.Key][]byte)
		}
		u.updated[k] = v
		return v, nil
	}
}

// touchDue says the stored last-seen time is stale enough to rewrite.
func (u *Unit) touchDue() bool {
	return u.found && u.now.Sub(u.rec.Meta.LastSeen) >= u.cfg.TouchInterval
}

// commit writes the pending changes, plus what extra adds, now, creating
// the session if needed, and folds the result into what the request sees.
func (u *Unit) commit(extra func(d *store.Delta)) (store.Meta, error) {
	if err := u.load(); err != nil {
		return store.Meta{}, err
	}
	d := u.delta()
	if extra != nil {
		extra(&d)
	}
	u.updated = nil
	creating := d.Create
	token, id := u.token, u.id
	if creating {
		token = NewToken()
		id = store.HashToken(token)
	}
	start := time.Now()
	meta, err := u.cfg.Store.Commit(u.ctx, id, d)
	u.cfg.observe(Event{Kind: EventCommit, Handle: id, Duration: time.Since(start), Err: err})
	if err != nil {
		return store.Meta{}, fmt.Errorf("session: committing: %w", err)
	}
	before := u.rec.Meta.Principal
	if creating {
		u.token, u.id, u.found = token, id, true
		u.cookieChanged = true
		u.rec = store.Record{Values: make(map[store.Key][]byte)}
		u.read.reset()
		u.cfg.observe(Event{Kind: EventCreated, Handle: id, Principal: meta.Principal})
	}
	u.absorb(meta)
	if d.SetPrincipal && meta.Principal != before && !creating {
		u.cfg.observe(Event{Kind: EventPrincipalChanged, Handle: id, Principal: meta.Principal, Previous: before})
	} else if creating && meta.Principal != "" {
		u.cfg.observe(Event{Kind: EventPrincipalChanged, Handle: id, Principal: meta.Principal})
	}
	return meta, nil
}

// absorb folds a successful commit of the pending changes into rec.
func (u *Unit) absorb(meta store.Meta) {
	if u.rec.Values == nil {
		u.rec.Values = make(map[store.Key][]byte)
	}
	for k := range u.rec.Values {
		if k.InTab && !meta.IsOpen(k.Tab) {
			delete(u.rec.Values, k)
		}
	}
	p := &u.pending
	for k, v := range p.set {
		u.absorbValue(k, v)
	}
	for k := range p.del {
		u.absorbValue(k, nil)
	}
	for k, v := range u.updated {
		u.absorbValue(k, v)
	}
	for k := range u.rec.Values {
		if meta.ValueExpired(k, u.now) {
			delete(u.rec.Values, k)
		}
	}
	u.rec.Meta = meta
	u.updated = nil
	u.clearPending()
}

// Finish ends the request's work before its response starts: it commits
// what is pending, or, when failed, discards it (a failed request must
// not leave half its work behind). The upkeep of a session the request
// loaded is written too, best effort. After Finish, queued changes commit
// at once (see ErrResponseStarted). Finish runs once; later calls return
// nil.
func (u *Unit) Finish(failed bool) error {
	if u.finished {
		return nil
	}
	u.finished = true
	if failed {
		u.Drop()
	}
	if u.dropped {
		return nil
	}
	switch {
	case !u.pendingEmpty():
		if _, err := u.commit(nil); err != nil {
			u.clearPending()
			return err
		}
	case u.upkeepDue():
		// Only last-seen times and tab upkeep are due: worth writing, not
		// worth failing a read over (a full disk must not stop reads).
		if _, err := u.commit(nil); err != nil {
			u.clearPending()
			return &UpkeepError{Err: err}
		}
	}
	return nil
}

// UpkeepError is what Finish returns when only the tab table's upkeep
// could not be written: the request itself succeeded.
type UpkeepError struct{ Err error }

func (e *UpkeepError) Error() string { return "session: upkeep: " + e.Err.Error() }
func (e *UpkeepError) Unwrap() error { return e.Err }

// IsUpkeep reports whether err only concerns upkeep.
func IsUpkeep(err error) bool {
	var ue *UpkeepError
	return errors.As(err, &ue)
}

// Drop forgets what is pending and commits nothing more for this
// request: it failed. The cookie still follows what took effect.
func (u *Unit) Drop() {
	u.clearPending()
	u.dropped = true
}

// Dropped reports whether the request was dropped.
func (u *Unit) Dropped() bool { return u.dropped }

// Finished reports whether Finish ran.
func (u *Unit) Finished() bool { return u.finished }

// Cookie says what the browser's session cookie must become: token
// ("" to remove it), and when it expires (zero: when the browser closes).
// changed is false when the cookie the browser has is right.
func (u *Unit) Cookie() (token string, expires time.Time, changed bool) {
	if !u.cookieChanged {
		return "", time.Time{}, false
	}
	if u.token == "" {
		return "", time.Time{}, true
	}
	if u.persistent() {
		expires = u.rec.Meta.AbsDeadline
		if expires.IsZero() {
			// No absolute lifetime: as far as browsers keep cookies.
			expires = u.now.Add(400 * 24 * time.Hour)
		}
	}
	return u.token, expires, true
}

// CookieSent notes that the browser was told: Cookie reports no change
// until the next one.
func (u *Unit) CookieSent() { u.cookieChanged = false }

// rememberKey is the session key RememberMe keeps its choice under.
var rememberKey = store.SessionKey(reservedPrefix + "remember")

// reservedPrefix starts the names of keys the kit keeps for itself.
const reservedPrefix = "\x00"

// RememberMe overrides Config.PersistentCookies for this session: on
// sends a cookie that outlives the browser, off one that ends with it.
// The choice is stored with the session and the cookie is sent again.
func (u *Unit) RememberMe(on bool) error {
	v := []byte("0")
	if on {
		v = []byte("1")
	}
	if err := u.Set(rememberKey, v, 0); err != nil {
		return err
	}
	u.cookieChanged = true
	return nil
}

func (u *Unit) persistent() bool {
	v, found := u.pending.set[rememberKey]
	if !found {
		v, found = u.rec.Values[rememberKey]
	}
	if !found {
		return u.cfg.PersistentCookies
	}
	return string(v) == "1"
}
