package pgstore

import (
	"testing"

	"github.com/tabkit/tabkit/kit/kittest"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// TestModel runs the kit's model test (package kittest) on PostgreSQL,
// each run in tables of its own.
func TestModel(t *testing.T) {
	url := pgURL(t)
	kittest.RunModel(t, "postgres", func(t *testing.T, clock *storetest.Clock) (store.Store, func()) {
		s := newTestStore(t, Options{TablePrefix: uniquePrefix(t, url), Now: clock.Now, SweepInterval: -1}, 4)
		return s, func() {}
	})
}
