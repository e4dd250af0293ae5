// Command tabkit inspects and maintains a tabkit session store: a bbolt
// file no process has open, a running application through its admin
// endpoint, or a Redis store.
//
//	tabkit -db tabkit.db sessions              # a stopped pos-demo's file
//	tabkit -db tabkit.db show Xy3_k9Qa         # a unique 8+ character ID prefix
//	tabkit -admin http://127.0.0.1:9090 stats  # a pos-demo run with -admin-addr
//	tabkit -store redis://127.0.0.1:6379/0 gc
//	tabkit -db tabkit.db -json sessions | jq .
//
// Commands:
//
//	sessions        list sessions: ID prefix, created, last seen, expires, tabs, bytes
//	show ID         a session's meta, tab table, keys and values (JSON pretty-printed;
//	                flash lists, under keys starting with "\x00flash:", item by item)
//	stats           sessions, expired sessions pending a sweep, tabs, bytes, file size
//	gc              remove expired sessions now and print how many went
//	delete ID       delete one session
//	clear --force   delete every session; without --force it refuses and says why
//	compact         rewrite a bbolt file without its free pages (bbolt files never
//	                shrink by themselves); nothing is lost, and a crash midway leaves
//	                the old file whole
//
// Flags (before the command; -json also after it):
//
//	-db FILE        bbolt file (default tabkit.db); never created when missing
//	-admin URL      a running application's admin endpoint instead of a file
//	-store URL      a redis:// or rediss:// store instead of a file
//	-json           print JSON for scripts instead of text
//	-timeout D      how long to wait for a file another process holds (default 500ms)
//
// bbolt lets one process at a time open a file. Pointed at a file a
// running application holds, tabkit waits -timeout, then says so and
// exits with status 3: run the application with -admin-addr and use
// -admin, or stop it first. Every change is a bbolt transaction, so an
// interrupted tabkit leaves the database whole.
//
// Exit status:
//
//	0  success
//	1  the operation failed (store error, unreachable endpoint, unsupported)
//	2  usage error: unknown command or flag, missing argument, ID prefix
//	   shorter than 8 characters or matching several sessions, clear
//	   without --force
//	3  the database file is in use by another process
//	4  not found: no session with that ID, or no such database file
//
// # Security
//
// Session IDs are bearer secrets: sessions prints only their first 8
// characters, and show and delete take such a prefix. show prints the
// users' data. The database file and the admin endpoint deserve the
// access control of the data itself: keep the file mode 0600 and the
// endpoint on loopback.
//
// # Caveats
//
// sessions, stats, clear and ID prefixes walk every session. compact
// needs free disk space for a second copy of the live data, and a
// running application served through -admin pauses its requests while
// it runs. A compaction killed midway leaves the old file as it was and
// a FILE.compact-* file beside it, which may be deleted. A Redis store
// has nothing to compact.
package main
