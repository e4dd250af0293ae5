package redisstore

import (
	"testing"

	"github.com/tabkit/tabkit/kit/kittest"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// TestKitModel runs the kit's model test (package kittest) on a single
// Redis server and on the cluster, each run under a key prefix of its
// own.
func TestKitModel(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		kittest.RunModel(t, "redis", func(t *testing.T, clock *storetest.Clock) (store.Store, func()) {
			s, err := Open(url, &Options{KeyPrefix: uniquePrefix(t, url), Now: clock.Now, SweepInterval: -1})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s, func() { s.Close() }
		})
	})
}
