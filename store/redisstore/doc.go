// Package redisstore is a store.Store on Redis, for running tabkit in
// several processes or on several machines: every change to a session is
// atomic in Redis itself, so no process loses another's acknowledged
// write. It passes the store/storetest conformance suite.
//
//	st, err := redisstore.Open("redis://127.0.0.1:6379/0", nil)
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//
// New takes a redis.UniversalClient you configured yourself (Sentinel,
// Cluster, TLS, custom pools) and leaves it open on Close.
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
// processes collide). List and Stats walk the keys with SCAN, never KEYS.
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
// change in memory. With appendonly yes and appendfsync always, that
// change is on disk before the reply; with appendfsync everysec (Redis's
// usual AOF setting) up to a second of commits can be lost in a crash;
// with RDB snapshots alone, everything since the last snapshot; with
// neither, everything at a restart. Replication is asynchronous, so a
// failover can lose recent commits too.
//
// When a command's reply is lost (a timeout, a dropped connection), the
// change may or may not have been applied, and the client may retry it:
// a retried create then reports store.ErrExists, a retried commit counts
// twice in Version. Values are never applied twice differently.
//
// Sweep deletes sessions expired at the store's clock that Redis has not
// expired yet; with the store's clock at real time Redis gets there first
// and Sweep reports little. The index sits in a key of its own, updated
// next to (not inside) each session's atomic change, so in a rare race a
// session can miss it: Redis still expires that session, but Sweep and
// the MaxSessions count do not see it, and concurrent creates in several
// processes may overshoot MaxSessions by the number in flight (one Store
// counts and creates in turn).
//
// Any session ID is accepted, but Redis Cluster hashes only the part
// before its first '}' (IDs from the kit package have none), so IDs
// sharing that part share a slot. The store's clock and Redis's should
// agree: a deadline Redis already sees in the past deletes the session at
// once.
package redisstore
