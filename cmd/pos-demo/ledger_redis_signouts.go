package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis ledger keeps a sign-out note as a key of its own, P +
// "signout:" + handle, holding the note's JSON, which Redis expires after
// signOutTTL: every process of the shop reads the notes of all. Bounded
// by that TTL (and Redis's maxmemory), not by maxSignOuts.

func (l *redisLedger) signOutKey(handle string) string { return l.prefix + "signout:" + handle }

func (l *redisLedger) NoteSignOut(ctx context.Context, handle string, n signOut) error {
	value, err := json.Marshal(n)
	if err != nil {
		return err
	}
	if err := l.client.Set(ctx, l.signOutKey(handle), value, signOutTTL).Err(); err != nil {
		return fmt.Errorf("sign-out notes: %w", err)
	}
	return nil
}

func (l *redisLedger) SignOut(ctx context.Context, handle string, now time.Time) (signOut, bool, error) {
	raw, err := l.client.Get(ctx, l.signOutKey(handle)).Bytes()
	if errors.Is(err, redis.Nil) {
		return signOut{}, false, nil
	}
	if err != nil {
		return signOut{}, false, fmt.Errorf("sign-out notes: %w", err)
	}
	var n signOut
	if err := json.Unmarshal(raw, &n); err != nil {
		return signOut{}, false, fmt.Errorf("sign-out notes: decoding: %w", err)
	}
	if now.Sub(n.At) > signOutTTL {
		return signOut{}, false, nil
	}
	return n, true, nil
}
