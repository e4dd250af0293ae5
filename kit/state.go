package kit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/tabs"
)

// requestState is one request's view of its session: what was loaded,
// what the handler changed, and whether it has been committed. It belongs
// to one request; Echo handlers do not share a context across goroutines.
type requestState struct {
	m   *Manager
	c   echo.Context
	now time.Time

	// id is the session's ID: the cookie's until the session is created,
	// regenerated or destroyed; "" when there is none yet.
	id     string
	loaded bool
	// found says a live record for id exists in the store.
	found bool
	rec   store.Record

	tab    tabs.ID
	hasTab bool

	// The pending delta: what the handler changed since the last commit.
	set     map[store.Key][]byte
	del     map[store.Key]bool
	updates map[store.Key][]store.UpdateFunc
	edits   []func(*store.Meta) error
	// upkeep holds tab-table maintenance (last-seen touches, closing idle
	// tabs): committed with anything else, and on its own only on a
	// best-effort basis.
	upkeep []func(*store.Meta) error
	// labels remembers SetLabel calls, so the request sees its own label.
	labels []string

	// updated holds the values the store computed for updates during a
	// commit; the store may run an update more than once, the last run is
	// what it stored.
	updated map[store.Key][]byte

	// cookieChanged says the browser must be told the new id (or, with id
	// "", that the session is gone).
	cookieChanged bool
	// finished says the end-of-request commit ran (or was discarded).
	finished bool
	// dropped says the request failed: nothing more is committed.
	dropped bool
}

func (m *Manager) initState(st *requestState, c echo.Context) {
	r := c.Request()
	*st = requestState{m: m, c: c, now: m.now.Now(), id: m.readSessionID(r)}
	st.tab, st.hasTab = tabs.IDFromContext(r.Context())
}

func (st *requestState) ctx() context.Context { return st.c.Request().Context() }

// load reads the session once, on first need.
func (st *requestState) load() error {
	if st.loaded {
		return nil
	}
	if st.id == "" {
		st.loaded = true
		return nil
	}
	rec, found, err := st.m.store.Load(st.ctx(), st.id)
	if err != nil {
		return fmt.Errorf("kit: loading session: %w", err)
	}
	st.loaded, st.found, st.rec = true, found, rec
	if !found {
		// An ID the store does not know is never adopted: the next write
		// creates a session under a fresh one.
		st.id = ""
		st.cookieChanged = true
	}
	return nil
}

// value returns the current value of k, pending changes included.
func (st *requestState) value(k store.Key) ([]byte, bool, error) {
	v, found, err := st.baseValue(k)
	if err != nil {
		return nil, false, err
	}
	for _, fn := range st.updates[k] {
		if v, err = fn(v, found); err != nil {
			return nil, false, err
		}
		found = v != nil
	}
	return v, found, nil
}

// baseValue is value before pending updates.
func (st *requestState) baseValue(k store.Key) ([]byte, bool, error) {
	if st.del[k] {
		return nil, false, nil
	}
	if v, ok := st.set[k]; ok {
		return v, true, nil
	}
	if err := st.load(); err != nil {
		return nil, false, err
	}
	v, ok := st.rec.Values[k]
	return v, ok, nil
}

// queueUpdate records a read-modify-write of k for the next commit, where
// it runs inside the store's transaction.
func (st *requestState) queueUpdate(k store.Key, fn store.UpdateFunc) error {
	if err := st.load(); err != nil {
		return err
	}
	if st.updates == nil {
		st.updates = make(map[store.Key][]store.UpdateFunc)
	}
	st.updates[k] = append(st.updates[k], fn)
	return nil
}

func (st *requestState) clearPending() {
	st.set, st.del, st.updates, st.edits, st.upkeep = nil, nil, nil, nil, nil
	st.labels = nil
}

// put records a pending write of k, refusing what cannot fit.
func (st *requestState) put(k store.Key, v []byte) error {
	if err := st.load(); err != nil {
		return err
	}
	if projected := st.projectedBytes(k, v); projected > st.m.cfg.MaxSessionBytes {
		return fmt.Errorf("kit: setting %q would make the session %d bytes, over the %d-byte limit: %w",
			k.Name, projected, st.m.cfg.MaxSessionBytes, store.ErrTooLarge)
	}
	if st.set == nil {
		st.set = make(map[store.Key][]byte)
	}
	st.set[k] = v
	delete(st.del, k)
	return nil
}

func (st *requestState) remove(k store.Key) error {
	if err := st.load(); err != nil {
		return err
	}
	delete(st.set, k)
	if st.del == nil {
		st.del = make(map[store.Key]bool)
	}
	st.del[k] = true
	return nil
}

// projectedBytes estimates the session's size once k holds v, from what
// was loaded and what is pending. The store checks again atomically.
func (st *requestState) projectedBytes(k store.Key, v []byte) int64 {
	size := func(k store.Key, v []byte) int64 { return int64(len(k.Name) + len(v)) }
	total := st.rec.Meta.Bytes
	for pk, pv := range st.set {
		if old, ok := st.rec.Values[pk]; ok {
			total -= size(pk, old)
		}
		if pk != k {
			total += size(pk, pv)
		}
	}
	for dk := range st.del {
		if old, ok := st.rec.Values[dk]; ok {
			total -= size(dk, old)
		}
	}
	if _, pending := st.set[k]; !pending && !st.del[k] {
		if old, ok := st.rec.Values[k]; ok {
			total -= size(k, old)
		}
	}
	return total + size(k, v)
}

func (st *requestState) hasPending() bool {
	if !st.found {
		// Deleting from a session that does not exist changes nothing, and
		// must not create one.
		return len(st.set) > 0 || len(st.updates) > 0 || len(st.edits) > 0
	}
	return len(st.set) > 0 || len(st.del) > 0 || len(st.updates) > 0 || len(st.edits) > 0
}

// delta turns the pending changes into a Delta, creating the session when
// there is none. extra is merged in (an Update, a tab edit).
func (st *requestState) delta() store.Delta {
	cfg := &st.m.cfg
	d := store.Delta{MaxBytes: cfg.MaxSessionBytes}
	if !st.found {
		d.Create = true
		if cfg.Lifetime > 0 {
			d.AbsDeadline = st.now.Add(cfg.Lifetime)
		}
		if cfg.IdleTimeout > 0 {
			d.IdleDeadline = st.now.Add(cfg.IdleTimeout)
		}
	} else if st.touchDue() {
		d.LastSeen = st.now
		if cfg.IdleTimeout > 0 {
			d.IdleDeadline = st.now.Add(cfg.IdleTimeout)
		}
	}
	if len(st.set) > 0 {
		d.Set = maps.Clone(st.set)
	}
	for k := range st.del {
		d.Delete = append(d.Delete, k)
	}
	for k, fns := range st.updates {
		if d.Update == nil {
			d.Update = make(map[store.Key]store.UpdateFunc)
		}
		d.Update[k] = st.recordUpdate(k, fns)
	}
	if edits := append(slices.Clip(st.edits), st.upkeep...); len(edits) > 0 {
		d.EditMeta = func(m *store.Meta) error {
			for _, edit := range edits {
				if err := edit(m); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return d
}

// recordUpdate chains fns into one UpdateFunc and notes each result, so
// the request sees what was stored once the commit succeeds.
func (st *requestState) recordUpdate(k store.Key, fns []store.UpdateFunc) store.UpdateFunc {
	return func(v []byte, found bool) ([]byte, error) {
		var err error
		for _, fn := range fns {
			if v, err = fn(v, found); err != nil {
				return nil, err
			}
			found = v != nil
		}
		if st.updated == nil {
			st.updated = make(map[store.Key][]byte)
		}
		st.updated[k] = v
		return v, nil
	}
}

// touchDue says the stored last-seen time is stale enough to rewrite.
func (st *requestState) touchDue() bool {
	return st.found && st.now.Sub(st.rec.Meta.LastSeen) >= st.m.cfg.TouchInterval
}

// commit writes the pending changes plus extra now, creating the session
// if needed, and folds the result into what the request sees.
func (st *requestState) commit(extra func(d *store.Delta)) (store.Meta, error) {
	if err := st.load(); err != nil {
		return store.Meta{}, err
	}
	d := st.delta()
	if extra != nil {
		extra(&d)
	}
	st.updated = nil
	creating := d.Create
	if creating && st.id == "" {
		st.id = newID()
	}
	start := time.Now()
	meta, err := st.m.store.Commit(st.ctx(), st.id, d)
	st.m.observe(Event{Kind: EventCommit, Duration: time.Since(start), Err: err})
	if err != nil {
		if errors.Is(err, store.ErrFull) || errors.Is(err, store.ErrUnavailable) {
			st.m.observe(Event{Kind: EventStoreRefused, Err: err})
		}
		return store.Meta{}, fmt.Errorf("kit: committing session: %w", err)
	}
	if creating {
		st.found = true
		st.cookieChanged = true
		st.rec.Values = make(map[store.Key][]byte)
		st.m.observe(Event{Kind: EventSessionCreated})
	}
	st.absorb(meta)
	return meta, nil
}

// absorb folds a successful commit of the pending changes into rec.
func (st *requestState) absorb(meta store.Meta) {
	if st.rec.Values == nil {
		st.rec.Values = make(map[store.Key][]byte)
	}
	for k := range st.rec.Values {
		if k.InTab && !meta.IsOpen(k.Tab) {
			delete(st.rec.Values, k)
		}
	}
	maps.Copy(st.rec.Values, st.set)
	for k := range st.del {
		delete(st.rec.Values, k)
	}
	for k, v := range st.updated {
		if v == nil {
			delete(st.rec.Values, k)
		} else {
			st.rec.Values[k] = v
		}
	}
	st.rec.Meta = meta
	st.updated = nil
	st.clearPending()
}

// dropPending forgets the queued changes of a request that failed, so
// finish commits nothing; the cookie still follows what already took
// effect (Update, Regenerate, Destroy).
func (st *requestState) dropPending(reason string) {
	if st.hasPending() {
		st.m.log.Warn("discarding the session changes of a failed request", "reason", reason, "path", st.c.Request().URL.Path)
	}
	st.clearPending()
	st.dropped = true
}

// finish runs once, before the response's first byte: it commits what
// is pending (or discards it when status is a server error, since a
// failed request must not leave half its work behind) and sets the
// cookie. It returns the failure to answer with instead, once.
func (st *requestState) finish(status int) *Error {
	if st.finished {
		return nil
	}
	st.finished = true
	if status >= http.StatusInternalServerError {
		st.dropPending(http.StatusText(status))
	}
	if st.dropped {
		st.setCookie()
		return nil
	}
	switch {
	case st.hasPending():
		if _, err := st.commit(nil); err != nil {
			failure := storeFailure(err)
			st.m.log.Error("session commit failed", "status", failure.Status, "path", st.c.Request().URL.Path, "err", err)
			return failure
		}
	case st.touchDue() || len(st.upkeep) > 0:
		// Only last-seen times and tab upkeep are due: worth writing, not
		// worth failing a read over (a full disk must not stop reads).
		if _, err := st.commit(nil); err != nil {
			st.m.log.Warn("could not record session upkeep; serving the request anyway", "path", st.c.Request().URL.Path, "err", err)
			st.clearPending()
		}
	}
	st.setCookie()
	return nil
}

// setCookie adds the Set-Cookie header when the browser's idea of the
// session must change.
func (st *requestState) setCookie() {
	if !st.cookieChanged {
		return
	}
	st.cookieChanged = false
	r := st.c.Request()
	if st.id == "" {
		if _, err := r.Cookie(st.m.cookieName(r)); err != nil {
			return // the browser holds no cookie to remove
		}
	}
	var expires time.Time
	if st.id != "" {
		expires = st.rec.Meta.AbsDeadline
	}
	cookie, err := st.m.sessionCookie(r, st.id, expires)
	if err != nil {
		st.m.log.Error("encoding session cookie", "err", err)
		return
	}
	st.c.Response().Header().Add("Set-Cookie", cookie.String())
}
