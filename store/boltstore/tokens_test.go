package boltstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// newToken makes a token the way kit does: 32 random bytes, base64url.
func newToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenLeaks returns the tokens whose text or raw bytes occur in file.
func tokenLeaks(t *testing.T, file []byte, tokens []string) []string {
	t.Helper()
	var leaks []string
	for _, tok := range tokens {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			t.Fatalf("token %q: %v", tok, err)
		}
		if bytes.Contains(file, []byte(tok)) || bytes.Contains(file, raw) {
			leaks = append(leaks, tok)
		}
	}
	return leaks
}

// TestNoTokenInFile runs sessions through everything a store does to them
// under the IDs kit gives it, then reads the closed file's bytes: no token
// occurs in them, as text or as the bytes it encodes.
func TestNoTokenInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	clock := start
	s, err := Open(path, &Options{SweepInterval: -1, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var tokens, ids []string
	for i := range 40 {
		tok := newToken(t)
		id := store.HashToken(tok)
		tokens, ids = append(tokens, tok), append(ids, id)
		d := store.Delta{
			Create: true, LastSeen: clock, IdleDeadline: clock.Add(time.Duration(i+1) * time.Minute),
			SetPrincipal: true, Principal: fmt.Sprintf("user%d", i%3),
			Set: map[store.Key][]byte{store.SessionKey("cart"): []byte("coffee"), store.TabKey(0, "flash"): []byte("hi")},
		}
		if _, err := s.Commit(ctx, id, d); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ { // regenerate
		tok := newToken(t)
		tokens = append(tokens, tok)
		if _, err := s.Move(ctx, ids[i], store.HashToken(tok), store.Delta{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, ids[20]); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(15 * time.Minute)
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
	file := readFile(t, path)
	if leaks := tokenLeaks(t, file, tokens); len(leaks) > 0 {
		t.Errorf("%d of %d tokens occur in the file, e.g. %q", len(leaks), len(tokens), leaks[0])
	}
	// The search itself works: the IDs of live sessions are there.
	if !bytes.Contains(file, []byte(ids[len(ids)-1])) {
		t.Errorf("ID %q of a live session not found in the file; the search is broken", ids[len(ids)-1])
	}
}
