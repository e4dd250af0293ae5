package store

import (
	"container/heap"
	"context"
	"errors"
	"maps"
	"sync"
	"time"
)

// MemoryOptions configures NewMemoryWith.
type MemoryOptions struct {
	// Now is the store's clock. Default time.Now.
	Now Clock
	// SweepInterval is how often a background goroutine removes expired
	// sessions. Default 1 minute. Negative disables it; Sweep still works.
	SweepInterval time.Duration
}

// Memory is a Store that keeps sessions in the process's memory. Sessions
// are lost when the process ends. It is safe for concurrent use. Close
// stops its sweeper.
type Memory struct {
	now Clock

	// mu guards sessions, principals, expiry and closed.
	mu       sync.RWMutex
	sessions map[string]*memorySession
	// principals indexes sessions by Meta.Principal.
	principals map[string]map[string]struct{}
	// moved holds IDs Move moved away, until when they answer ErrMoved.
	moved  map[string]time.Time
	expiry expiryQueue
	closed bool

	notify subscribers

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type memorySession struct {
	meta   Meta
	values map[Key][]byte
}

// NewMemory returns an in-memory store with default options.
func NewMemory() *Memory { return NewMemoryWith(MemoryOptions{}) }

// NewMemoryWith returns an in-memory store configured by opts.
func NewMemoryWith(opts MemoryOptions) *Memory {
	m := &Memory{
		now:        opts.Now,
		sessions:   make(map[string]*memorySession),
		principals: make(map[string]map[string]struct{}),
		moved:      make(map[string]time.Time),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	interval := opts.SweepInterval
	if interval == 0 {
		interval = time.Minute
	}
	if interval < 0 {
		close(m.done)
		return m
	}
	go m.sweepEvery(interval)
	return m
}

func (m *Memory) sweepEvery(interval time.Duration) {
	defer close(m.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-ticker.C:
			_, _ = m.Sweep(context.Background())
		}
	}
}

// Load implements Store.
func (m *Memory) Load(ctx context.Context, id string) (Record, bool, error) {
	if err := checkCall(ctx, id); err != nil {
		return Record{}, false, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Record{}, false, ErrClosed
	}
	s := m.live(id)
	if s == nil {
		return Record{}, false, m.movedErr(id)
	}
	rec := Record{Meta: s.meta.Clone(), Values: make(map[Key][]byte, len(s.values))}
	for k, v := range s.values {
		rec.Values[k] = append([]byte(nil), v...)
	}
	rec.DropExpiredValues(m.now.Now())
	return rec, true, nil
}

// live returns session id unless it is missing or expired. m.mu is held.
func (m *Memory) live(id string) *memorySession {
	s := m.sessions[id]
	if s == nil || s.meta.Expired(m.now.Now()) {
		return nil
	}
	return s
}

// Commit implements Store. EditMeta and Update functions run while the
// store is locked, so they must be quick.
func (m *Memory) Commit(ctx context.Context, id string, d Delta) (Meta, error) {
	if err := checkCall(ctx, id); err != nil {
		return Meta{}, err
	}
	var evicted []Event
	defer func() { m.notify.send(evicted) }()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Meta{}, ErrClosed
	}
	s := m.live(id)
	var current *Meta
	if s != nil {
		current = &s.meta
	}
	now := m.now.Now()
	if s == nil && !d.Create {
		if err := m.movedErr(id); err != nil {
			return Meta{}, err
		}
	}
	plan, err := PlanCommit(now, current, s.reader(), &d)
	if err != nil {
		return Meta{}, err
	}
	var victims []string
	if d.JoinsPrincipal(current) {
		if victims, err = d.PrincipalLimit.Victims(m.sessionsOf(d.Principal, id)); err != nil {
			return Meta{}, err
		}
	}
	for _, victim := range victims {
		evicted = append(evicted, Event{Kind: EventEvicted, ID: victim, Principal: d.Principal, At: now})
		m.remove(victim)
	}
	if s == nil {
		m.remove(id) // an expired record, if any
		s = &memorySession{values: make(map[Key][]byte)}
		m.sessions[id] = s
	}
	m.apply(id, s, &plan)
	return s.meta.Clone(), nil
}

// Move implements Store.
func (m *Memory) Move(ctx context.Context, from, to string, d Delta) (Meta, error) {
	if err := checkCall(ctx, from); err != nil {
		return Meta{}, err
	}
	if err := CheckID(to); err != nil {
		return Meta{}, err
	}
	if d.Create || from == to {
		return Meta{}, errBadMove
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Meta{}, ErrClosed
	}
	s := m.live(from)
	if s == nil {
		if err := m.movedErr(from); err != nil {
			return Meta{}, err
		}
		return Meta{}, ErrNotFound
	}
	if m.live(to) != nil {
		return Meta{}, ErrExists
	}
	plan, err := PlanCommit(m.now.Now(), &s.meta, s.reader(), &d)
	if err != nil {
		return Meta{}, err
	}
	m.remove(to) // an expired record, if any
	m.remove(from)
	m.moved[from] = m.now.Now().Add(MovedGrace)
	m.sessions[to] = s
	// apply indexes and queues what changed; under the new ID everything
	// is new.
	s.meta = Meta{}
	m.apply(to, s, &plan)
	return s.meta.Clone(), nil
}

// errBadMove is a caller's mistake, never a condition to branch on.
var errBadMove = errors.New("store: Move needs two different IDs and a delta without Create")

func (s *memorySession) reader() ValueReader {
	if s == nil {
		return func(Key) ([]byte, bool, error) { return nil, false, nil }
	}
	return func(k Key) ([]byte, bool, error) {
		v, ok := s.values[k]
		return v, ok, nil
	}
}

// apply writes plan into session id, s. m.mu is held.
func (m *Memory) apply(id string, s *memorySession, plan *Plan) {
	for _, tab := range plan.DropTabs {
		for k := range s.values {
			if k.InTab && k.Tab == tab {
				delete(s.values, k)
			}
		}
	}
	for _, k := range plan.Remove {
		delete(s.values, k)
	}
	maps.Copy(s.values, plan.Put)
	if at := plan.Meta.ExpiresAt(); !at.IsZero() && !at.Equal(s.meta.ExpiresAt()) {
		m.expiry.add(at, id)
	}
	if before, after := s.meta.Principal, plan.Meta.Principal; before != after {
		m.unindex(before, id)
		m.index(after, id)
	}
	s.meta = plan.Meta
	m.compactExpiry()
}

func (m *Memory) index(principal, id string) {
	if principal == "" {
		return
	}
	ids := m.principals[principal]
	if ids == nil {
		ids = make(map[string]struct{})
		m.principals[principal] = ids
	}
	ids[id] = struct{}{}
}

func (m *Memory) unindex(principal, id string) {
	if ids := m.principals[principal]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(m.principals, principal)
		}
	}
}

// remove deletes session id, live or not, and its index entry. m.mu is
// held.
func (m *Memory) remove(id string) {
	if s := m.sessions[id]; s != nil {
		m.unindex(s.meta.Principal, id)
		delete(m.sessions, id)
	}
}

// sessionsOf lists the live sessions of principal other than except.
// m.mu is held.
func (m *Memory) sessionsOf(principal, except string) []SessionRef {
	var refs []SessionRef
	for id := range m.principals[principal] {
		if s := m.live(id); s != nil && id != except {
			refs = append(refs, SessionRef{ID: id, Meta: s.meta.Clone()})
		}
	}
	return refs
}

// SessionsOf implements PrincipalIndex.
func (m *Memory) SessionsOf(ctx context.Context, principal string) ([]SessionRef, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	return m.sessionsOf(principal, ""), nil
}

// Subscribe implements Notifier.
func (m *Memory) Subscribe(fn func(Event)) (cancel func()) { return m.notify.add(fn) }

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, id string) error {
	if err := checkCall(ctx, id); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.remove(id)
	delete(m.moved, id)
	return nil
}

// movedErr returns ErrMoved while id is a recent Move's source. m.mu is
// held.
func (m *Memory) movedErr(id string) error {
	if until, ok := m.moved[id]; ok && m.now.Now().Before(until) {
		return ErrMoved
	}
	return nil
}

// Sweep implements Sweeper.
func (m *Memory) Sweep(ctx context.Context) (SweepResult, error) {
	if err := ctx.Err(); err != nil {
		return SweepResult{}, err
	}
	var expired []Event
	defer func() { m.notify.send(expired) }()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return SweepResult{}, ErrClosed
	}
	now := m.now.Now()
	for id, until := range m.moved {
		if !now.Before(until) {
			delete(m.moved, id)
		}
	}
	var res SweepResult
	for m.expiry.Len() > 0 && !m.expiry[0].at.After(now) {
		e := heap.Pop(&m.expiry).(expiryEntry)
		s := m.sessions[e.id]
		if s == nil || !s.meta.Expired(now) {
			continue // deleted, or touched since this entry was queued
		}
		res.Sessions++
		res.Bytes += s.meta.Bytes
		expired = append(expired, Event{Kind: EventExpired, ID: e.id, Principal: s.meta.Principal, At: now})
		m.remove(e.id)
	}
	return res, nil
}

// compactExpiry rebuilds the expiry queue when stale entries (left behind
// by sessions whose deadline moved) outnumber live ones. m.mu is held.
func (m *Memory) compactExpiry() {
	if m.expiry.Len() < 64 || m.expiry.Len() < 2*len(m.sessions) {
		return
	}
	fresh := make(expiryQueue, 0, len(m.sessions))
	for id, s := range m.sessions {
		if at := s.meta.ExpiresAt(); !at.IsZero() {
			fresh = append(fresh, expiryEntry{at: at, id: id})
		}
	}
	heap.Init(&fresh)
	m.expiry = fresh
}

// List implements Lister. fn runs while the store is read-locked.
func (m *Memory) List(ctx context.Context, fn func(id string, meta Meta) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	now := m.now.Now()
	for id, s := range m.sessions {
		if s.meta.Expired(now) {
			continue
		}
		if !fn(id, s.meta.Clone()) {
			return nil
		}
	}
	return nil
}

// Stats implements Statser.
func (m *Memory) Stats(ctx context.Context) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Stats{}, ErrClosed
	}
	now := m.now.Now()
	st := Stats{Sessions: int64(len(m.sessions))}
	for _, s := range m.sessions {
		st.Bytes += s.meta.Bytes
		if s.meta.Expired(now) {
			st.Expired++
		}
	}
	return st, nil
}

// Close stops the sweeper and releases the sessions. It is idempotent;
// afterwards every method returns ErrClosed.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		close(m.stop)
		<-m.done
		m.mu.Lock()
		m.closed = true
		m.sessions = nil
		m.principals = nil
		m.moved = nil
		m.expiry = nil
		m.mu.Unlock()
	})
	return nil
}

// checkCall does the checks every method starts with.
func checkCall(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return CheckID(id)
}

// CheckID returns ErrInvalidID unless id is an acceptable session ID.
func CheckID(id string) error {
	if id == "" || len(id) > MaxIDLength {
		return ErrInvalidID
	}
	return nil
}

type expiryEntry struct {
	at time.Time
	id string
}

// expiryQueue is a min-heap of deadlines, so a sweep only visits what
// expired.
type expiryQueue []expiryEntry

func (q *expiryQueue) add(at time.Time, id string) { heap.Push(q, expiryEntry{at: at, id: id}) }

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q expiryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)        { *q = append(*q, x.(expiryEntry)) }
func (q *expiryQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
