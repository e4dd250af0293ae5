// Package redisstore is a store.Store on Redis, for running tabkit in
// several processes or on several machines: every change to a session is
// atomic in Redis itself, so no process loses another's acknowledged
// write. It passes the store/storetest conformance suite on a single
// server and on Redis Cluster.
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
// Each session is one hash, <prefix>{<id>} (prefix "tabkit:" by default).
// The braces make the ID the key's hash tag, so a session lives in one
// Redis Cluster slot. Its values are fields named by store.AppendKey
// ('s' + name for session-wide keys, 't' + 4-byte tab + name for tab
// keys). The meta is kept in fields starting with '#':
//
//	#m  store.AppendMeta of Created, NextTab and the tab table
//	#v  Version            #b  Bytes          #s  LastSeen (Unix ns)
//	#i  idle deadline      #a  absolute deadline (19-digit Unix ns)
//	#t  open tabs and their byte counts, "0=12;3=40"
//	#z  when tab 0 got its entry, while #m has none for it
//
// Only this layout's own code (key, keyPattern and idOfKey) knows the
// key's shape.
//
// The fields a plain commit changes are apart from the blob, in forms a
// Lua script can read, so such a commit is one script call. Redis expires
// the hash itself (PEXPIREAT at the earlier deadline, rounded up to the
// millisecond); the store also compares deadlines with its own clock, so
// a session is gone exactly when its meta says so. A sorted set,
// <prefix>index, scores IDs by expiry for Sweep and MaxSessions.
//
// # Round trips
//
// Load is one HGETALL. A commit of deadlines, deletes and sets is one
// EVALSHA (plus a ZADD when it moves the expiry earlier). A create is one
// pipeline of EVALSHA and ZADD (plus a ZCARD with MaxSessions). Delete is
// one pipeline of DEL and ZREM. A commit with EditMeta or Update
// functions runs them in Go inside WATCH, HGETALL, MULTI/EXEC: three round
// trips, started over when another client changed the session meanwhile
// (commits of one Store on one session take turns first, so only other
// processes collide). List and Stats walk the keys with SCAN, never KEYS;
// on a cluster they walk every master. With WaitReplicas, each write is
// followed by a WAIT in the same pipeline, on the session's master: a
// plain commit stays one round trip, a create and a delete take two (the
// index entry goes apart), a commit with functions four.
//
// # Clusters and failover
//
// On Redis Cluster a session lives in the slot its ID hashes to, so
// sessions spread over the masters and every change to one session is
// still atomic on one master. The index lives in one slot, on one
// master; the sessions' writes update it next to their own, and a
// failure of the index's master fails only what needs the index: creates
// under MaxSessions (which count), Sweep, and nothing else.
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
// With
// Options.WaitReplicas set to n, each commit and delete waits until n
// replicas hold it (Redis's WAIT) before it is acknowledged; with n equal
// to the number of replicas per master, a failover loses no acknowledged
// change. A write that fewer replicas acknowledge in time fails with an
// error wrapping store.ErrUnavailable and ErrNotReplicated, but the
// master has it: it is visible to later reads, and a failover may keep it
// or lose it, so a client's retry may apply it twice (see Caveats for
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
// Bind Redis to loopback or a private network, and anywhere else use
// authentication and TLS: rediss://user:password@host:6380/0. Whoever can
// reach the database can read every session and, as the session IDs are
// the keys, take any of them over; SCAN or MONITOR show the IDs. Give
// tabkit its own database or an ACL user limited to its prefix
// (~tabkit:*) when the server is shared.
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
// twice in Version. Values are never applied twice differently.
//
// Sweep deletes sessions expired at the store's clock that Redis has not
// expired yet; with the store's clock at real time Redis gets there first
// and Sweep reports little. The index sits in a key of its own, updated
// next to (not inside) each session's atomic change, so in a rare race,
// or while the index's master is down, a session can miss it: Redis still
// expires that session, but Sweep and the MaxSessions count do not see
// it. Concurrent creates in several processes may overshoot MaxSessions
// by the number in flight (one Store counts and creates in turn).
//
// With WaitReplicas on a cluster, writes go through a client of the
// session's master, which cannot follow a MOVED or ASK redirect: while a
// slot is being migrated, its sessions' writes fail with
// store.ErrUnavailable until the migration ends.
//
// Any session ID is accepted, but Redis Cluster hashes only the part
// before its first '}' (IDs from the kit package have none), so IDs
// sharing that part share a slot. The store's clock and Redis's should
// agree: a deadline Redis already sees in the past deletes the session at
// once.
package redisstore
