// Package pgstore is a store.Store on PostgreSQL, for applications that
// run on several machines and already have a database: every change to a
// session is one transaction that holds the session's row lock, so no
// process loses another's acknowledged write. It passes the
// store/storetest conformance suite, and is a module of its own, so
// importing tabkit never brings pgx into an application that does not
// use it.
//
//	st, err := pgstore.Open(ctx, "postgres://app@db.internal/app?sslmode=verify-full", nil)
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//
// New takes a *pgxpool.Pool you configured yourself and leaves it open on
// Close.
//
// # Rows, not blobs
//
// A session is one row of tabkit_sessions and one row of tabkit_values
// per value, so a commit writes what the request changed and nothing
// else: an update of the session's row (its meta and version) and a few
// upserts and deletes of value rows, never a rewrite of the whole
// session. The store makes its tables itself, or upgrades them, when it
// opens; schema.sql in this package is the same SQL, which it embeds:
//
//	CREATE TABLE tabkit_sessions (
//		id         bytea PRIMARY KEY,
//		meta       bytea NOT NULL,
//		principal  text,
//		expires_at timestamptz,
//		last_seen  timestamptz NOT NULL,
//		bytes      bigint NOT NULL,
//		version    bigint NOT NULL
//	);
//	CREATE INDEX tabkit_sessions_expires_at ON tabkit_sessions (expires_at) WHERE expires_at IS NOT NULL;
//	CREATE INDEX tabkit_sessions_principal ON tabkit_sessions (principal) WHERE principal IS NOT NULL;
//	CREATE TABLE tabkit_values (
//		session_id bytea NOT NULL REFERENCES tabkit_sessions (id) ON UPDATE CASCADE ON DELETE CASCADE,
//		key        bytea NOT NULL,
//		value      bytea NOT NULL,
//		PRIMARY KEY (session_id, key)
//	);
//	CREATE TABLE tabkit_moved (
//		id    bytea PRIMARY KEY,
//		until timestamptz NOT NULL
//	);
//	CREATE TABLE tabkit_counts (
//		singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
//		sessions  bigint NOT NULL
//	);
//	INSERT INTO tabkit_counts (sessions) VALUES (0);
//	-- plus three statement-level triggers on tabkit_sessions that keep
//	-- tabkit_counts.sessions equal to its number of rows
//	CREATE TABLE tabkit_schema (
//		singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
//		version   integer NOT NULL
//	);
//	INSERT INTO tabkit_schema (version) VALUES (1);
//
// Options.TablePrefix replaces "tabkit_" in every name. id is the
// session's ID as the store is given it (store.HashToken of the cookie's
// token), meta is store.AppendMeta (deadlines, tab table, value
// deadlines), key is store.AppendKey ('s' + name, or 't' + 4-byte tab +
// name). principal, expires_at (the earlier deadline, rounded up to the
// microsecond), last_seen, bytes and version copy what SQL looks up.
// tabkit_schema records the version of the tables: a store refuses
// tables newer than it knows with ErrSchemaTooNew, naming both versions,
// and upgrades older ones in the transaction that checks, while stores
// opening at once wait for each other on an advisory lock.
//
// # Transactions and round trips
//
// Load is one query (a LATERAL join aggregates the values), one round
// trip. (Every statement is prepared once per pooled connection, a round
// trip the first time a connection runs it; the counts here are for
// every time after.) Delete is one statement; the values go by ON DELETE CASCADE.
// Commit and Move are one transaction in two round trips (pgx batches):
// the first sends BEGIN, SELECT … FOR UPDATE of the row (of both rows, in
// the order of their IDs, for a Move) and the read of the values the
// delta names; store.PlanCommit then runs in Go, EditMeta and Update
// functions included, while the lock is held; the second sends the
// writes and COMMIT. A failed delta (ErrConflict, ErrNotFound...) costs a
// ROLLBACK instead, and a commit that finds values whose time to live ran
// out reads them first, a round trip more. Creates of one ID race to the
// INSERT, where the primary key lets one win and the others fail with
// store.ErrExists. One Store's commits of one session take turns in the
// process before they take a pooled connection, so a burst on one
// session waits without holding the pool.
//
// With MaxSessions set, creates take turns on a transaction-level
// advisory lock and read tabkit_counts after taking it, so stores in any
// number of processes never overshoot the cap. Sign-ins under a
// Delta.PrincipalLimit take an advisory lock on the principal the same
// way, so concurrent sign-ins of one user cannot overshoot its limit; the
// evicted sessions are deleted in the same transaction. Locks are always
// taken in one order (principal, quota, rows by ID, counter); the rare
// deadlock PostgreSQL still breaks is retried.
//
// # Loading the user with the session
//
// Options.UserJoin and Options.UserColumns make Load return the
// session's user in the same query, as store.Record.User (JSON):
//
//	pgstore.Options{
//		UserJoin:    "LEFT JOIN users u ON u.id::text = s.principal",
//		UserColumns: "jsonb_build_object('id', u.id, 'name', u.name)",
//	}
//
// # Expiry
//
// A session is gone the moment its deadline passes by the store's clock:
// every read checks it. Rows are removed by Sweep, through the index on
// expires_at, in transactions of at most Options.SweepBatch sessions that
// skip rows a commit holds locked; a background goroutine sweeps every
// Options.SweepInterval. Sessions swept and evicted are reported to
// Subscribe's subscribers (with their principal) after their transaction
// commits.
//
// # Outages
//
// When PostgreSQL cannot be reached, is shutting down or starting up, or
// is out of connections, disk or memory, every method fails with an error
// wrapping store.ErrUnavailable (kit answers 503 with Retry-After), within
// the connect timeout (2 s by default with Open). The pool drops broken
// connections and dials new ones, so the store serves again by itself
// once the server is back. A call whose connection turns out dead is
// repeated once, at once, on another when that cannot apply anything
// twice: nothing reached the server, or it was a read, a Delete, or a
// transaction that had not sent its COMMIT.
//
// # Security
//
// Whoever can read the tables sees hashed session IDs, never a cookie's
// token, but can read every session's values; whoever can write them can
// change any session. Give the application a role of its own, use TLS
// (sslmode=verify-full) off the machine, and keep the password out of
// logs (pgx redacts it in its errors). UserJoin and UserColumns are SQL
// inserted into the store's queries as they are: they must come from the
// application's code or configuration, never from a request.
//
// # Caveats
//
// Principals must be UTF-8 text without NUL bytes (PostgreSQL's text);
// session IDs and values may be any bytes. Creates and deletes of
// sessions update one counter row, so they take turns for the moment of
// their commit; sessions deleted by hand are counted by the triggers too.
// Stats reads every session row. A commit holds its session's row lock
// for its two round trips and the commit's flush to disk, so commits of
// one session take turns (those of different sessions do not). When the
// reply to a COMMIT is lost (the connection dies at that moment), the
// change may or may not have been applied and the caller gets
// store.ErrUnavailable. Subscribers hear only of removals made by their
// own Store, not by other processes sharing the tables.
package pgstore
