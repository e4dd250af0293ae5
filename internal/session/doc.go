// Package session is the session core of tabkit: one request's unit of
// work over a store.Store, with no HTTP in it.
//
// A Unit is made per request from the tokens the browser's cookies carry
// and the tab the URL names. It loads the session lazily, on first need,
// with one store read; reads go through it, writes are queued in it
// (Set, Delete, Queue, SetLabel, SetPrincipal) and committed together
// as one store.Delta by Finish, which the HTTP glue calls before the
// response's first byte. Update, Regenerate, Destroy, CloseTab and
// OpenTab commit at once, carrying whatever is queued with them.
//
//	u := cfg.Begin(ctx, tokens, tab, true)
//	v, found, err := u.Get(store.TabKey(3, "cart"))
//	err = u.Set(store.TabKey(3, "cart"), newCart, 0)
//	err = u.Finish(false)           // commit, before the first byte
//	token, expires, changed := u.Cookie() // what the browser must hold
//
// A Unit remembers what the request read: a key that was read from the
// store and is then set or deleted is committed with that value as an
// expectation (store.Delta.Expect), so a write another request made
// meanwhile turns this commit into store.ErrConflict instead of being
// silently overwritten.
//
// Regenerate moves the session to a new token with store.Move, so writes
// other requests committed meanwhile come along and the old token is dead
// at once. Destroy deletes the session. After Finish, a queued write is
// committed at once when it can be, and refused with ErrResponseStarted
// when it would need a cookie the response can no longer carry.
//
// # Security
//
// Tokens are 256 bits from crypto/rand, and a store sees only
// store.HashToken of them. A token the store does not know is never
// adopted: the next write creates a session under a fresh one. A
// regenerated token keeps its family prefix (store.FamilyPrefix bytes,
// so a move stays in one shard of a sharded store) and 222 fresh bits.
//
// # Caveats
//
// A Unit belongs to one request and is not safe for concurrent use. The
// tab table upkeep (last-seen times, closing idle tabs) rides on commits
// of sessions the request loaded anyway, so a request that never touches
// its session does no store I/O at all.
package session
