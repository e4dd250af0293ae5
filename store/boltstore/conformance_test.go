package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now store.Clock) store.Store {
		path := filepath.Join(t.TempDir(), "sessions.db")
		s, err := Open(path, &Options{Now: now, SweepInterval: -1})
		if err != nil {
			t.Fatalf("Open: got %v, want nil", err)
		}
		// Run closes the store before this cleanup runs; reading the file
		// afterwards checks what reached the disk.
		t.Cleanup(func() {
			_ = s.Close()
			checkFile(t, path)
		})
		return s
	})
}
