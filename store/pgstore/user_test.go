package pgstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// userTable makes the application's users table under prefix, as an
// application would have it: its own key type and columns.
func userTable(t *testing.T, url, prefix string) string {
	t.Helper()
	users := prefix + "users"
	execSQL(t, url, `CREATE TABLE `+users+` (id bigint PRIMARY KEY, name text NOT NULL, roles text[] NOT NULL)`)
	execSQL(t, url, `INSERT INTO `+users+` VALUES (1, 'Ann', '{cashier}'), (2, 'Bob', '{cashier,manager}')`)
	return users
}

// TestUserJoin loads sessions and their users in one query: the user's
// row arrives as Record.User, and is nil without a principal or a user.
func TestUserJoin(t *testing.T) {
	url := pgURL(t)
	prefix := uniquePrefix(t, url)
	users := userTable(t, url, prefix)
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	s := newTestStore(t, Options{
		TablePrefix: prefix,
		Now:         clock.Now,
		UserJoin:    "LEFT JOIN " + users + " u ON u.id::text = s.principal",
		UserColumns: "to_jsonb(u)",
	}, 1)
	ctx := t.Context()
	now := clock.Now()
	create := func(id, principal string) {
		t.Helper()
		mustCommit(t, s, id, store.Delta{
			Create: true, IdleDeadline: now.Add(time.Hour),
			Set:          map[store.Key][]byte{store.SessionKey("cart"): []byte("[]")},
			SetPrincipal: principal != "", Principal: principal,
		})
	}
	create("ann", "1")
	create("bob", "2")
	create("guest", "")
	create("stranger", "99")

	type user struct {
		ID    int      `json:"id"`
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	tests := []struct {
		id   string
		want *user
	}{
		{"ann", &user{1, "Ann", []string{"cashier"}}},
		{"bob", &user{2, "Bob", []string{"cashier", "manager"}}},
		{"guest", nil},
		{"stranger", nil},
	}
	// The first Load on the connection prepares the statement, a round
	// trip of its own; every later one is a single round trip.
	if _, _, err := s.Load(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		s.trips.take()
		rec, found, err := s.Load(ctx, tt.id)
		trips, statements := s.trips.take()
		if err != nil || !found {
			t.Fatalf("Load(%q): got found=%v, %v, want found, nil", tt.id, found, err)
		}
		if trips != 1 || len(statements) != 1 {
			t.Errorf("Load(%q): got %d round trips, %d statements, want 1, 1", tt.id, trips, len(statements))
		}
		if got := string(rec.Values[store.SessionKey("cart")]); got != "[]" {
			t.Errorf("Load(%q) cart: got %q, want %q", tt.id, got, "[]")
		}
		if tt.want == nil {
			if rec.User != nil {
				t.Errorf("Load(%q).User: got %s, want nil", tt.id, rec.User)
			}
			continue
		}
		var got user
		if err := json.Unmarshal(rec.User, &got); err != nil {
			t.Fatalf("Load(%q).User %q: %v", tt.id, rec.User, err)
		}
		if !reflect.DeepEqual(&got, tt.want) {
			t.Errorf("Load(%q).User: got %+v, want %+v", tt.id, got, *tt.want)
		}
	}

	// The user is read afresh by every Load: a change to the row shows.
	execSQL(t, url, `UPDATE `+users+` SET name = 'Ann B.' WHERE id = 1`)
	rec, _, err := s.Load(ctx, "ann")
	if err != nil || !strings.Contains(string(rec.User), `"Ann B."`) {
		t.Errorf("Load after the user changed: got %s, %v, want the new name", rec.User, err)
	}
	// Without a join there is no user, and no column for it.
	plain := newTestStore(t, Options{TablePrefix: prefix, Now: clock.Now}, 1)
	if rec, _, err := plain.Load(ctx, "ann"); err != nil || rec.User != nil {
		t.Errorf("Load without a join: got User %s, %v, want nil, nil", rec.User, err)
	}
}

// TestUserJoinMistakes checks that a join PostgreSQL rejects fails at
// New, and one that matches several rows fails the Load that meets it
// rather than picking one.
func TestUserJoinMistakes(t *testing.T) {
	url := pgURL(t)
	prefix := uniquePrefix(t, url)
	users := userTable(t, url, prefix)
	for _, tt := range []struct {
		name          string
		join, columns string
		wantInMessage string
	}{
		{"no such table", "LEFT JOIN " + prefix + "nobody u ON u.id::text = s.principal", "to_jsonb(u)", "nobody"},
		{"syntax", "LEFT JOIN " + users + " u ON", "to_jsonb(u)", "syntax"},
		{"not json", "LEFT JOIN " + users + " u ON u.id::text = s.principal", "u.roles", "jsonb"},
		{"no columns", "LEFT JOIN " + users + " u ON u.id::text = s.principal", "", "UserColumns"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), newCountingPool(t, url, &tripCounter{}, 1), &Options{TablePrefix: prefix, UserJoin: tt.join, UserColumns: tt.columns, SweepInterval: -1})
			if err == nil || !strings.Contains(err.Error(), tt.wantInMessage) {
				t.Errorf("New: got %v, want an error mentioning %q", err, tt.wantInMessage)
			}
		})
	}

	// A join on something that is not unique.
	s := newTestStore(t, Options{
		TablePrefix: prefix,
		UserJoin:    "LEFT JOIN " + users + " u ON u.name <> ''",
		UserColumns: "to_jsonb(u)",
	}, 1)
	mustCommit(t, s, "many", store.Delta{Create: true, SetPrincipal: true, Principal: "1"})
	if _, _, err := s.Load(t.Context(), "many"); err == nil || !strings.Contains(err.Error(), "several rows") {
		t.Errorf("Load with a join matching two users: got %v, want an error saying it matched several rows", err)
	}
}
