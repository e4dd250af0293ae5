package pgstore

import (
	"testing"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

func TestConformance(t *testing.T) {
	url := pgURL(t)
	storetest.Run(t, func(t *testing.T, now store.Clock) store.Store {
		s, err := Open(t.Context(), url, &Options{TablePrefix: uniquePrefix(t, url), Now: now, SweepInterval: -1})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}
