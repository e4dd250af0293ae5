package pgstore

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tabkit/tabkit/kit"
)

// TestKitLoadsSessionAndUserInOneQuery runs the kit on a store with a
// user join: a request that reads the session and its signed-in user,
// twice, costs one query in all.
func TestKitLoadsSessionAndUserInOneQuery(t *testing.T) {
	url := pgURL(t)
	prefix := uniquePrefix(t, url)
	users := userTable(t, url, prefix)
	s := newTestStore(t, Options{
		TablePrefix: prefix,
		UserJoin:    "LEFT JOIN " + users + " u ON u.id::text = s.principal",
		UserColumns: "to_jsonb(u)",
	}, 1)
	m, err := kit.New(kit.Config{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	type user struct {
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		if err := kit.SessionOf(r).SetPrincipal(r.FormValue("id")); err != nil {
			kit.Fail(w, r, err)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s := kit.SessionOf(r)
		var cart []string
		if _, err := s.Tab().Get("cart", &cart); err != nil {
			kit.Fail(w, r, err)
			return
		}
		var u, again user
		found, err := s.User(&u)
		if err != nil {
			kit.Fail(w, r, err)
			return
		}
		if _, err := s.User(&again); err != nil {
			kit.Fail(w, r, err)
			return
		}
		fmt.Fprintf(w, "%v %s %v", found, u.Name, again.Roles)
	})
	srv := httptest.NewServer(m.Wrap(mux))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/0/signin", "application/x-www-form-urlencoded", strings.NewReader("id=2"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %v %v", resp, err)
	}
	resp.Body.Close()
	cookie := resp.Cookies()[0]
	get := func() string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/0/me", nil)
		req.AddCookie(cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	get() // prepares the statement on the connection
	s.trips.take()
	if got := get(); got != "true Bob [cashier manager]" {
		t.Fatalf("page: got %q", got)
	}
	if trips, statements := s.trips.take(); trips != 1 || len(statements) != 1 {
		t.Errorf("a request reading its session and user: got %d round trips, %d statements, want 1, 1:\n\t%s",
			trips, len(statements), strings.Join(statements, "\n\t"))
	}
}
