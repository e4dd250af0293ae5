-- The tables of store/pgstore, schema version 1, with the default table
-- prefix tabkit_. The store runs this file itself (with its own prefix)
-- on a database that has none of its tables; it is also valid as it
-- stands, for a DBA who prefers to create them by hand:
--
--   psql "$DATABASE_URL" -1 -f schema.sql

-- One row per session. id is store.HashToken of the cookie's token, never
-- the token. meta is store.AppendMeta (deadlines, tab table, value
-- deadlines) and is what the store reads; the other columns copy the
-- parts of it that SQL looks up: expires_at is the earlier deadline
-- rounded up to the microsecond (NULL: never).
CREATE TABLE tabkit_sessions (
	id         bytea PRIMARY KEY,
	meta       bytea NOT NULL,
	principal  text,
	expires_at timestamptz,
	last_seen  timestamptz NOT NULL,
	bytes      bigint NOT NULL,
	version    bigint NOT NULL
);
CREATE INDEX tabkit_sessions_expires_at ON tabkit_sessions (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX tabkit_sessions_principal ON tabkit_sessions (principal) WHERE principal IS NOT NULL;

-- One row per value. key is store.AppendKey: 's' + name for a
-- session-wide key, 't' + the tab number in 4 bytes + name for a tab's.
CREATE TABLE tabkit_values (
	session_id bytea NOT NULL REFERENCES tabkit_sessions (id) ON UPDATE CASCADE ON DELETE CASCADE,
	key        bytea NOT NULL,
	value      bytea NOT NULL,
	PRIMARY KEY (session_id, key)
);

-- IDs that Move moved away, until when they answer store.ErrMoved, so a
-- request that raced a sign-in can tell it from a session that ended.
-- Rows are few (the moves of the last store.MovedGrace); Sweep drops the
-- old ones.
CREATE TABLE tabkit_moved (
	id    bytea PRIMARY KEY,
	until timestamptz NOT NULL
);

-- How many rows tabkit_sessions has, kept by the triggers below in the
-- transaction that inserts or deletes them, so that MaxSessions needs no
-- count(*).
CREATE TABLE tabkit_counts (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	sessions  bigint NOT NULL
);
INSERT INTO tabkit_counts (sessions) VALUES (0);

CREATE FUNCTION tabkit_sessions_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	UPDATE tabkit_counts SET sessions = sessions + (SELECT count(*) FROM added)
	WHERE EXISTS (SELECT FROM added);
	RETURN NULL;
END $$;
CREATE FUNCTION tabkit_sessions_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	UPDATE tabkit_counts SET sessions = sessions - (SELECT count(*) FROM removed)
	WHERE EXISTS (SELECT FROM removed);
	RETURN NULL;
END $$;
CREATE FUNCTION tabkit_sessions_truncated() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	UPDATE tabkit_counts SET sessions = 0;
	RETURN NULL;
END $$;
CREATE TRIGGER tabkit_sessions_added AFTER INSERT ON tabkit_sessions
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION tabkit_sessions_added();
CREATE TRIGGER tabkit_sessions_removed AFTER DELETE ON tabkit_sessions
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION tabkit_sessions_removed();
CREATE TRIGGER tabkit_sessions_truncated AFTER TRUNCATE ON tabkit_sessions
	FOR EACH STATEMENT EXECUTE FUNCTION tabkit_sessions_truncated();

-- Which version of this file the tables follow. A store refuses tables
-- of a version newer than its own.
CREATE TABLE tabkit_schema (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	version   integer NOT NULL
);
INSERT INTO tabkit_schema (version) VALUES (1);
