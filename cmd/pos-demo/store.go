package main

import (
	"cmp"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/redisstore"
)

// limits are the store's quotas, from -max-sessions, -max-bytes,
// -max-session-bytes and -when-full.
type limits struct {
	maxSessions, maxBytes, maxSessionBytes int64
	whenFull                               string
}

// defaultLimits bound what a flood of new visitors can make the demo
// store, while leaving room for far more registers than a shop has. A
// full store refuses new sessions rather than evicting old ones, so no
// cashier loses a cart to a flood.
var defaultLimits = limits{
	maxSessions: 100_000,
	maxBytes:    1 << 30,
	whenFull:    "refuse",
}

func (l limits) check() error {
	switch {
	case l.maxSessions < 0, l.maxBytes < 0, l.maxSessionBytes < 0:
		return fmt.Errorf("-max-sessions, -max-bytes and -max-session-bytes cannot be negative")
	case l.whenFull != "refuse" && l.whenFull != "evict":
		return fmt.Errorf("-when-full %q: want refuse or evict", l.whenFull)
	}
	return nil
}

// openStore opens the store -store names: "bolt" (the file -db names),
// "bolt:PATH", "memory", a redis:// or rediss:// URL, or a postgres://
// URL, with the quotas the backend supports (the memory store has none).
// A bbolt store reports its events to observe when it is not nil. It also
// returns a description for the log that never includes a password.
func openStore(spec, dbPath string, lim limits, observe func(boltstore.Event)) (store.Store, string, error) {
	switch {
	case spec == "" || spec == "bolt":
		return openBolt(dbPath, lim, observe)
	case strings.HasPrefix(spec, "bolt:"):
		return openBolt(strings.TrimPrefix(spec, "bolt:"), lim, observe)
	case spec == "memory":
		return store.NewMemory(), "memory (lost on exit)", nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		if lim.whenFull == "evict" {
			return nil, "", fmt.Errorf("-when-full evict: the redis store can only refuse")
		}
		// Redis bounds its memory itself (maxmemory); the store's quotas
		// are on sessions.
		st, err := redisstore.Open(spec, &redisstore.Options{MaxSessions: lim.maxSessions, MaxSessionBytes: lim.maxSessionBytes})
		if err != nil {
			return nil, "", err
		}
		return st, redactedURL(spec), nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return openPostgres(spec, lim)
	}
	return nil, "", fmt.Errorf("-store %q: want bolt, bolt:PATH, memory, redis://host:port/db or postgres://user@host/db", spec)
}

func openBolt(path string, lim limits, observe func(boltstore.Event)) (store.Store, string, error) {
	if path == "" {
		return nil, "", fmt.Errorf("-store bolt needs a file path")
	}
	opts := boltstore.DefaultOptions
	opts.MaxSessions, opts.MaxBytes, opts.MaxSessionBytes = lim.maxSessions, lim.maxBytes, lim.maxSessionBytes
	opts.Observe = observe
	if lim.whenFull == "evict" {
		opts.WhenFull = boltstore.EvictLRU
	}
	st, err := boltstore.Open(path, &opts)
	if err != nil {
		return nil, "", err
	}
	return st, "bolt " + path, nil
}

// redactedURL hides a password in a store URL before it is logged.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "redis"
	}
	return u.Redacted()
}

// closeStore closes st when it holds resources (a file, connections).
func closeStore(st store.Store) error {
	if c, ok := st.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// openLedger opens the shop's sales ledger: the bbolt file -sales-db
// names; else beside the session store: a bbolt file next to a bolt
// store's (pos.db → pos-sales.db), the same Redis as a redis store, or
// memory for the memory store. It also returns a description for the
// log.
func openLedger(salesDB, storeSpec, dbPath string) (Ledger, string, error) {
	path := salesDB
	if path == "" {
		switch {
		case storeSpec == "memory":
			return newMemoryLedger(), "memory (lost on exit)", nil
		case strings.HasPrefix(storeSpec, "redis://"), strings.HasPrefix(storeSpec, "rediss://"):
			l, err := openRedisLedger(storeSpec, defaultLedgerPrefix)
			if err != nil {
				return nil, "", err
			}
			return l, redactedURL(storeSpec), nil
		case strings.HasPrefix(storeSpec, "bolt:"):
			path = ledgerPathBeside(strings.TrimPrefix(storeSpec, "bolt:"))
		default:
			path = ledgerPathBeside(dbPath)
		}
	}
	l, err := openBoltLedger(path)
	if err != nil {
		return nil, "", err
	}
	return l, "bolt " + path, nil
}

// ledgerPathBeside names the ledger file next to a session store file.
func ledgerPathBeside(db string) string {
	ext := filepath.Ext(db)
	return strings.TrimSuffix(db, ext) + "-sales" + cmp.Or(ext, ".db")
}
