package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
)

// TestNoTokenAtRest stores sessions the way kit does, under
// store.HashToken of their tokens, directly and through kit itself
// (a create, a sign-in with a regenerated token, a value with a time to
// live), then reads every key and every value the store wrote, on the
// single server and on every master of the cluster, by type: no token,
// nor the bytes it encodes, may be there.
func TestNoTokenAtRest(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		s := newTestStoreAt(t, url, Options{SweepInterval: -1})
		ctx := t.Context()
		var tokens []string
		for range 3 {
			token := newToken()
			tokens = append(tokens, token)
			// Another token of the family, as a regeneration makes.
			moved := token[:store.FamilyPrefix] + newToken()[store.FamilyPrefix:]
			tokens = append(tokens, moved)
			id := store.HashToken(token)
			otp := store.SessionKey("otp")
			mustCommit(t, s, id, store.Delta{
				Create: true, IdleDeadline: time.Now().Add(time.Hour),
				Set:          map[store.Key][]byte{store.SessionKey("user"): []byte("alice"), otp: []byte("123456")},
				Expires:      map[store.Key]time.Time{otp: time.Now().Add(time.Minute)},
				SetPrincipal: true, Principal: "alice",
			})
			if _, err := s.Move(ctx, id, store.HashToken(moved), store.Delta{}); err != nil {
				t.Fatalf("Move: %v", err)
			}
		}
		tokens = append(tokens, tokensThroughKit(t, s.Store)...)
		if len(tokens) < 8 {
			t.Fatalf("got %d tokens, want the kit's too", len(tokens))
		}

		var needles [][]byte
		for _, token := range tokens {
			needles = append(needles, []byte(token))
			raw, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil {
				t.Fatalf("token %q is not base64url: %v", token, err)
			}
			needles = append(needles, raw)
		}
		seen := 0
		forEachStored(t, s.client, s.prefix, func(key string, parts [][]byte) {
			seen++
			for _, part := range append(parts, []byte(key)) {
				for _, needle := range needles {
					if bytes.Contains(part, needle) {
						t.Errorf("key %q holds a token (or its bytes) %q", key, needle)
					}
				}
			}
		})
		// Sessions, index, the principal's set: the walk must have seen
		// what the store wrote.
		if seen < 6 {
			t.Errorf("walked %d keys, want the sessions, the index and the principal's set", seen)
		}
	})
}

// newToken makes a token shaped like kit's: 32 random bytes, base64url.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokensThroughKit drives kit on st: a visitor writes, signs in (which
// regenerates the token) and stores a value with a time to live. It
// returns every token the cookies carried.
func tokensThroughKit(t *testing.T, st store.Store) []string {
	t.Helper()
	m, err := kit.New(kit.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	e := echo.New()
	if err := m.Install(e); err != nil {
		t.Fatal(err)
	}
	e.POST("/write", kit.Handler(func(c *kit.Context) error {
		if err := c.Session().Set("cart", []string{"tea"}); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}))
	e.POST("/sign-in", kit.Handler(func(c *kit.Context) error {
		if err := c.Session().SetPrincipal("bob"); err != nil {
			return err
		}
		if err := c.Session().Regenerate(); err != nil {
			return err
		}
		if err := c.Session().SetWithTTL("otp", "654321", time.Minute); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}))
	var tokens []string
	var cookie *http.Cookie
	for _, path := range []string{"/0/write", "/0/sign-in", "/0/write"} {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == "tabkit" && c.Value != "" {
				cookie = c
				tokens = append(tokens, c.Value)
			}
		}
	}
	if len(tokens) != 2 {
		t.Fatalf("kit set %d session cookies, want 2 (create, sign-in)", len(tokens))
	}
	return tokens
}

// forEachStored calls fn with every key under prefix, on every master
// of a cluster, and everything the key holds: field names and values of
// a hash, members of a set, members of a sorted set, a string's value,
// a list's items.
func forEachStored(t *testing.T, client redis.UniversalClient, prefix string, fn func(key string, parts [][]byte)) {
	t.Helper()
	// mu serializes fn: a cluster's masters are walked in parallel.
	var mu sync.Mutex
	walk := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, globEscape(prefix)+"*", 1000).Iterator()
		for iter.Next(ctx) {
			key := iter.Val()
			parts, err := readAll(ctx, c, key)
			if err != nil {
				return err
			}
			mu.Lock()
			fn(key, parts)
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	switch c := client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(t.Context(), walk)
	case *redis.Client:
		err = walk(t.Context(), c)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// readAll reads what key holds, whatever its type.
func readAll(ctx context.Context, c *redis.Client, key string) ([][]byte, error) {
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	var parts []string
	switch typ {
	case "hash":
		m, err := c.HGetAll(ctx, key).Result()
		if err != nil {
			return nil, err
		}
		for f, v := range m {
			parts = append(parts, f, v)
		}
	case "set":
		parts, err = c.SMembers(ctx, key).Result()
	case "zset":
		parts, err = c.ZRange(ctx, key, 0, -1).Result()
	case "string":
		var v string
		v, err = c.Get(ctx, key).Result()
		parts = []string{v}
	case "list":
		parts, err = c.LRange(ctx, key, 0, -1).Result()
	default:
		return nil, errUnexpectedType(typ)
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out, err
}

type errUnexpectedType string

func (e errUnexpectedType) Error() string {
	return "unexpected key type " + strings.TrimSpace(string(e))
}
