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
// Backends live in sub-packages (store/boltstore, store/redisstore) and
// all pass the same conformance suite, store/storetest. They apply deltas
// through PlanCommit, so a delta means the same thing everywhere.
//
// Optional abilities are separate interfaces found by type assertion:
// Sweeper, Lister, Statser and io.Closer.
//
// # Security
//
// Stores trust the session IDs they are given; the kit package generates
// them from crypto/rand and never adopts one from a client. Values are
// opaque bytes. Delta.MaxBytes bounds what one session may hold.
//
// # Caveats
//
// Memory keeps everything in the process: sessions end with it. Functions in
// Delta.EditMeta and Delta.Update run inside the store's transaction (for
// Memory, under its lock) and may run more than once; keep them short and
// free of side effects.
package store
