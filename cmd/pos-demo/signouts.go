package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tabkit/tabkit/kit"
)

// A terminal whose session was ended from elsewhere (a cashier's "Sign
// out everywhere else", the shop's operator) finds out on its next
// request: its cookie names a session that is gone (kit.Session.Gone),
// and the demo tells it why. The why is noted, by the session's handle,
// when the kit reports the session destroyed (Config.Observe), in a
// small bounded log that lives with the sales ledger.

// signOutKind says who ended a session.
type signOutKind string

const (
	// endedElsewhere: the cashier signed out their other terminals.
	endedElsewhere signOutKind = "elsewhere"
	// endedByOperator: the shop's operator, through the admin endpoint.
	endedByOperator signOutKind = "operator"
	// endedHere: the browser signed itself out (in another of its tabs).
	endedHere signOutKind = "self"
	// endedToMakeRoom: the session store was full and evicted it.
	endedToMakeRoom signOutKind = "evicted"
)

// signOut is why a session ended.
type signOut struct {
	Kind signOutKind `json:"kind"`
	// By is the cashier who ended it, for endedElsewhere.
	By string    `json:"by,omitempty"`
	At time.Time `json:"at"`
}

// signOutLog keeps why sessions ended, by handle (kit.SessionInfo.Handle:
// a store ID, never a cookie), for a while. Every method is safe for
// concurrent use.
type signOutLog interface {
	// NoteSignOut records why the session with the given handle ended,
	// replacing an earlier note for it, and forgets notes older than
	// signOutTTL at n.At and the oldest beyond maxSignOuts.
	NoteSignOut(ctx context.Context, handle string, n signOut) error
	// SignOut returns the note for handle, unless it is older than
	// signOutTTL at now.
	SignOut(ctx context.Context, handle string, now time.Time) (n signOut, found bool, err error)
}

const (
	// signOutTTL is how long a note is kept: longer than a session can
	// live (kit.DefaultConfig.Lifetime), so a terminal that comes back
	// late still learns why; after that it is told its session ended.
	signOutTTL = 8 * 24 * time.Hour
	// maxSignOuts bounds the notes kept, whatever the rate of sign-outs.
	maxSignOuts = 10_000
	// maxHandleLen bounds a handle taken from a cookie; the kit's are 48
	// characters.
	maxHandleLen = 128
)

// validHandle reports whether s has the shape of a session handle (a
// store ID: base64url and dots), so a notice cookie of another shape
// never reaches the log.
func validHandle(s string) bool {
	if s == "" || len(s) > maxHandleLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// memorySignOuts is the signOutLog of a ledger that keeps none of its
// own (the memory ledger): lost on exit, like its sessions.
type memorySignOuts struct {
	// limit is the most notes kept: maxSignOuts, less in tests.
	limit int
	// mu guards notes and order.
	mu    sync.Mutex
	notes map[string]signOut
	// order lists handles oldest note first; a replaced note leaves a
	// stale entry, skipped when pruning reaches it.
	order []noteRef
}

type noteRef struct {
	handle string
	at     time.Time
}

func newMemorySignOuts() *memorySignOuts {
	return &memorySignOuts{limit: maxSignOuts, notes: make(map[string]signOut)}
}

func (m *memorySignOuts) NoteSignOut(_ context.Context, handle string, n signOut) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notes[handle] = n
	m.order = append(m.order, noteRef{handle, n.At})
	cutoff := n.At.Add(-signOutTTL)
	drop := 0
	for drop < len(m.order) {
		ref := m.order[drop]
		cur, ok := m.notes[ref.handle]
		stale := !ok || !cur.At.Equal(ref.at)
		if !stale && len(m.notes) <= m.limit && !ref.at.Before(cutoff) {
			break
		}
		if !stale {
			delete(m.notes, ref.handle)
		}
		drop++
	}
	m.order = m.order[drop:]
	if len(m.order) > 2*m.limit {
		// Replaced notes leave stale entries behind the oldest live one:
		// drop them now and then, so order stays bounded too.
		live := m.order[:0]
		for _, ref := range m.order {
			if cur, ok := m.notes[ref.handle]; ok && cur.At.Equal(ref.at) {
				live = append(live, ref)
			}
		}
		m.order = live
	}
	return nil
}

func (m *memorySignOuts) SignOut(_ context.Context, handle string, now time.Time) (signOut, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.notes[handle]
	if !ok || now.Sub(n.At) > signOutTTL {
		return signOut{}, false, nil
	}
	return n, true, nil
}

// endings tells the Observe hook why sessions are being ended in this
// process right now. The kit reports a Destroy, an EndOtherSessions and
// an operator's deletion alike (kit.EventSessionDestroyed with a handle
// and a principal), so the request that ends sessions says beforehand
// why, and whatever the hook hears of without a reason was the operator.
type endings struct {
	// mu guards both maps.
	mu sync.Mutex
	// byHandle holds the sessions signing themselves out.
	byHandle map[string]signOut
	// byPrincipal holds the cashiers signing out their other terminals,
	// with how many requests of theirs do so at once.
	byPrincipal map[string]*principalEnding
}

type principalEnding struct {
	why   signOut
	count int
}

func newEndings() *endings {
	return &endings{byHandle: make(map[string]signOut), byPrincipal: make(map[string]*principalEnding)}
}

// ending notes that the session handle is about to end, for why, until
// done is called.
func (e *endings) ending(handle string, why signOut) (done func()) {
	e.mu.Lock()
	e.byHandle[handle] = why
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		delete(e.byHandle, handle)
		e.mu.Unlock()
	}
}

// endingOthers notes that the sessions of principal are about to end,
// for why, until done is called.
func (e *endings) endingOthers(principal string, why signOut) (done func()) {
	e.mu.Lock()
	pe := e.byPrincipal[principal]
	if pe == nil {
		pe = &principalEnding{}
		e.byPrincipal[principal] = pe
	}
	pe.why = why
	pe.count++
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		if pe.count--; pe.count == 0 {
			delete(e.byPrincipal, principal)
		}
		e.mu.Unlock()
	}
}

// reason returns why the session handle of principal is ending, when a
// request of this process said so.
func (e *endings) reason(handle, principal string) (signOut, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if why, ok := e.byHandle[handle]; ok {
		return why, true
	}
	if pe, ok := e.byPrincipal[principal]; ok && principal != "" {
		return pe.why, true
	}
	return signOut{}, false
}

// noteTimeout bounds writing a note from the Observe hook, which has no
// request context of its own.
const noteTimeout = 2 * time.Second

// observe is the demo's kit.Config.Observe: it notes why sessions ended,
// then passes every event on (to the metrics).
func (a *app) observe(e kit.Event) {
	switch e.Kind {
	case kit.EventSessionDestroyed:
		why, ok := a.endings.reason(e.Handle, e.Principal)
		if !ok {
			why = signOut{Kind: endedByOperator, At: a.now()}
		}
		a.noteSignOut(e.Handle, why)
	case kit.EventSessionEvicted:
		a.noteSignOut(e.Handle, signOut{Kind: endedToMakeRoom, At: a.now()})
	}
	if a.observeNext != nil {
		a.observeNext(e)
	}
}

// noteSignOut records why. The note is written before the event is
// passed on, so the ended terminal's next request finds it; sessions end
// rarely enough that the write costs nothing that matters. A note that
// cannot be written only makes the message less precise.
func (a *app) noteSignOut(handle string, why signOut) {
	if handle == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), noteTimeout)
	defer cancel()
	if err := a.signOuts.NoteSignOut(ctx, handle, why); err != nil {
		a.log.Warn("could not note why a session ended", "kind", why.Kind, "err", err)
	}
}

// endedMessage says why the session handle ended, as the sign-in page
// shows it; refused says a change the terminal sent was not made.
func (a *app) endedMessage(ctx context.Context, handle string, refused bool) string {
	why, found, err := signOut{}, false, error(nil)
	if validHandle(handle) {
		why, found, err = a.signOuts.SignOut(ctx, handle, a.now())
		if err != nil {
			a.log.Warn("could not read why a session ended", "err", err)
		}
	}
	var b strings.Builder
	at := why.At.Local().Format("15:04")
	switch {
	case !found:
		b.WriteString("Your session ended (it expired).")
	case why.Kind == endedElsewhere:
		fmt.Fprintf(&b, "You were signed out from another terminal by %s at %s.", why.By, at)
	case why.Kind == endedByOperator:
		fmt.Fprintf(&b, "You were signed out by the shop's operator at %s.", at)
	case why.Kind == endedToMakeRoom:
		fmt.Fprintf(&b, "Your session was ended at %s to make room for others: the till's session store was full.", at)
	default:
		b.WriteString("You were signed out (in this tab or another).")
	}
	if refused {
		b.WriteString(" Nothing was changed.")
	}
	b.WriteString(" Sign in to carry on.")
	return b.String()
}
