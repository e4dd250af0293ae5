// Package boltstore is tabkit's default session store: one embedded
// go.etcd.io/bbolt file, no server to run. It implements store.Store and
// the optional store.Sweeper, store.Lister, store.Statser,
// store.PrincipalIndex and store.Notifier, and passes the conformance
// suite in store/storetest.
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
// fails — too large, a missing tab, an expectation not met
// (store.ErrConflict), an error or panic in its own function — fails
// alone and leaves nothing behind, while the commits sharing its
// transaction land. Load is a single read transaction whose values are
// copied out before it ends; values past their deadline
// (store.Meta.Expiring) read as missing, and the session's next commit
// deletes them.
//
// Move (kit's Regenerate) rides in the same shared transactions as
// Commit and Delete: in one transaction it checks that the old ID is live
// and the new one is not, plans the delta on the old record, writes the
// result under the new ID with every index entry and counter, and
// deletes the old one. A commit to the old ID lands before the move, and
// is carried, or after it, and fails with store.ErrNotFound. A Move that
// fails fails alone, like a commit.
//
// Expired sessions read as absent at once. A background sweeper (see
// Options.SweepInterval) removes them by walking an expiry index, so a
// sweep costs what expired, not what is stored. Options sets quotas on
// sessions and bytes, and whether a full store refuses new sessions or
// evicts the least recently seen.
//
// # Principals
//
// Every commit, move, delete, sweep and eviction keeps the principals
// bucket in step with Meta.Principal in its own transaction. SessionsOf
// reads it and lists only live sessions. A commit or move that gives a
// session a principal under store.Delta.PrincipalLimit counts the
// principal's live sessions inside the write transaction, after the
// commits before it in the same group commit, so concurrent sign-ins
// cannot overshoot the limit; the limit refuses (store.ErrTooManySessions,
// nothing written) or evicts the least recently seen in that same
// transaction.
//
// # Events
//
// Subscribe (store.Notifier) hears of sessions the store removes on its
// own: store.EventExpired for a session the sweeper removed, or an
// expired record a commit or quota reclaimed on the way;
// store.EventEvicted for one a quota evicted (MaxSessions or MaxBytes
// with EvictLRU, or a principal limit that evicts). Each carries the
// session's principal. They are sent only for transactions that
// committed, on the goroutine of the call that caused them, after that
// call has let go of the store, so a subscriber may call the store.
// Options.Observe is something else: metrics of commit rounds and sweeps.
//
// # Key layout
//
// The file (format 2) holds six buckets:
//
//	meta        id → store.AppendMeta(meta)
//	values      len(id) (one byte) + id + store.AppendKey(key) → value
//	expiry      ExpiresAt as 8-byte big-endian Unix nanoseconds + id → empty
//	lastseen    LastSeen as 8-byte big-endian Unix nanoseconds + id → empty
//	principals  first 16 bytes of SHA-256(principal) + id → empty
//	stats       "format" → 2, "sessions" → count, "bytes" → sum of Meta.Bytes
//	            (8-byte big-endian integers)
//
// IDs are what the store is given: store.HashToken(token), never the
// token itself. A session's values are one contiguous key range, and a
// tab's values a sub-range (store.AppendTabKeyPrefix), so loading a
// session, dropping a tab and deleting a session are range scans; a
// principal's sessions are one range of the principals bucket. Its key
// starts with a hash rather than the principal so that any principal
// fits bbolt's key size; each entry is checked against its session's
// meta, so a collision could only hide an entry from a reader, never
// misattribute one. Sessions without a deadline have no expiry entry, and
// sessions without a principal no principals entry. Index times are
// clamped to the range of int64 Unix nanoseconds, with anything before
// 1970 as zero, so the byte order is the time order. Every commit, move,
// delete, sweep and eviction updates the indexes and the counters in the
// same transaction as the data, so Stats and quota checks read two
// counters instead of walking the file.
//
// # Migration
//
// Format 1, written by earlier versions, keyed sessions by the token of
// their cookie and had no principals bucket. Open migrates such a file
// in one write transaction: every session under a token is re-keyed to
// store.HashToken(token) in meta, values, expiry and lastseen, the
// principals bucket is built, and the format becomes 2; a crash leaves
// the file wholly in one format or the other. Sessions keep working, as
// the same cookie hashes to the new key. Only IDs of the shape of kit's
// tokens (43 base64url characters) are re-keyed; any other ID stays as
// it is, so a file written by a kit that already hashed its tokens is
// never hashed twice, and an application that gave the store IDs of its
// own still finds them. Options.Logger hears how many sessions moved.
// Because bbolt does not wipe the pages it frees, Open then rewrites the
// file as Compact does, leaving no token in it. A file whose format is
// newer than this version is refused with ErrNotDatabase and left
// untouched.
//
// # Security
//
// The file is created with mode 0600 (Options.FileMode): session values
// often hold personal data and are readable by the owner only. Nothing is
// encrypted; protect the disk and its backups as you would the sessions.
// The file holds no token, only hashes of them, so a copy of it yields
// no cookie; a backup taken before the migration to format 2 still
// holds tokens that work, as do free blocks of the file system the old
// file lived on. Quotas (Options.MaxSessions, MaxBytes, MaxSessionBytes)
// and principal limits bound what clients can make the store hold.
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
// The migration from format 1 holds the whole file's data in memory while
// its transaction runs, and the rewrite after it needs room for a second
// copy of the file: the first Open of a large old file takes a while.
//
// Quotas count live data — key names and values, as in store.Meta.Bytes —
// not the size of the file, which also holds meta, indexes and free pages.
// Expired sessions not yet swept are reclaimed before a quota refuses or
// evicts anything.
//
// Delta.EditMeta and Delta.Update functions run inside a write
// transaction that other commits share: keep them short, and do not call
// the store from them (bbolt has one writer at a time, so that would
// deadlock). Subscribers run on the caller's goroutine before its call
// returns: keep them quick too.
package boltstore
