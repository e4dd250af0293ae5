package session

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
	"github.com/tabkit/tabkit/tabs"
)

// countingStore counts what a Unit asks of its store.
type countingStore struct {
	store.Store
	loads, commits atomic.Int64
}

func (s *countingStore) Load(ctx context.Context, id string) (store.Record, bool, error) {
	s.loads.Add(1)
	return s.Store.Load(ctx, id)
}

func (s *countingStore) Commit(ctx context.Context, id string, d store.Delta) (store.Meta, error) {
	s.commits.Add(1)
	return s.Store.Commit(ctx, id, d)
}

func (s *countingStore) Move(ctx context.Context, from, to string, d store.Delta) (store.Meta, error) {
	s.commits.Add(1)
	return s.Store.Move(ctx, from, to, d)
}

// fixture is a Config over a memory store with a manual clock.
type fixture struct {
	t      *testing.T
	cfg    *Config
	store  *countingStore
	clock  *storetest.Clock
	events []Event
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
	mem := store.NewMemoryWith(store.MemoryOptions{Now: clock.Now, SweepInterval: -1})
	t.Cleanup(func() { mem.Close() })
	f := &fixture{t: t, store: &countingStore{Store: mem}, clock: clock}
	f.cfg = &Config{
		Store:           f.store,
		Now:             clock.Now,
		IdleTimeout:     time.Hour,
		Lifetime:        24 * time.Hour,
		TouchInterval:   time.Minute,
		TabIdleTimeout:  time.Hour,
		MaxSessionBytes: 1 << 20,
		MaxTabs:         4,
		MaxTabID:        tabs.DefaultMaxID,
		Observe:         func(e Event) { f.events = append(f.events, e) },
	}
	return f
}

// begin starts a request of the browser holding token (none for "") in
// tab 0.
func (f *fixture) begin(token string) *Unit {
	var tokens []string
	if token != "" {
		tokens = []string{token}
	}
	return f.cfg.Begin(f.t.Context(), tokens, 0, true)
}

// session creates a session holding values and returns its token.
func (f *fixture) session(values map[store.Key]string) string {
	f.t.Helper()
	u := f.begin("")
	for k, v := range values {
		must(f.t, u.Set(k, []byte(v), 0))
	}
	must(f.t, u.Finish(false))
	token, _, changed := u.Cookie()
	if !changed || token == "" {
		f.t.Fatalf("no cookie for a new session")
	}
	return token
}

// value reads k in a fresh request of token.
func (f *fixture) value(token string, k store.Key) (string, bool) {
	f.t.Helper()
	v, found, err := f.begin(token).Get(k)
	must(f.t, err)
	return string(v), found
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var (
	user = store.SessionKey("user")
	cart = store.TabKey(0, "cart")
)

func TestUntouchedUnitDoesNoIO(t *testing.T) {
	f := newFixture(t)
	token := f.session(map[store.Key]string{user: "ann"})
	loads, commits := f.store.loads.Load(), f.store.commits.Load()
	u := f.begin(token)
	must(t, u.Finish(false))
	if _, _, changed := u.Cookie(); changed {
		t.Errorf("cookie changed on an untouched request")
	}
	if f.store.loads.Load() != loads || f.store.commits.Load() != commits {
		t.Errorf("store calls: got %d loads %d commits more, want none", f.store.loads.Load()-loads, f.store.commits.Load()-commits)
	}
}

func TestTokensAreFreshAndStoredHashed(t *testing.T) {
	f := newFixture(t)
	token := f.session(map[store.Key]string{user: "ann"})
	if !ValidToken(token) {
		t.Fatalf("token %q has not the shape of a token", token)
	}
	if _, found, _ := f.store.Load(t.Context(), token); found {
		t.Errorf("the store keys a session by its token")
	}
	if _, found, _ := f.store.Load(t.Context(), store.HashToken(token)); !found {
		t.Errorf("the store does not key the session by HashToken(token)")
	}
	// A token nobody issued is never adopted.
	planted := NewToken()
	u := f.begin(planted)
	must(t, u.Set(user, []byte("eve"), 0))
	must(t, u.Finish(false))
	if got, _, _ := u.Cookie(); got == planted || got == "" {
		t.Errorf("cookie after writing with a planted token: got %q, want a new one", got)
	}
}

func TestFirstLiveCandidateWins(t *testing.T) {
	f := newFixture(t)
	token := f.session(map[store.Key]string{user: "ann"})
	u := f.cfg.Begin(t.Context(), []string{NewToken(), token}, 0, true)
	v, found, err := u.Get(user)
	if err != nil || !found || string(v) != "ann" {
		t.Fatalf("Get with a planted token first: got %q, %v, %v, want the live session's", v, found, err)
	}
	must(t, u.Set(user, []byte("bob"), 0))
	must(t, u.Finish(false))
	if _, _, changed := u.Cookie(); changed {
		t.Errorf("a write through the live token changed the cookie")
	}
}

func TestExpectations(t *testing.T) {
	other := store.SessionKey("other")
	tests := []struct {
		name string
		// mine runs in the request under test, before theirs commits;
		// then mine commits.
		mine    func(u *Unit) error
		theirs  func(u *Unit) error
		wantErr error
	}{
		{"read then set, changed meanwhile",
			func(u *Unit) error { _, _, err := u.Get(user); return err },
			func(u *Unit) error { return u.Set(user, []byte("bob"), 0) },
			store.ErrConflict},
		{"read then delete, changed meanwhile",
			func(u *Unit) error { _, _, err := u.Get(user); return err },
			func(u *Unit) error { return u.Set(user, []byte("bob"), 0) },
			store.ErrConflict},
		{"read missing then set, created meanwhile",
			func(u *Unit) error { _, _, err := u.Get(other); return err },
			func(u *Unit) error { return u.Set(other, []byte("theirs"), 0) },
			store.ErrConflict},
		{"blind set, changed meanwhile",
			func(u *Unit) error { _, err := u.Exists(); return err },
			func(u *Unit) error { return u.Set(user, []byte("bob"), 0) },
			nil},
		{"read another key",
			func(u *Unit) error { _, _, err := u.Get(other); return err },
			func(u *Unit) error { return u.Set(user, []byte("bob"), 0) },
			nil},
		{"same bytes written back meanwhile",
			func(u *Unit) error { _, _, err := u.Get(user); return err },
			func(u *Unit) error { return u.Set(user, []byte("ann"), 0) },
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			token := f.session(map[store.Key]string{user: "ann"})
			mine := f.begin(token)
			must(t, tt.mine(mine))
			theirs := f.begin(token)
			must(t, tt.theirs(theirs))
			must(t, theirs.Finish(false))
			k := user
			if tt.name == "read missing then set, created meanwhile" {
				k = other
			}
			if tt.name == "read then delete, changed meanwhile" {
				must(t, mine.Delete(k))
			} else {
				must(t, mine.Set(k, []byte("mine"), 0))
			}
			err := mine.Finish(false)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Finish: got %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if got, _ := f.value(token, user); got != "bob" && got != "ann" {
					t.Errorf("after a refused commit: user %q, want theirs", got)
				}
			}
		})
	}
}

func TestUpdateRefreshesWhatWasRead(t *testing.T) {
	f := newFixture(t)
	token := f.session(map[store.Key]string{user: "ann"})
	u := f.begin(token)
	if _, _, err := u.Get(user); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Update(user, func([]byte, bool) ([]byte, error) { return []byte("bob"), nil }, 0); err != nil {
		t.Fatal(err)
	}
	// The request knows what Update stored, so setting it again is no
	// conflict with its own write.
	must(t, u.Set(user, []byte("carol"), 0))
	must(t, u.Finish(false))
	if got, _ := f.value(token, user); got != "carol" {
		t.Errorf("user: got %q, want %q", got, "carol")
	}
}

func TestRegenerateCarriesWritesOfOtherRequests(t *testing.T) {
	f := newFixture(t)
	token := f.session(map[store.Key]string{user: "ann"})
	signIn := f.begin(token)
	if _, _, err := signIn.Get(user); err != nil { // loaded before the other write
		t.Fatal(err)
	}
	other := f.begin(token)
	must(t, other.Set(store.SessionKey("theme"), []byte("dark"), 0))
	must(t, other.Finish(false))
	must(t, signIn.SetPrincipal("ann"))
	must(t, signIn.Regenerate())
	must(t, signIn.Finish(false))
	fresh, _, changed := signIn.Cookie()
	if !changed || fresh == token || fresh[:store.FamilyPrefix] != token[:store.FamilyPrefix] {
		t.Fatalf("cookie after Regenerate: got %q (changed %v), want a new token of the same family as %q", fresh, changed, token)
	}
	if got, _ := f.value(fresh, store.SessionKey("theme")); got != "dark" {
		t.Errorf("write made meanwhile: got %q after Regenerate, want %q", got, "dark")
	}
	// A request still carrying the old token, as one racing the sign-in
	// does, is told the session moved: it neither reads, nor writes, nor
	// creates a session, nor drops the cookie.
	late := f.begin(token)
	if _, _, err := late.Get(user); !errors.Is(err, store.ErrMoved) {
		t.Errorf("Get with the old token: got %v, want %v", err, store.ErrMoved)
	}
	if err := late.Set(user, []byte("eve"), 0); !errors.Is(err, store.ErrMoved) {
		t.Errorf("Set with the old token: got %v, want %v", err, store.ErrMoved)
	}
	if _, _, changed := late.Cookie(); changed {
		t.Errorf("a request with the old token changed the cookie")
	}
	f.clock.Advance(store.MovedGrace)
	if _, found := f.value(token, user); found {
		t.Errorf("the old token answers once the trace of the move is gone")
	}
	kinds := make([]EventKind, 0, len(f.events))
	for _, e := range f.events {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Contains(kinds, EventRegenerated) || !slices.Contains(kinds, EventPrincipalChanged) {
		t.Errorf("events: got %v, want regenerated and principal changed among them", kinds)
	}
}

func TestDestroyBeforeRegenerateWins(t *testing.T) {
	f := newFixture(t)
	token := f.session(map[store.Key]string{user: "ann"})
	signIn := f.begin(token)
	if _, _, err := signIn.Get(user); err != nil {
		t.Fatal(err)
	}
	signOut := f.begin(token)
	must(t, signOut.Destroy())
	must(t, signOut.Finish(false))
	if err := signIn.Regenerate(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Regenerate after Destroy: got %v, want ErrNotFound", err)
	}
	if _, _, changed := signIn.Cookie(); changed {
		t.Errorf("a refused Regenerate still hands out a cookie")
	}
	if token, _, changed := signOut.Cookie(); !changed || token != "" {
		t.Errorf("Destroy's cookie: got %q (changed %v), want removal", token, changed)
	}
}

func TestFailedRequestCommitsNothingQueued(t *testing.T) {
	f := newFixture(t)
	token := f.session(map[store.Key]string{user: "ann"})
	u := f.begin(token)
	must(t, u.Set(store.SessionKey("half"), []byte("done"), 0))
	must(t, u.Finish(true))
	if _, found := f.value(token, store.SessionKey("half")); found {
		t.Errorf("a failed request's queued write landed")
	}
}

func TestAfterFinish(t *testing.T) {
	tests := []struct {
		name    string
		session bool
		change  func(u *Unit) error
		wantErr error
		check   func(f *fixture, token string) bool
	}{
		{"set lands at once", true, func(u *Unit) error { return u.Set(user, []byte("late"), 0) }, nil,
			func(f *fixture, token string) bool { v, _ := f.value(token, user); return v == "late" }},
		{"delete lands at once", true, func(u *Unit) error { return u.Delete(user) }, nil,
			func(f *fixture, token string) bool { _, found := f.value(token, user); return !found }},
		{"set without a session needs a cookie", false, func(u *Unit) error { return u.Set(user, []byte("late"), 0) }, ErrResponseStarted, nil},
		{"regenerate needs a cookie", true, func(u *Unit) error { return u.Regenerate() }, ErrResponseStarted, nil},
		{"update without a session", false, func(u *Unit) error {
			_, err := u.Update(user, func([]byte, bool) ([]byte, error) { return []byte("x"), nil }, 0)
			return err
		}, ErrResponseStarted, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			token := ""
			if tt.session {
				token = f.session(map[store.Key]string{user: "ann"})
			}
			u := f.begin(token)
			must(t, u.Finish(false))
			if err := tt.change(u); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("change after Finish: got %v, want %v", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(f, token) {
				t.Errorf("the change did not land")
			}
		})
	}
}

func TestClosingTabZeroForgetsItsValues(t *testing.T) {
	f := newFixture(t)
	token := f.session(map[store.Key]string{cart: "tea", user: "ann"})
	u := f.begin(token)
	must(t, u.CloseTab())
	if v, found, err := u.Get(cart); found || err != nil {
		t.Errorf("tab 0's cart after its Close, same request: got %q, %v, %v", v, found, err)
	}
	must(t, u.Finish(false))
	if _, found := f.value(token, cart); found {
		t.Errorf("tab 0's cart after its Close: still stored")
	}
	if v, _ := f.value(token, user); v != "ann" {
		t.Errorf("session value after tab 0's Close: got %q, want %q", v, "ann")
	}
}

func TestUpkeepRidesOnAnyLoadedSession(t *testing.T) {
	for _, tt := range []struct {
		name   string
		hasTab bool
	}{{"tab 0", true}, {"no tab (exempt path)", false}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			token := f.session(map[store.Key]string{user: "ann"})
			u := f.begin(token)
			idle, err := u.OpenTab(FreshTab, nil)
			must(t, err)
			must(t, u.Finish(false))
			f.clock.Advance(2 * time.Hour)
			u = f.cfg.Begin(t.Context(), []string{token}, 0, tt.hasTab)
			if _, _, err := u.Get(user); err != nil {
				t.Fatal(err)
			}
			must(t, u.Finish(false))
			m, err := f.begin(token).Meta()
			must(t, err)
			if _, open := m.Tabs[uint32(idle)]; open {
				t.Errorf("idle tab %d still open after a request that loaded the session", idle)
			}
		})
	}
}

func TestValuesWithATimeToLive(t *testing.T) {
	f := newFixture(t)
	token := f.session(map[store.Key]string{user: "ann"})
	u := f.begin(token)
	otp := store.SessionKey("otp")
	must(t, u.Set(otp, []byte("123456"), 5*time.Minute))
	must(t, u.Finish(false))
	if v, _ := f.value(token, otp); v != "123456" {
		t.Fatalf("otp before its deadline: got %q", v)
	}
	f.clock.Advance(5 * time.Minute)
	if _, found := f.value(token, otp); found {
		t.Errorf("otp after its deadline: still readable")
	}
}

func TestCookieDecision(t *testing.T) {
	tests := []struct {
		name       string
		persistent bool
		remember   *bool
		wantExpiry bool
	}{
		{"browser session by default", false, nil, false},
		{"persistent by config", true, nil, true},
		{"remember me overrides", false, new(bool), false},
		{"remember me on", false, func() *bool { b := true; return &b }(), true},
		{"remember me off overrides config", true, new(bool), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.PersistentCookies = tt.persistent
			u := f.begin("")
			must(t, u.Set(user, []byte("ann"), 0))
			if tt.remember != nil {
				must(t, u.RememberMe(*tt.remember))
			}
			must(t, u.Finish(false))
			_, expires, changed := u.Cookie()
			if !changed || expires.IsZero() == tt.wantExpiry {
				t.Errorf("cookie: changed %v, expires %v; want expiry %v", changed, expires, tt.wantExpiry)
			}
		})
	}
}

func TestEvictTabsPrefersUnusedTabs(t *testing.T) {
	now := time.Now()
	tab := func(minutesAgo int, bytes int64, label string) store.TabInfo {
		at := now.Add(-time.Duration(minutesAgo) * time.Minute)
		return store.TabInfo{Created: at, LastSeen: at, Bytes: bytes, Label: label}
	}
	tests := []struct {
		name  string
		tabs  map[uint32]store.TabInfo
		keep  uint32
		spare []uint32
		max   int
		want  []uint32
	}{
		{"within the limit", map[uint32]store.TabInfo{1: tab(1, 0, "")}, 1, nil, 4, nil},
		{"empty before data, whatever their age",
			map[uint32]store.TabInfo{1: tab(90, 10, ""), 2: tab(1, 0, ""), 3: tab(50, 10, ""), 4: tab(0, 0, "")}, 4, nil, 3, []uint32{2, 1}},
		{"a label counts as use",
			map[uint32]store.TabInfo{1: tab(90, 0, "Till"), 2: tab(1, 0, ""), 3: tab(0, 0, "")}, 3, nil, 2, []uint32{2, 1}},
		{"tab 0 is never closed",
			map[uint32]store.TabInfo{0: tab(99, 0, ""), 1: tab(5, 1, ""), 2: tab(0, 0, "")}, 2, nil, 2, []uint32{1}},
		{"the tab a fork copies goes last among tabs with data",
			map[uint32]store.TabInfo{1: tab(90, 10, ""), 2: tab(50, 10, ""), 3: tab(0, 0, "")}, 3, []uint32{1}, 3, []uint32{2}},
		{"an empty tab the request stands on still goes before data",
			map[uint32]store.TabInfo{1: tab(90, 10, ""), 2: tab(1, 0, ""), 3: tab(0, 0, "")}, 3, []uint32{2}, 3, []uint32{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &store.Meta{Tabs: tt.tabs}
			if got := evictTabs(m, tt.max, tt.keep, tt.spare); !slices.Equal(got, tt.want) {
				t.Errorf("evictTabs: got %v, want %v", got, tt.want)
			}
		})
	}
}
