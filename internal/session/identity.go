package session

import (
	"fmt"

	"github.com/tabkit/tabkit/store"
)

// Regenerate moves the session to a new token, with everything the
// request queued, in one store operation (store.Move): writes other
// requests committed meanwhile come along, and the old token is dead
// from then on. Call it when privileges change (sign-in), so a token
// planted before cannot ride along. With no stored session it only makes
// sure the next write creates one under a fresh token.
func (u *Unit) Regenerate() error {
	if err := u.load(); err != nil {
		return err
	}
	if u.finished {
		return ErrResponseStarted
	}
	if !u.found {
		// Nothing stored: the session gets a fresh token when it is
		// created, never one the browser sent.
		u.token, u.id = "", ""
		return nil
	}
	token := successor(u.token)
	id := store.HashToken(token)
	d := u.delta()
	d.Create = false
	u.updated = nil
	old := u.id
	meta, err := u.cfg.Store.Move(u.ctx, old, id, d)
	u.cfg.observe(Event{Kind: EventCommit, Handle: id, Err: err})
	if err != nil {
		return fmt.Errorf("session: regenerating: %w", err)
	}
	before := u.rec.Meta.Principal
	u.token, u.id = token, id
	u.cookieChanged = true
	u.absorb(meta)
	u.cfg.observe(Event{Kind: EventRegenerated, Handle: id, Principal: meta.Principal, Previous: old})
	if meta.Principal != before {
		u.cfg.observe(Event{Kind: EventPrincipalChanged, Handle: id, Principal: meta.Principal, Previous: before})
	}
	return nil
}

// Destroy deletes the session and every tab's data, and the browser is
// to drop its cookie. Commits that other requests make for it afterwards
// are refused. A later write in the same request starts a new session,
// under a fresh token.
func (u *Unit) Destroy() error {
	if err := u.load(); err != nil {
		return err
	}
	handle, principal := u.id, u.rec.Meta.Principal
	if u.found {
		if err := u.cfg.Store.Delete(u.ctx, u.id); err != nil {
			return fmt.Errorf("session: destroying: %w", err)
		}
		u.cfg.observe(Event{Kind: EventDestroyed, Handle: handle, Principal: principal})
	}
	u.token, u.id, u.found = "", "", false
	u.rec = store.Record{}
	u.read.reset()
	u.clearPending()
	u.cookieChanged = true
	return nil
}
