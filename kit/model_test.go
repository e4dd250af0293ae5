package kit_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/tabkit/tabkit/kit/kittest"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/storetest"
)

// TestModel runs the kit's model test (package kittest) on the stores of
// this module; store/redisstore and store/pgstore run it on theirs.
//
//	go test -race -run TestModel ./kit/ -model.ops=100000 -model.seed=42
func TestModel(t *testing.T) {
	t.Run("memory", func(t *testing.T) { kittest.RunModel(t, "memory", openMemory) })
	t.Run("bolt", func(t *testing.T) { kittest.RunModel(t, "bolt", openBolt()) })
}

// TestModelCases replays the sequences the model test found, one request
// at a time.
func TestModelCases(t *testing.T) {
	kittest.RunModelCases(t, "memory", openMemory)
}

func openMemory(_ *testing.T, clock *storetest.Clock) (store.Store, func()) {
	mem := store.NewMemoryWith(store.MemoryOptions{Now: clock.Now, SweepInterval: -1})
	return mem, func() { mem.Close() }
}

func openBolt() kittest.Opener {
	var files atomic.Int64
	return func(t *testing.T, clock *storetest.Clock) (store.Store, func()) {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("model%d.db", files.Add(1)))
		st, err := boltstore.Open(path, &boltstore.Options{Now: clock.Now, SweepInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		return st, func() { st.Close() }
	}
}
