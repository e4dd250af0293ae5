package pgstore

// queries are the store's statements with its table prefix in place. Each
// is one fixed string, so pgx prepares it once per connection.
type queries struct {
	// load returns the session's meta, its keys and values as two arrays
	// in one order, and, with a user join, the user.
	load string

	// lockRows locks the rows of the IDs given, in the order of their IDs
	// so two Moves never wait for each other in a circle.
	lockRows string
	// readValues returns the values of some keys of one session.
	readValues string
	// others lists the live sessions of a principal but the IDs given.
	others string
	// counted returns the number of stored sessions.
	counted string

	insertSession string
	updateSession string
	// moveSession is updateSession that also gives the row a new ID; the
	// values follow (ON UPDATE CASCADE).
	moveSession    string
	deleteSession  string
	deleteSessions string

	putValues       string
	deleteValues    string
	deleteAllValues string
	// dropTabs deletes every value whose key starts with one of the
	// 5-byte tab prefixes given.
	dropTabs string

	// markMoved, movedAt, forgetMoved and sweepMoved keep the moved
	// table: the IDs Move moved away, for store.MovedGrace.
	markMoved   string
	movedAt     string
	forgetMoved string
	sweepMoved  string

	sweep      string
	list       string
	stats      string
	sessionsOf string
}

func newQueries(prefix, userJoin, userColumns string) queries {
	sessions, values := prefix+"sessions", prefix+"values"
	// liveAt is the condition of a live session with the time in $n.
	liveAt := func(n string) string { return "(expires_at IS NULL OR expires_at > $" + n + ")" }
	user := ""
	if userJoin != "" {
		user = ", (" + userColumns + ")::jsonb"
	}
	return queries{
		load: `SELECT s.meta, v.keys, v.vals` + user + `
FROM ` + sessions + ` s
LEFT JOIN LATERAL (
	SELECT array_agg(key ORDER BY key) AS keys, array_agg(value ORDER BY key) AS vals
	FROM ` + values + ` WHERE session_id = s.id
) v ON true
` + userJoin + `
WHERE s.id = $1 AND (s.expires_at IS NULL OR s.expires_at > $2)`,

		lockRows:   `SELECT id, meta FROM ` + sessions + ` WHERE id = ANY($1) ORDER BY id FOR UPDATE`,
		readValues: `SELECT key, value FROM ` + values + ` WHERE session_id = $1 AND key = ANY($2)`,
		others:     `SELECT id, meta FROM ` + sessions + ` WHERE principal = $1 AND id <> ALL($2) AND ` + liveAt("3"),
		counted:    `SELECT sessions FROM ` + prefix + `counts`,

		insertSession: `INSERT INTO ` + sessions + ` (id, meta, principal, expires_at, last_seen, bytes, version)
VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		updateSession: `UPDATE ` + sessions + ` SET meta = $2, principal = $3, expires_at = $4, last_seen = $5, bytes = $6, version = $7
WHERE id = $1`,
		moveSession: `UPDATE ` + sessions + ` SET id = $8, meta = $2, principal = $3, expires_at = $4, last_seen = $5, bytes = $6, version = $7
WHERE id = $1`,
		deleteSession:  `DELETE FROM ` + sessions + ` WHERE id = $1`,
		deleteSessions: `DELETE FROM ` + sessions + ` WHERE id = ANY($1)`,

		putValues: `INSERT INTO ` + values + ` (session_id, key, value)
SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS t(k, v)
ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
		deleteValues:    `DELETE FROM ` + values + ` WHERE session_id = $1 AND key = ANY($2)`,
		deleteAllValues: `DELETE FROM ` + values + ` WHERE session_id = $1`,
		dropTabs:        `DELETE FROM ` + values + ` WHERE session_id = $1 AND substring(key FROM 1 FOR 5) = ANY($2)`,

		markMoved: `INSERT INTO ` + prefix + `moved (id, until) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET until = excluded.until`,
		movedAt:     `SELECT true FROM ` + prefix + `moved WHERE id = $1 AND until > $2`,
		forgetMoved: `WITH trace AS (DELETE FROM ` + prefix + `moved WHERE id = $1) DELETE FROM ` + sessions + ` WHERE id = $1`,
		sweepMoved:  `DELETE FROM ` + prefix + `moved WHERE until <= $1`,

		sweep: `DELETE FROM ` + sessions + ` WHERE id IN (
	SELECT id FROM ` + sessions + ` WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING id, coalesce(principal, ''), bytes`,
		list:       `SELECT id, meta FROM ` + sessions + ` WHERE id > $1 AND ` + liveAt("2") + ` ORDER BY id LIMIT $3`,
		sessionsOf: `SELECT id, meta FROM ` + sessions + ` WHERE principal = $1 AND ` + liveAt("2"),
		stats: `SELECT count(*), coalesce(sum(bytes), 0)::bigint, count(*) FILTER (WHERE expires_at <= $1),
	pg_total_relation_size('` + sessions + `') + pg_total_relation_size('` + values + `')
FROM ` + sessions,
	}
}
