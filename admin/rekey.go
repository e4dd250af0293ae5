package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tabkit/tabkit/store"
)

// Before session IDs were hashed, kit keyed each session by its cookie's
// token itself. kit now looks a cookie up under store.HashToken(token),
// so such a session is unreachable, and its key, a working cookie value,
// sits in the store for whoever reads it. The token is all it takes to
// compute the hash, so Rekey can move each one where kit looks for it.

// RekeyResult says what Rekey did.
type RekeyResult struct {
	// Rekeyed counts the sessions moved from a cookie token to its hash.
	Rekeyed int `json:"rekeyed"`
}

// Rekey moves every live session stored under a cookie token (an ID of
// the shape of kit's tokens: 43 base64url characters) to
// store.HashToken of that token, where kit looks for it, and returns how
// many it moved. A session keeps its values, value deadlines, tabs,
// principal, last-seen time and deadlines; its creation time becomes
// the time of the move, which the store sets. Sessions already keyed by
// a hash are left alone, so running it twice is harmless.
//
// The move is a copy under the new ID followed by a delete of the old
// one, not one atomic step (the two IDs may live in different shards):
// run it when no process of a version that keys sessions by token uses
// the store, or a write such a process makes to a session between its
// copy and its delete is lost. Processes of a version that hashes IDs
// never touch the old keys. A run interrupted between copy and delete
// finishes the move when run again. It moves rekeyWorkers sessions at
// a time and stops at the first error, every session then being under
// its token or its hash.
func (a *Admin) Rekey(ctx context.Context) (RekeyResult, error) {
	l, ok := a.st.(store.Lister)
	if !ok {
		return RekeyResult{}, fmt.Errorf("%w: listing sessions", ErrUnsupported)
	}
	var tokens []string
	err := l.List(ctx, func(id string, _ store.Meta) bool {
		if isToken(id) {
			tokens = append(tokens, id)
		}
		return true
	})
	if err != nil {
		return RekeyResult{}, err
	}
	return a.rekeyAll(ctx, tokens)
}

// rekeyWorkers is how many sessions Rekey moves at once. Each move is a
// few round trips or fsyncs, and concurrent commits share them (bbolt's
// group commit), so moving one at a time would take minutes where there
// are tens of thousands.
const rekeyWorkers = 16

// rekeyAll moves the sessions under tokens, rekeyWorkers at a time,
// until the first error.
func (a *Admin) rekeyAll(ctx context.Context, tokens []string) (RekeyResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// mu guards res and firstErr.
	var (
		mu       sync.Mutex
		res      RekeyResult
		firstErr error
	)
	next := make(chan string)
	var wg sync.WaitGroup
	for range min(rekeyWorkers, len(tokens)) {
		wg.Go(func() {
			for token := range next {
				moved, err := a.rekey(ctx, token)
				mu.Lock()
				switch {
				case err != nil && firstErr == nil:
					firstErr = fmt.Errorf("admin: moving session %s to its hash: %w", prefix(token), err)
					cancel()
				case moved:
					res.Rekeyed++
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, token := range tokens {
		select {
		case next <- token:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err() // the caller's, cancelled while feeding
	}
	return res, firstErr
}

// rekey moves the session stored under token to its hash. moved is
// false when the session ended meanwhile.
func (a *Admin) rekey(ctx context.Context, token string) (moved bool, err error) {
	rec, found, err := a.st.Load(ctx, token)
	if err != nil || !found {
		return false, err
	}
	_, err = a.st.Commit(ctx, store.HashToken(token), copyDelta(&rec))
	// ErrExists: an earlier run copied the session and stopped before
	// deleting the original. No process creates a session under the
	// hash of a token it did not issue, so the copy is that run's.
	if err != nil && !errors.Is(err, store.ErrExists) {
		return false, err
	}
	// Once copied, the original goes even if another worker's error
	// cancelled the run meanwhile: a session is never left under both.
	return true, a.st.Delete(context.WithoutCancel(ctx), token)
}

// copyDelta creates a session holding what rec holds.
func copyDelta(rec *store.Record) store.Delta {
	m := rec.Meta
	return store.Delta{
		Create:       true,
		LastSeen:     m.LastSeen,
		IdleDeadline: m.IdleDeadline,
		AbsDeadline:  m.AbsDeadline,
		EditMeta: func(dst *store.Meta) error {
			for n, info := range m.Tabs {
				dst.Tabs[n] = info
			}
			dst.NextTab = max(dst.NextTab, m.NextTab)
			return nil
		},
		Set:          rec.Values,
		Expires:      m.Expiring,
		SetPrincipal: m.Principal != "",
		Principal:    m.Principal,
	}
}

// tokenLength is the length of kit's cookie tokens: 256 random bits in
// unpadded base64url. Before IDs were hashed, a session's ID was its
// token.
const tokenLength = 43

// hashLength is the length of a SHA-256 sum in unpadded base64url.
const hashLength = 43

// KeyedByToken reports whether id has the shape of a kit cookie token,
// as the IDs of sessions stored before IDs were hashed have (see
// Rekey).
func KeyedByToken(id string) bool { return isToken(id) }

// isToken reports whether id has the shape of a kit cookie token.
func isToken(id string) bool { return len(id) == tokenLength && isBase64URL(id) }

// isHandle reports whether id has the shape store.HashToken gives,
// "family.hash": 4 and 43 base64url characters. A token has no '.', so
// such an ID never works as a cookie.
func isHandle(id string) bool {
	family, hash, ok := strings.Cut(id, ".")
	return ok && len(family) == 4 && len(hash) == hashLength && isBase64URL(family) && isBase64URL(hash)
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
