package pgstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/tabkit/tabkit/store"
)

// TestSchemaCreatedOnce opens eight stores at once on a database without
// their tables: they take turns, one creates the tables, and all work.
func TestSchemaCreatedOnce(t *testing.T) {
	url := pgURL(t)
	prefix := uniquePrefix(t, url)
	const n = 8
	stores := make([]*Store, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := Open(t.Context(), url, &Options{TablePrefix: prefix, SweepInterval: -1})
			if err != nil {
				t.Errorf("Open #%d: %v", i, err)
				return
			}
			t.Cleanup(func() { _ = s.Close() })
			stores[i] = s
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if v := queryInt(t, url, "SELECT version FROM "+prefix+"schema"); v != SchemaVersion {
		t.Errorf("schema version: got %d, want %d", v, SchemaVersion)
	}
	if rows := queryInt(t, url, "SELECT count(*) FROM "+prefix+"schema"); rows != 1 {
		t.Errorf("schema rows: got %d, want 1", rows)
	}
	mustCommit(t, stores[0], "shared", store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("a"): []byte("1")}})
	if rec, found, err := stores[n-1].Load(t.Context(), "shared"); err != nil || !found || string(rec.Values[store.SessionKey("a")]) != "1" {
		t.Errorf("Load through another store: got %v, %v, %v, want the session", rec.Values, found, err)
	}
}

// TestSchemaVersions checks what New does with the version the tables
// record: newer is refused with both versions named, older is upgraded
// in the same transaction, a missing version row is an error.
func TestSchemaVersions(t *testing.T) {
	url := pgURL(t)
	prefix := uniquePrefix(t, url)
	open := func() error {
		s, err := Open(t.Context(), url, &Options{TablePrefix: prefix, SweepInterval: -1})
		if err == nil {
			_ = s.Close()
		}
		return err
	}
	if err := open(); err != nil {
		t.Fatalf("Open on an empty database: %v", err)
	}

	execSQL(t, url, "UPDATE "+prefix+"schema SET version = $1", SchemaVersion+1)
	err := open()
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open on tables of version %d: got %v, want %v", SchemaVersion+1, err, ErrSchemaTooNew)
	}
	for _, want := range []string{fmt.Sprintf("version %d", SchemaVersion+1), fmt.Sprintf("up to %d", SchemaVersion), prefix} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if v := queryInt(t, url, "SELECT version FROM "+prefix+"schema"); v != SchemaVersion+1 {
		t.Errorf("version after a refused Open: got %d, want %d (left alone)", v, SchemaVersion+1)
	}

	// An older version is upgraded step by step. Version 1 is the first,
	// so the test makes up the step from a version 0.
	execSQL(t, url, "UPDATE "+prefix+"schema SET version = 0")
	if err := open(); err == nil || !strings.Contains(err.Error(), "no upgrade from schema version 0") {
		t.Errorf("Open on version 0 without an upgrade step: got %v, want an error saying so", err)
	}
	upgrades[0] = "ALTER TABLE tabkit_sessions ADD COLUMN upgraded boolean"
	t.Cleanup(func() { delete(upgrades, 0) })
	if err := open(); err != nil {
		t.Fatalf("Open on version 0 with an upgrade step: %v", err)
	}
	if v := queryInt(t, url, "SELECT version FROM "+prefix+"schema"); v != SchemaVersion {
		t.Errorf("version after the upgrade: got %d, want %d", v, SchemaVersion)
	}
	if n := queryInt(t, url, "SELECT count(*) FROM information_schema.columns WHERE table_name = $1 AND column_name = 'upgraded'", prefix+"sessions"); n != 1 {
		t.Errorf("the upgrade step did not run on %ssessions (with the store's prefix)", prefix)
	}

	execSQL(t, url, "DELETE FROM "+prefix+"schema")
	if err := open(); err == nil || !strings.Contains(err.Error(), "no version row") {
		t.Errorf("Open without a version row: got %v, want an error saying so", err)
	}
}

// TestSchemaDocumented checks that the package doc shows the tables as
// schema.sql makes them: every line of its CREATE TABLE, CREATE INDEX
// and INSERT statements.
func TestSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for stmt := range strings.SplitSeq(schemaSQL, ";\n") {
		var lines []string
		for line := range strings.SplitSeq(stmt, "\n") {
			if line != "" && !strings.HasPrefix(line, "--") {
				lines = append(lines, line)
			}
		}
		if len(lines) == 0 || !strings.HasPrefix(lines[0], "CREATE TABLE") && !strings.HasPrefix(lines[0], "CREATE INDEX") && !strings.HasPrefix(lines[0], "INSERT") {
			continue // the triggers and their functions, which the doc only mentions
		}
		for _, line := range lines {
			checked++
			if !strings.Contains(string(doc), "//\t"+line+"\n") && !strings.Contains(string(doc), "//\t"+line+";\n") {
				t.Errorf("doc.go does not show this line of schema.sql:\n%s", line)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked %d lines of schema.sql, want the tables' (20 or more)", checked)
	}
}

// TestTablePrefix checks that prefixes keep stores apart and that one
// that is not a plain identifier is refused before any SQL runs.
func TestTablePrefix(t *testing.T) {
	url := pgURL(t)
	a := newTestStore(t, Options{}, 0)
	b := newTestStore(t, Options{}, 0)
	mustCommit(t, a, "same-id", store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("who"): []byte("a")}})
	mustCommit(t, b, "same-id", store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("who"): []byte("b")}})
	for want, s := range map[string]*testStore{"a": a, "b": b} {
		rec, _, err := s.Load(t.Context(), "same-id")
		if got := string(rec.Values[store.SessionKey("who")]); err != nil || got != want {
			t.Errorf("store %s: got %q, %v, want its own value %q", s.prefix, got, err, want)
		}
	}

	for _, prefix := range []string{
		"Tabkit_", "1tabkit", "tab-kit_", "tabkit_; DROP TABLE x; --", "public.tabkit_", "tabkit ", "täbkit_",
		strings.Repeat("x", 41),
	} {
		_, err := New(t.Context(), newCountingPool(t, url, &tripCounter{}, 1), &Options{TablePrefix: prefix})
		if err == nil || !strings.Contains(err.Error(), "table prefix") {
			t.Errorf("New with prefix %q: got %v, want an error about the table prefix", prefix, err)
		}
	}
}
