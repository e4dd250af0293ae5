// Command tabkit inspects and maintains a tabkit session store: a bbolt
// file no process has open, a running application through its admin
// endpoint, or a Redis store.
//
//	tabkit -db tabkit.db sessions              # a stopped pos-demo's file
//	tabkit -db tabkit.db show Xy3_.k9Q         # a unique 8+ character ID prefix
//	tabkit -admin http://127.0.0.1:9090 stats  # a pos-demo run with -admin-addr
//	tabkit -admin http://127.0.0.1:9090 end -principal alice   # sign alice out everywhere
//	tabkit -store redis://127.0.0.1:6379/0 gc
//	tabkit -db tabkit.db -json sessions -principal alice | jq .
//
// Commands:
//
//	sessions        list sessions: ID prefix, principal, created, last seen, expires,
//	                tabs, bytes; with -principal P only the sessions of P
//	show ID         a session's handle, principal, meta, tab table, keys and values
//	                (JSON pretty-printed; flash lists, under keys starting with
//	                "\x00flash:", item by item; a value's deadline when it has one)
//	end -principal P
//	                end every session of principal P ("sign out everywhere") and
//	                print how many; none is not an error
//	stats           sessions, expired sessions pending a sweep, tabs, bytes, file size
//	gc              remove expired sessions now and print how many went
//	delete ID       delete one session
//	clear --force   delete every session; without --force it refuses and says why
//	compact         rewrite a bbolt file without its free pages (bbolt files never
//	                shrink by themselves); nothing is lost, and a crash midway leaves
//	                the old file whole
//	migrate         upgrade a store written before session IDs were hashed: move
//	                every session stored under its cookie token to the token's hash,
//	                where kit looks for it (see Migrating)
//
// Flags (before the command; -json also after it, -principal after it):
//
//	-db FILE        bbolt file (default tabkit.db); never created when missing
//	-admin URL      a running application's admin endpoint instead of a file
//	-store URL      a redis:// or rediss:// store instead of a file
//	-json           print JSON for scripts instead of text
//	-timeout D      how long to wait for a file another process holds (default 500ms)
//	-principal P    whose sessions: sessions (optional), end (required)
//
// sessions -principal and end need a store that keeps an index of
// principals (store.PrincipalIndex); on one that does not they fail with
// status 1. Sessions ended through -admin are deleted from the
// application's store; its kit.Config.Observe hears of them only when
// the application serves the Handler of an Admin made by admin.NewWith
// with its kit.Manager as Config.Ender.
//
// bbolt lets one process at a time open a file. Pointed at a file a
// running application holds, tabkit waits -timeout, then says so and
// exits with status 3: run the application with -admin-addr and use
// -admin, or stop it first. Every change is a bbolt transaction, so an
// interrupted tabkit leaves the database whole.
//
// # Migrating
//
// Before session IDs were hashed, stores kept each session under its
// cookie's token; kit now looks a cookie up under store.HashToken of its
// token, so those sessions are out of reach (their users are signed out)
// and their keys are working cookie values. migrate moves each to its
// hash, so its browser finds it again:
//
//	tabkit -db tabkit.db migrate        # with the application stopped
//	tabkit -store redis://host:6379/0 migrate
//
// On a file it reports the file's format before and after (boltstore
// may itself migrate a file of an older format when it opens it; the
// report says how many sessions it moved and how many tabkit moved),
// then, when it moved any, removes expired sessions and compacts the
// file, since bbolt leaves deleted keys in its free pages. On Redis the
// old keys are deleted; snapshots and AOF files taken before still hold
// them until rewritten (BGREWRITEAOF). Run it when no process of the
// old version uses the store: the move is a copy and a delete, and a
// write such a process makes in between is lost. Processes of the new
// version never touch the old keys, so migrate may run after they start;
// a user who came back before it finds a new session, and the old one
// expires unused. A moved session keeps its values, tabs and deadlines;
// its creation time becomes the time of the move. Running migrate again
// does nothing.
//
// Exit status:
//
//	0  success
//	1  the operation failed (store error, unreachable endpoint, unsupported)
//	2  usage error: unknown command or flag, missing argument, ID prefix
//	   shorter than 8 characters or matching several sessions, clear
//	   without --force, end without -principal, an empty principal
//	3  the database file is in use by another process
//	4  not found: no session with that ID, or no such database file
//
// # Security
//
// Stores keep sessions under hashes of their cookie tokens, which work
// as no cookie: sessions prints the first 8 characters of each ID, and
// show (and -json) the whole of it as the session's handle, as kit's
// events carry it. IDs of sessions still stored under their token (not
// yet migrated) are never printed beyond those 8 characters. show
// prints the users' data, and principals are usually user IDs. The
// database file and the admin endpoint deserve the access control of
// the data itself: keep the file mode 0600 and the endpoint on loopback.
//
// # Caveats
//
// sessions, stats, clear, migrate and ID prefixes walk every session.
// compact needs free disk space for a second copy of the live data, and
// a running application served through -admin pauses its requests while
// it runs. A compaction killed midway leaves the old file as it was and
// a FILE.compact-* file beside it, which may be deleted. A Redis store
// has nothing to compact. end counts the sessions it ended; a session
// that signs in as the principal while it runs survives it.
package main
