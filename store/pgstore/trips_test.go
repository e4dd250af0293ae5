package pgstore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// TestRoundTrips checks the promises of the package doc: Load is one
// query and one round trip, Delete one, and a Commit or Move two (the
// lock and reads, then the writes and COMMIT), whatever the delta holds.
// It counts on the wire, not in the driver: a pgx batch is one round
// trip however many statements it carries.
func TestRoundTrips(t *testing.T) {
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	// One connection, so the warm-up below has prepared every statement
	// on the connection the counted calls use.
	s := newTestStore(t, Options{Now: clock.Now}, 1)
	ctx := t.Context()
	now := clock.Now()
	const id = "trips"
	to := "trips-moved"
	cart := store.TabKey(0, "cart")
	increment := func(old []byte, _ bool) ([]byte, error) { return append(old, '+'), nil }

	ops := []struct {
		name              string
		op                func() error
		trips, statements int
	}{
		{"create", func() error {
			_, err := s.Commit(ctx, id, store.Delta{
				Create: true, IdleDeadline: now.Add(time.Hour), AbsDeadline: now.Add(24 * time.Hour),
				Set: map[store.Key][]byte{store.SessionKey("user"): []byte("alice")},
			})
			return err
		}, 2, 6}, // begin, lock, read; insert, put, commit
		{"load", func() error { _, _, err := s.Load(ctx, id); return err }, 1, 1},
		// A miss also asks whether a Move moved the ID away lately.
		{"load of a missing session", func() error { _, _, err := s.Load(ctx, "missing"); return err }, 2, 2},
		{"set", func() error {
			_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{cart: []byte("[1]")}})
			return err
		}, 2, 6},
		{"set, delete and a touch", func() error {
			_, err := s.Commit(ctx, id, store.Delta{
				LastSeen: now.Add(time.Minute), IdleDeadline: now.Add(time.Hour + time.Minute),
				Set:    map[store.Key][]byte{store.SessionKey("b"): []byte("2")},
				Delete: []store.Key{store.SessionKey("user")},
			})
			return err
		}, 2, 7},
		{"touch", func() error {
			_, err := s.Commit(ctx, id, store.Delta{LastSeen: now.Add(2 * time.Minute)})
			return err
		}, 2, 4},
		{"update", func() error {
			_, err := s.Commit(ctx, id, store.Delta{Update: map[store.Key]store.UpdateFunc{cart: increment}})
			return err
		}, 2, 6},
		{"edit meta", func() error {
			_, err := s.Commit(ctx, id, store.Delta{EditMeta: func(m *store.Meta) error {
				m.Tabs[m.NextTab] = store.TabInfo{Created: now, LastSeen: now}
				return nil
			}})
			return err
		}, 2, 4},
		{"refused set (tab not open): a rollback", func() error {
			_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{store.TabKey(99, "x"): []byte("1")}})
			if !errors.Is(err, store.ErrNoTab) {
				return fmt.Errorf("got %v, want %v", err, store.ErrNoTab)
			}
			return nil
		}, 2, 4},
		{"create of a live session: a rollback", func() error {
			_, err := s.Commit(ctx, id, store.Delta{Create: true})
			if !errors.Is(err, store.ErrExists) {
				return fmt.Errorf("got %v, want %v", err, store.ErrExists)
			}
			return nil
		}, 2, 3},
		{"move", func() error {
			_, err := s.Move(ctx, id, to, store.Delta{SetPrincipal: true, Principal: "alice"})
			return err
		}, 2, 5},
		{"sign-in under a limit", func() error {
			_, err := s.Commit(ctx, to, store.Delta{SetPrincipal: true, Principal: "bob", PrincipalLimit: store.PrincipalLimit{Max: 3}})
			return err
		}, 2, 6},
		{"delete", func() error { return s.Delete(ctx, to) }, 1, 1},
	}
	// Warm-up: every statement once, so pgx has prepared them all.
	for _, o := range ops {
		if err := o.op(); err != nil {
			t.Fatalf("warm-up %s: %v", o.name, err)
		}
	}
	s.trips.take()

	for _, o := range ops {
		if err := o.op(); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		trips, statements := s.trips.take()
		if trips != o.trips || len(statements) != o.statements {
			t.Errorf("%s: got %d round trips, %d statements, want %d, %d\n\t%s", o.name, trips, len(statements), o.trips, o.statements, strings.Join(statements, "\n\t"))
		}
		t.Logf("%-40s %d round trips, %d statements", o.name, trips, len(statements))
	}
}
