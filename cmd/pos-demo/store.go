package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/redisstore"
)

// openStore opens the store -store names: "bolt" (the file -db names),
// "bolt:PATH", "memory", or a redis:// or rediss:// URL. It also returns
// a description for the log that never includes a password.
func openStore(spec, dbPath string) (store.Store, string, error) {
	switch {
	case spec == "" || spec == "bolt":
		return openBolt(dbPath)
	case strings.HasPrefix(spec, "bolt:"):
		return openBolt(strings.TrimPrefix(spec, "bolt:"))
	case spec == "memory":
		return store.NewMemory(), "memory (lost on exit)", nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		st, err := redisstore.Open(spec, nil)
		if err != nil {
			return nil, "", err
		}
		return st, redactedURL(spec), nil
	}
	return nil, "", fmt.Errorf("-store %q: want bolt, bolt:PATH, memory or redis://host:port/db", spec)
}

func openBolt(path string) (store.Store, string, error) {
	if path == "" {
		return nil, "", fmt.Errorf("-store bolt needs a file path")
	}
	st, err := boltstore.Open(path, nil)
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
