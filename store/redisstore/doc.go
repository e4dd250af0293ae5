// Package redisstore is a store.Store on Redis, for running tabkit in
// several processes or on several machines: every change to a session is
// atomic in Redis itself, so no process loses another's acknowledged
// write. It also implements store.PrincipalIndex, store.Notifier,
// store.Sweeper, store.Lister and store.Statser, and passes the
// store/storetest conformance suite on a single server and on Redis
// Cluster, with and without WaitReplicas.
//
//	st, err := redisstore.Open("redis://127.0.0.1:6379/0", nil)
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//
// Open also takes a cluster, named by some of its nodes:
// redis://10.0.0.1:6379?addr=10.0.0.2:6379&addr=10.0.0.3:6379. New takes
// a redis.UniversalClient you configured yourself (Sentinel with
// redis.NewFailoverClient, redis.NewClusterClient, TLS, custom pools) and
// leaves it open on Close.
//
// # Data layout
//
// kit hands the store IDs made by store.HashToken, "family.hash". Each
// session is one hash, <prefix>{family}.hash (prefix "tabkit:" by
// default): the braces make the family the key's hash tag, so on Redis
// Cluster a session and the ID it is regenerated to, which keeps the
// family, share a slot. An ID without a '.' (a session stored under its
// raw token by an older kit, which admin.Rekey moves) is kept under
// <prefix>{id}, the whole ID as the tag. The values are fields named by
// store.AppendKey ('s' + name for session-wide keys, 't' + 4-byte tab +
// name for tab keys). The meta is kept in fields starting with '#':
//
//	#m  store.AppendMeta of Created, NextTab and the tab table
//	#v  Version            #b  Bytes          #s  LastSeen (Unix ns)
//	#i  idle deadline      #a  absolute deadline (19-digit Unix ns)
//	#t  open tabs and their byte counts, "0=12;3=40"
//	#z  when tab 0 got its entry, while #m has none for it
//	#p  Principal
//	#e  value deadlines (Meta.Expiring): per value, its 19-digit
//	    deadline, the length of its field name in 4 digits, the name
//	#r  alone in a hash Move left behind: until when the old ID answers
//	    store.ErrMoved
//
// The fields a plain commit reads or changes, value deadlines included,
// are apart from the #m blob, in forms a Lua script can read and
// rewrite, so such a commit is one script call whether or not the
// session holds values with a time to live. Two more kinds of keys:
// <prefix>index, a sorted set of session IDs scored by expiry, which
// Sweep and MaxSessions use; and <prefix>principal:{p}, the set of the
// IDs of principal p's sessions, in p's own slot. Only layout.go knows
// these shapes.
//
// Redis expires a session's hash by itself, at the earlier deadline
// (rounded up to the millisecond) plus Options.ExpiryGrace; the store
// compares deadlines with its own clock, so a session is gone exactly
// when its meta says, and Load drops the values whose own deadline has
// passed (store.Record.DropExpiredValues); the next commit removes them.
//
// # Round trips
//
// On a single server, counted by TestRoundTrips: Load is one HGETALL. A
// plain commit (deadlines, expectations, deletes, sets, value deadlines)
// is one EVALSHA, refused or not (plus a ZADD when it moves the expiry
// earlier). A create is one pipeline of EVALSHA and ZADD (plus a ZCARD
// with MaxSessions). Delete is one pipeline (two round trips when the
// session had a principal: the SREM goes apart). A commit with EditMeta
// or Update functions or a principal to set, and Move, run in Go inside
// WATCH, read, MULTI/EXEC: three round trips, four for a sign-in under a
// limit (the principal's other sessions are read), started over when
// another client changed a watched key meanwhile (commits of one Store
// on one session take turns first, and so do its sign-ins of one
// principal under a limit). SessionsOf is two: SMEMBERS, then the
// listed sessions in one pipeline.
//
// On a cluster the script commits, Load and creates are the same (a
// pipeline to two masters runs in parallel). Moves and principal
// changes also write the other slots around the transaction: a sign-in
// under a limit takes about seven sequential round trips (read the
// session and the principal's set, read its sessions, add to the set,
// WATCH, read, MULTI/EXEC, then the index and the set again), a Move
// five (eight for a signed-in session: its new entry goes in first, its
// old one is removed and checked after). List and Stats walk the keys with SCAN, never KEYS; on a
// cluster they walk every master. With WaitReplicas, each write is
// followed by a WAIT in the same pipeline, on the session's master: a
// plain commit stays one round trip, a create and a delete take two (the
// index entry goes apart), a transaction one more.
//
// # Move
//
// Move (Regenerate in kit) is one transaction: WATCH both IDs, read the
// session and whether the new ID is live (an expired record there is
// replaced), plan the delta with store.PlanCommit (expectations,
// functions, limits: nothing is written when it fails), then in
// MULTI/EXEC write the plan into the session's hash and RENAME it to the
// new key, leaving under the old key a hash of one field that makes
// Load and Commit of the old ID fail with store.ErrMoved (which wraps
// store.ErrNotFound) for store.MovedGrace; Delete of the old ID, or
// Redis's expiry of that hash (the grace later), ends it. The two keys share a slot when the IDs share a
// family, as kit's do; on a cluster, IDs of different families fail with
// ErrCrossSlot (a single server moves any two).
//
// # Principals
//
// A session's principal is its #p field; the principal's set lists
// where to look, and SessionsOf reads every listed session and returns
// only those live and still the principal's, dropping the other entries
// as it meets them (so does the sweeper, for the sessions it removes).
//
// On a single server the set changes in the same MULTI/EXEC as the
// session, and a sign-in under Delta.PrincipalLimit watches the set, so
// concurrent sign-ins of one principal, in any number of processes, take
// turns: the limit holds exactly (TestPrincipalLimitUnderConcurrentSignIns
// signs one principal in 64 times at once through two Stores).
//
// On a cluster the set is in another slot than the sessions. A session
// joining a principal is added to the set before its transaction, so a
// failure of the set's master refuses the sign-in before anything is
// written, and again after it; leaving removes the entry after the
// transaction; and every removal of an entry is followed by a read of
// the session that puts the entry back if the session is the
// principal's (or that cannot be read). So, whatever the interleaving,
// the set does not miss a live session of its principal once the
// sign-in has returned, short of its master losing the entry in a
// failover without WaitReplicas, and "sign out everywhere" finds them
// all. The limit is counted from the set
// before the transaction: sign-ins of one Store take turns, but sign-ins
// of one principal in several processes at the same moment can exceed
// the limit by the number of those processes minus one; the principal's
// next sign-in counts them all, and refuses or evicts back to the
// limit. Evictions are deleted after the transaction, each only if it
// still belongs to the principal.
//
// # Events
//
// Subscribe reports store.EventExpired for every session the sweeper
// removes, with its principal, and store.EventEvicted for every session
// a principal limit evicts (MaxSessions refuses, it never evicts). A
// background goroutine runs Sweep every Options.SweepInterval (default a
// minute); each process may run one, and each expired session is
// removed, and reported, by exactly one sweep: the one whose script
// deleted it. Redis itself drops a session only ExpiryGrace (default 5
// minutes) after its deadline, so the sweeper sees it first; the store
// treats it as gone from its deadline on.
//
// # Clusters and failover
//
// On Redis Cluster a session lives in the slot of its family, so
// sessions spread over the masters and every change to one session is
// still atomic on one master. The index lives in one slot, on one
// master; the sessions' writes update it next to their own, and a
// failure of the index's master fails only what needs the index: creates
// under MaxSessions (which count), Sweep, and nothing else. A
// principal's set is on its principal's master: while that master is
// down, that principal's sign-ins and SessionsOf fail, and sessions that
// already have it keep working.
//
// When a master fails, requests for the sessions in its slots fail with
// store.ErrUnavailable (which the kit answers 503 with Retry-After) until
// the cluster has promoted its replica: about cluster-node-timeout plus
// one or two seconds for the election. The store has the client reload
// its map of slots after every such failure, so it follows the promotion
// within a fraction of a second without a restart. Sessions on the other
// masters keep working, provided the cluster runs with
// cluster-require-full-coverage no: with Redis's default (yes), every
// node refuses every command from the moment the failed master is marked
// as failing until its replica takes over. internal/failover measures
// this with 32 writers through the kit: with a node timeout of 2 s,
// requests for the failed master's sessions got 503 for 3 to 5 s, and
// no other request failed.
//
// Replication is asynchronous: a master acknowledges a write before its
// replicas have it, so a failover can lose the last acknowledged commits.
// A replica on loopback lags by far less than a request, and the test
// above loses none from a plain kill; with the replica behind (frozen
// while the link fills up) it loses hundreds, and none with WaitReplicas.
// With Options.WaitReplicas set to n, each commit and delete waits until
// n replicas hold it (Redis's WAIT) before it is acknowledged, and so
// does the principal's set entry of a sign-in on a cluster; with n equal
// to the number of replicas per master, a failover loses no acknowledged
// change. A write that fewer replicas acknowledge in time fails with an
// error wrapping store.ErrUnavailable and ErrNotReplicated, but the
// master has it: it is visible to later reads, and a failover may keep
// it or lose it, so a client's retry may apply it twice (see Caveats for
// lost replies). A promoted replica has no replicas of its own until the
// failed node or another one joins it, so with WaitReplicas equal to the
// replicas per master its sessions stay unavailable until then: keep one
// replica more than WaitReplicas to ride out a failure. WAIT is not
// consensus: with fewer than all replicas waited for, the election can
// still pick one that lacks the write, though Redis prefers the most
// up-to-date.
//
// With Sentinel, pass New a redis.NewFailoverClient: it follows the
// master Sentinel names, WaitReplicas works the same, and the same
// asynchronous-replication caveat holds without it.
//
// # Security
//
// The store never sees a cookie's token, only store.HashToken of it: the
// keys, the index, the principals' sets and every value hold hashes, and
// a SCAN, a MONITOR, a copied RDB file or a replica reveals no cookie
// (TestNoTokenAtRest reads every key and value the store and kit wrote,
// on a server and on every master of a cluster, and finds none). They do
// show the principals' names and the sessions' data. Bind Redis to
// loopback or a private network, and anywhere else use authentication
// and TLS: rediss://user:password@host:6380/0. Whoever can write to the
// database can still plant or change sessions. Give tabkit its own
// database or an ACL user limited to its prefix (~tabkit:*) when the
// server is shared.
//
// # Caveats
//
// Durability is Redis's: Commit returns once Redis has applied the
// change in memory (and, with WaitReplicas, once replicas hold it). With
// appendonly yes and appendfsync always, that change is on disk before
// the reply; with appendfsync everysec (Redis's usual AOF setting) up to
// a second of commits can be lost in a crash; with RDB snapshots alone,
// everything since the last snapshot; with neither, everything at a
// restart. A master without persistence must not come back before its
// replica has taken over: it returns empty, and its replica copies that.
// Without WaitReplicas, a failover can lose recent commits too.
//
// When a command's reply is lost (a timeout, a dropped connection), the
// change may or may not have been applied, and the client may retry it:
// a retried create then reports store.ErrExists, a retried commit counts
// twice in Version, a retried commit with expectations may report
// store.ErrConflict for its own first write. Values are never applied
// twice differently.
//
// An expired session is reported only if a sweep finds it within
// ExpiryGrace of its deadline: with every process down for longer, or
// ExpiryGrace negative, Redis drops it unreported, and its principal's
// set keeps the entry until SessionsOf or a sign-in meets it. The index
// sits in a key of its own, updated next to (not inside) each session's
// change on a cluster, so in a rare race, or while the index's master is
// down, a session can miss it: Redis still expires that session, but
// Sweep (and its event) and the MaxSessions count do not see it.
// Concurrent creates in several processes may overshoot MaxSessions by
// the number in flight (one Store counts and creates in turn); on a
// cluster, a principal limit likewise (see Principals).
//
// With WaitReplicas on a cluster, writes go through a client of the
// session's master, which cannot follow a MOVED or ASK redirect: while a
// slot is being migrated, its sessions' writes fail with
// store.ErrUnavailable until the migration ends.
//
// Any session ID is accepted, but Redis Cluster hashes only the part of
// the key between its first '{' and the next '}': IDs sharing a family
// share a slot, and a family that contains '}' is cut there. The store's
// clock and Redis's should agree: a deadline Redis already sees past
// (plus the grace) deletes the session at once.
package redisstore
