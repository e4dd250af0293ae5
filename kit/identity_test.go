package kit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// addIdentityRoutes registers sign-in (with a principal), a listing of
// the principal's other sessions, and sign-out everywhere else.
func addIdentityRoutes(a *testApp) {
	a.handle(http.MethodPost, "/signin", func(w http.ResponseWriter, r *http.Request) {
		s := SessionOf(r)
		if err := s.Regenerate(); err != nil {
			fail(w, r, err)
			return
		}
		if err := s.SetPrincipal(r.FormValue("user")); err != nil {
			fail(w, r, err)
			return
		}
		if r.FormValue("remember") != "" {
			if err := s.RememberMe(r.FormValue("remember") == "on"); err != nil {
				fail(w, r, err)
				return
			}
		}
		writeText(w, http.StatusOK, "signed in")
	})
	a.handle(http.MethodGet, "/others", func(w http.ResponseWriter, r *http.Request) {
		list, err := SessionOf(r).OtherSessions()
		if err != nil {
			fail(w, r, err)
			return
		}
		_ = json.NewEncoder(w).Encode(list)
	})
	a.handle(http.MethodPost, "/end-others", func(w http.ResponseWriter, r *http.Request) {
		n, err := SessionOf(r).EndOtherSessions()
		if err != nil {
			fail(w, r, err)
			return
		}
		writeText(w, http.StatusOK, fmt.Sprint(n))
	})
	a.handle(http.MethodGet, "/whoami", func(w http.ResponseWriter, r *http.Request) {
		p, err := SessionOf(r).Principal()
		if err != nil {
			fail(w, r, err)
			return
		}
		writeText(w, http.StatusOK, p)
	})
}

func TestPrincipalsAndSignOutEverywhere(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		var mu sync.Mutex
		var events []string
		app := newTestApp(t, a, Config{Observe: func(e Event) {
			if e.Kind == EventCommit {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e.Kind.String()+" "+e.Principal)
		}})
		addIdentityRoutes(app)
		tills := make([]*browser, 3)
		for i := range tills {
			tills[i] = app.browser()
			tills[i].post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
			tills[i].post("/0/signin", url.Values{"user": {"ann"}}).mustStatus(t, http.StatusOK)
		}
		other := app.browser()
		other.post("/0/signin", url.Values{"user": {"bob"}}).mustStatus(t, http.StatusOK)
		if got := tills[0].get("/0/whoami").body; got != "ann" {
			t.Fatalf("principal: got %q, want ann", got)
		}
		var list []SessionInfo
		if err := json.Unmarshal([]byte(tills[0].get("/0/others").body), &list); err != nil || len(list) != 2 {
			t.Fatalf("other sessions of ann: got %v (%v), want 2", list, err)
		}
		for _, si := range list {
			if si.Principal != "ann" || si.Handle == "" || strings.Contains(si.Handle, tills[1].cookie()) || strings.Contains(si.Handle, tills[2].cookie()) {
				t.Errorf("listed %+v: want ann's, with a handle that is no token", si)
			}
		}
		if got := tills[0].post("/0/end-others", nil).mustStatus(t, http.StatusOK).body; got != "2" {
			t.Errorf("ended: got %s, want 2", got)
		}
		for i, till := range tills[1:] {
			if r := till.get("/0/whoami"); r.body != "" {
				t.Errorf("till %d after sign-out everywhere else: principal %q, want none", i+1, r.body)
			}
		}
		if got := tills[0].get("/0/whoami").body; got != "ann" {
			t.Errorf("the till that asked: principal %q, want ann", got)
		}
		if got := other.get("/0/whoami").body; got != "bob" {
			t.Errorf("another principal's till: %q, want bob", got)
		}
		list, err := app.m.SessionsOf(t.Context(), "bob")
		if err != nil || len(list) != 1 {
			t.Fatalf("SessionsOf(bob): %v, %v", list, err)
		}
		if n, err := app.m.EndSessionsOf(t.Context(), "bob"); n != 1 || err != nil {
			t.Errorf("EndSessionsOf(bob): %d, %v, want 1", n, err)
		}
		if got := other.get("/0/whoami").body; got != "" {
			t.Errorf("bob after EndSessionsOf: %q, want signed out", got)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, want := range []string{"created ", "principal_changed ann", "principal_changed bob", "destroyed ann", "destroyed bob"} {
			if !slices.Contains(events, want) {
				t.Errorf("events lack %q: %q", want, events)
			}
		}
	})
}

func TestMaxSessionsPerPrincipal(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		for _, policy := range []PrincipalPolicy{RefuseSignIn, EndOldestSession} {
			app := newTestApp(t, a, Config{MaxSessionsPerPrincipal: 2, WhenPrincipalFull: policy})
			addIdentityRoutes(app)
			var tills []*browser
			for range 2 {
				b := app.browser()
				b.post("/0/signin", url.Values{"user": {"ann"}}).mustStatus(t, http.StatusOK)
				tills = append(tills, b)
				app.clock.Advance(time.Minute)
			}
			third := app.browser()
			r := third.post("/0/signin", url.Values{"user": {"ann"}})
			switch policy {
			case RefuseSignIn:
				r.mustStatus(t, http.StatusConflict)
				if got := third.get("/0/whoami").body; got != "" {
					t.Errorf("refused sign-in: principal %q", got)
				}
			case EndOldestSession:
				r.mustStatus(t, http.StatusOK)
				if got := tills[0].get("/0/whoami").body; got != "" {
					t.Errorf("oldest till after a sign-in past the limit: %q, want ended", got)
				}
				if got := tills[1].get("/0/whoami").body; got != "ann" {
					t.Errorf("newer till: %q, want still ann", got)
				}
			}
		}
	})
}

func TestNewRefusesPrincipalLimitWithoutIndex(t *testing.T) {
	_, err := New(Config{Store: struct{ store.Store }{store.NewMemory()}, MaxSessionsPerPrincipal: 1})
	if err == nil || !strings.Contains(err.Error(), "index") {
		t.Errorf("New with a limit on a store without an index: got %v, want an error", err)
	}
}

func TestRememberMeAndBrowserSessionCookies(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		for _, tt := range []struct {
			name       string
			persistent bool
			remember   string
			wantExpiry bool
		}{
			{"browser session by default", false, "", false},
			{"persistent by config", true, "", true},
			{"remember me", false, "on", true},
			{"not remembered", true, "off", false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				app := newTestApp(t, a, Config{PersistentCookies: tt.persistent})
				addIdentityRoutes(app)
				b := app.browser()
				b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
				r := b.post("/0/signin", url.Values{"user": {"ann"}, "remember": {tt.remember}}).mustStatus(t, http.StatusOK)
				raw := r.header.Get("Set-Cookie")
				if got := strings.Contains(raw, "Expires="); got != tt.wantExpiry {
					t.Errorf("Set-Cookie %q: Expires %v, want %v", raw, got, tt.wantExpiry)
				}
			})
		}
	})
}

type user struct {
	Name string
	Role string
}

func TestUserIsLoadedOncePerRequest(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		var calls atomic.Int32
		app := newTestApp(t, a, Config{LoadUser: func(_ context.Context, principal string) (any, error) {
			calls.Add(1)
			if principal == "ghost" {
				return nil, nil
			}
			return &user{Name: principal, Role: "cashier"}, nil
		}})
		addIdentityRoutes(app)
		app.handle(http.MethodGet, "/me", func(w http.ResponseWriter, r *http.Request) {
			var u, again user
			found, err := SessionOf(r).User(&u)
			if err != nil {
				fail(w, r, err)
				return
			}
			_, _ = SessionOf(r).User(&again)
			var wrong string
			_, wrongErr := SessionOf(r).User(&wrong)
			writeText(w, http.StatusOK, fmt.Sprintf("%v %s %s %s %v", found, u.Name, u.Role, again.Name, wrongErr != nil))
		})
		b := app.browser()
		if got := b.get("/0/me").body; got != "false    false" {
			t.Errorf("no principal: got %q", got)
		}
		if calls.Load() != 0 {
			t.Errorf("LoadUser called without a principal")
		}
		b.post("/0/signin", url.Values{"user": {"ann"}}).mustStatus(t, http.StatusOK)
		if got := b.get("/0/me").body; got != "true ann cashier ann true" {
			t.Errorf("signed in: got %q", got)
		}
		if calls.Load() != 1 {
			t.Errorf("LoadUser calls in one request: got %d, want 1", calls.Load())
		}
		b.post("/0/signin", url.Values{"user": {"ghost"}}).mustStatus(t, http.StatusOK)
		if got := b.get("/0/me").body; !strings.HasPrefix(got, "false") {
			t.Errorf("a principal with no user: got %q", got)
		}
	})
}

func TestValuesWithATimeToLive(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		app.handle(http.MethodPost, "/otp", func(w http.ResponseWriter, r *http.Request) {
			s := SessionOf(r)
			if err := s.SetWithTTL("otp", "123456", 5*time.Minute); err != nil {
				fail(w, r, err)
				return
			}
			if err := s.Tab().SetWithTTL("hold", "cart", time.Minute); err != nil {
				fail(w, r, err)
				return
			}
			if err := s.SetWithTTL("bad", "x", 0); err == nil {
				fail(w, r, fmt.Errorf("SetWithTTL with no time to live accepted"))
				return
			}
			writeText(w, http.StatusOK, "ok")
		})
		b := app.browser()
		b.post("/0/otp", nil).mustStatus(t, http.StatusOK)
		if got := b.get("/0/get?key=otp").body; got != "123456" {
			t.Fatalf("otp: got %q", got)
		}
		app.clock.Advance(5 * time.Minute)
		if got := b.get("/0/get?key=otp").status; got != http.StatusNotFound {
			t.Errorf("otp after its time to live: status %d, want 404", got)
		}
		if got := b.get("/0/get?key=k").status; got != http.StatusNotFound {
			t.Errorf("unrelated key: status %d", got)
		}
	})
}

func TestGoneTellsAnEndedSessionFromNone(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		addIdentityRoutes(app)
		app.handle(http.MethodGet, "/gone", func(w http.ResponseWriter, r *http.Request) {
			handle, gone, err := SessionOf(r).Gone()
			if err != nil {
				fail(w, r, err)
				return
			}
			writeText(w, http.StatusOK, fmt.Sprintf("%v %s", gone, handle))
		})
		fresh := app.browser()
		if got := fresh.get("/0/gone").body; got != "false " {
			t.Errorf("no cookie: got %q", got)
		}
		ann, other := app.browser(), app.browser()
		ann.post("/0/signin", url.Values{"user": {"ann"}}).mustStatus(t, http.StatusOK)
		other.post("/0/signin", url.Values{"user": {"ann"}}).mustStatus(t, http.StatusOK)
		ended := store.HashToken(other.cookie())
		ann.post("/0/end-others", nil).mustStatus(t, http.StatusOK)
		if got := other.get("/0/gone").body; got != "true "+ended {
			t.Errorf("ended elsewhere: got %q, want %q", got, "true "+ended)
		}
		if got := ann.get("/0/gone").body; got != "false " {
			t.Errorf("live session: got %q", got)
		}
	})
}

// TestNoTokenReachesTheStore scans everything the memory store holds
// after sign-ins, writes and a regenerate: IDs, meta and values. The
// browser's tokens are nowhere; their hashes are the IDs. (bbolt, Redis
// and PostgreSQL scan their own bytes in their tests.)
func TestNoTokenReachesTheStore(t *testing.T) {
	eachAdapter(t, func(t *testing.T, a adapter) {
		app := newTestApp(t, a, Config{})
		addIdentityRoutes(app)
		var tokens []string
		for range 3 {
			b := app.browser()
			b.post("/0/set", url.Values{"key": {"k"}, "value": {"v"}}).mustStatus(t, http.StatusOK)
			tokens = append(tokens, b.cookie())
			b.post("/0/signin", url.Values{"user": {"ann"}}).mustStatus(t, http.StatusOK)
			tokens = append(tokens, b.cookie())
			tab := b.openTab()
			b.post(tab+"/add", url.Values{"item": {"tea"}}).mustStatus(t, http.StatusSeeOther)
		}
		var dump strings.Builder
		ids := 0
		err := app.store.List(t.Context(), func(id string, m store.Meta) bool {
			ids++
			rec, _, err := app.store.Store.Load(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&dump, "%s %+v %s\n", id, rec.Meta, store.AppendMeta(nil, &rec.Meta))
			for k, v := range rec.Values {
				fmt.Fprintf(&dump, "%+v %s\n", k, v)
			}
			return true
		})
		if err != nil || ids != 3 {
			t.Fatalf("List: %d sessions, %v; want 3", ids, err)
		}
		for _, token := range tokens {
			if strings.Contains(dump.String(), token) || strings.Contains(dump.String(), token[:20]) {
				t.Errorf("a token the browser held is in the store: %q", token)
			}
			if !strings.Contains(dump.String(), store.HashToken(token)) && token == tokens[len(tokens)-1] {
				t.Errorf("the live session is not keyed by the hash of its token")
			}
		}
	})
}
