package pgstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// schemaSQL makes the tables of the current schema version, with the
// default prefix. It is the file the package docs show.
//
//go:embed schema.sql
var schemaSQL string

// SchemaVersion is the version of the tables this code reads and writes,
// the one schema.sql makes and the schema table records.
const SchemaVersion = 1

// upgrades[v] turns tables of version v into version v+1, with the
// default prefix. Version 1 is the first, so there are none yet; each
// later version adds its step here and to schema.sql.
var upgrades = map[int]string{}

// defaultPrefix finds the default table prefix at the start of a name in
// the schema's SQL.
var defaultPrefix = regexp.MustCompile(`\btabkit_`)

// withPrefix returns sql with the default table prefix replaced by prefix.
func withPrefix(sql, prefix string) string {
	return defaultPrefix.ReplaceAllLiteralString(sql, prefix)
}

// ensureSchema makes the store's tables when the database has none, or
// upgrades them, in one transaction; stores opening at once take turns
// on an advisory lock. Tables of a newer version are refused.
func ensureSchema(ctx context.Context, pool *pgxpool.Pool, prefix string) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey(prefix, "schema", "")); err != nil {
		return err
	}
	var table *string
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1)::text", prefix+"schema").Scan(&table); err != nil {
		return err
	}
	if table == nil {
		if _, err := tx.Exec(ctx, withPrefix(schemaSQL, prefix)); err != nil {
			return fmt.Errorf("creating the tables: %w", err)
		}
		return tx.Commit(ctx)
	}
	var version int
	err = tx.QueryRow(ctx, "SELECT version FROM "+prefix+"schema").Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("pgstore: table %sschema has no version row", prefix)
	case err != nil:
		return err
	case version > SchemaVersion:
		return fmt.Errorf("%w: the tables %s* are at schema version %d, this code knows versions up to %d", ErrSchemaTooNew, prefix, version, SchemaVersion)
	case version == SchemaVersion:
		return nil
	}
	for v := version; v < SchemaVersion; v++ {
		step, ok := upgrades[v]
		if !ok {
			return fmt.Errorf("pgstore: no upgrade from schema version %d", v)
		}
		if _, err := tx.Exec(ctx, withPrefix(step, prefix)); err != nil {
			return fmt.Errorf("upgrading the tables from schema version %d: %w", v, err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE "+prefix+"schema SET version = $1", SchemaVersion); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
