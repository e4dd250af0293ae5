package store

import "sync"

// subscribers is the list behind a Notifier: stores embed one, call add
// from Subscribe and send after their transaction ends.
type subscribers struct {
	// mu guards fns and next.
	mu   sync.Mutex
	fns  map[int]func(Event)
	next int
}

func (s *subscribers) add(fn func(Event)) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fns == nil {
		s.fns = make(map[int]func(Event))
	}
	n := s.next
	s.next++
	s.fns[n] = fn
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.fns, n)
		})
	}
}

// send reports events to every subscriber. It must not be called with a
// store lock held: a subscriber may call the store.
func (s *subscribers) send(events []Event) {
	if len(events) == 0 {
		return
	}
	s.mu.Lock()
	fns := make([]func(Event), 0, len(s.fns))
	for _, fn := range s.fns {
		fns = append(fns, fn)
	}
	s.mu.Unlock()
	for _, e := range events {
		for _, fn := range fns {
			fn(e)
		}
	}
}

// Subscribers is the same list for backends in other packages.
type Subscribers struct{ s subscribers }

// Add registers fn; it is what a Notifier's Subscribe returns.
func (s *Subscribers) Add(fn func(Event)) (cancel func()) { return s.s.add(fn) }

// Send reports events to every subscriber. Call it after the transaction
// that removed the sessions and with no lock of the store held.
func (s *Subscribers) Send(events []Event) { s.s.send(events) }
