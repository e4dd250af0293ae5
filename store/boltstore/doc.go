// Package boltstore is tabkit's default session store: one embedded
// go.etcd.io/bbolt file, no server to run. It implements store.Store and
// the optional store.Sweeper, store.Lister and store.Statser, and passes
// the conformance suite in store/storetest.
//
//	st, err := boltstore.Open("tabkit.db", nil) // nil: DefaultOptions
//	if err != nil {
//		return err // ErrLocked when another process has the file
//	}
//	defer st.Close()
//
// Every Commit is on disk (fsync'd) when it returns. Concurrent commits
// share one write transaction and one fsync (group commit), yet a lone
// commit starts at once: the first caller to find no transaction running
// runs one, and callers arriving meanwhile are carried by the next.
// Each commit is planned (store.PlanCommit) before it writes, so one that
// fails — too large, a missing tab, an error or panic in its own function
// — fails alone and leaves nothing behind, while the commits sharing its
// transaction land. Load is a single read transaction whose values are
// copied out before it ends.
//
// Expired sessions read as absent at once. A background sweeper (see
// Options.SweepInterval) removes them by walking an expiry index, so a
// sweep costs what expired, not what is stored. Options sets quotas on
// sessions and bytes, and whether a full store refuses new sessions or
// evicts the least recently seen.
//
// # Key layout
//
// The file holds five buckets:
//
//	meta      id → store.AppendMeta(meta)
//	values    len(id) (one byte) + id + store.AppendKey(key) → value
//	expiry    ExpiresAt as 8-byte big-endian Unix nanoseconds + id → empty
//	lastseen  LastSeen as 8-byte big-endian Unix nanoseconds + id → empty
//	stats     "format" → 1, "sessions" → count, "bytes" → sum of Meta.Bytes
//	          (8-byte big-endian integers)
//
// A session's values are one contiguous key range, and a tab's values a
// sub-range (store.AppendTabKeyPrefix), so loading a session, dropping a
// tab and deleting a session are range scans. Sessions without a deadline
// have no expiry entry. Index times are clamped to the range of int64 Unix
// nanoseconds, with anything before 1970 as zero, so the byte order is the
// time order. Every commit, delete, sweep and eviction updates the
// indexes and the counters in the same transaction as the data, so Stats
// and quota checks read two counters instead of walking the file.
//
// # Security
//
// The file is created with mode 0600 (Options.FileMode): session values
// often hold personal data and are readable by the owner only. Nothing is
// encrypted; protect the disk and its backups as you would the sessions.
// Quotas (Options.MaxSessions, MaxBytes, MaxSessionBytes) bound what
// clients can make the store hold.
//
// # Caveats
//
// One process at a time per file: bbolt takes an exclusive lock, and a
// second Open waits Options.Timeout and then fails with ErrLocked. Use
// store/redisstore to share sessions between processes.
//
// The file does not shrink when sessions are removed: bbolt reuses the
// freed pages. Store.Compact gives the space back to the file system by
// rewriting the file (calls wait while it runs); the tabkit command's
// compact does it on a stopped file or through a running application.
//
// Quotas count live data — key names and values, as in store.Meta.Bytes —
// not the size of the file, which also holds meta, indexes and free pages.
// Expired sessions not yet swept are reclaimed before a quota refuses or
// evicts anything.
//
// Delta.EditMeta and Delta.Update functions run inside a write
// transaction that other commits share: keep them short, and do not call
// the store from them (bbolt has one writer at a time, so that would
// deadlock).
package boltstore
