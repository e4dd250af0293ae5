package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/pgstore"
)

// openPostgres opens the PostgreSQL store at a postgres:// URL with the
// quotas it supports; it makes its tables on first use.
func openPostgres(spec string, lim limits) (store.Store, string, error) {
	if lim.whenFull == "evict" {
		return nil, "", fmt.Errorf("-when-full evict: the postgres store can only refuse")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := pgstore.Open(ctx, spec, &pgstore.Options{MaxSessions: lim.maxSessions, MaxSessionBytes: lim.maxSessionBytes})
	if err != nil {
		return nil, "", err
	}
	return st, redactedURL(spec), nil
}
