// Package store defines how tabkit keeps sessions: the Store interface, the
// record and delta types, the errors callers branch on, and Memory, an
// in-memory Store.
//
// A session is meta (deadlines, the tab table, counters) plus keyed values
// in two namespaces: session-wide keys and tab-scoped keys. A request
// commits only what it changed, as a Delta, so two requests that change
// different keys never undo each other, and a read-modify-write of one key
// runs inside the store's transaction (Delta.Update):
//
//	meta, err := st.Commit(ctx, id, store.Delta{
//		Set: map[store.Key][]byte{store.TabKey(3, "cart"): cartJSON},
//	})
//
// Backends live in sub-packages (store/boltstore, store/redisstore,
// store/pgstore) and
// all pass the same conformance suite, store/storetest. They apply deltas
// through PlanCommit, so a delta means the same thing everywhere.
//
// A delta can also say what it was computed from (Delta.Expect): a request
// that read a key and then writes it commits only if the key still holds
// what it read, and otherwise fails with ErrConflict, so even naive
// get-modify-set code never loses an acknowledged write. Move carries a
// session to a new ID in one step (kit's Regenerate), after which the old
// ID refuses every commit. Values may have a time to live (Delta.Expires,
// Meta.Expiring), and a session a principal (Meta.Principal, usually the
// signed-in user) with an optional per-principal session limit.
//
// Optional abilities are separate interfaces found by type assertion:
// Sweeper, Lister, Statser, PrincipalIndex, Notifier and io.Closer.
//
// # Security
//
// Stores never see the token a browser's cookie carries, only
// HashToken(token): whoever reads a store (a copied file, a Redis SCAN, a
// backup, an admin listing) learns nothing that works as a cookie. The kit
// package generates tokens from crypto/rand and never adopts one from a
// client. Values are opaque bytes. Delta.MaxBytes bounds what one session
// may hold.
//
// # Caveats
//
// Memory keeps everything in the process: sessions end with it. Functions in
// Delta.EditMeta and Delta.Update run inside the store's transaction (for
// Memory, under its lock) and may run more than once; keep them short and
// free of side effects.
package store
