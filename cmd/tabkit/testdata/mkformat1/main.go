// Writes a bbolt file as tabkit wrote them before session IDs were
// hashed: format 1, sessions keyed by their cookie token.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log"
	"os"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
)

func token(name string) string {
	sum := sha256.Sum256([]byte("tabkit fixture " + name))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func main() {
	path := os.Args[1]
	created := time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := created
	st, err := boltstore.Open(path, &boltstore.Options{SweepInterval: -1, Now: func() time.Time { return clock }})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	commit := func(name string, d store.Delta) {
		if _, err := st.Commit(ctx, token(name), d); err != nil {
			log.Fatal(err)
		}
	}
	commit("ann", store.Delta{
		Create: true, LastSeen: clock, IdleDeadline: clock.Add(24 * time.Hour), AbsDeadline: clock.Add(7 * 24 * time.Hour),
		EditMeta: func(m *store.Meta) error {
			m.Tabs[1] = store.TabInfo{Created: clock, LastSeen: clock, Label: "Front till"}
			m.NextTab = 2
			return nil
		},
		Set: map[store.Key][]byte{
			store.SessionKey("cashier"): []byte(`"ann"`),
			store.TabKey(1, "cart"):     []byte(`{"items":[{"sku":"TEA-002","qty":1}]}`),
		},
	})
	clock = created.Add(time.Minute)
	commit("bob", store.Delta{Create: true, LastSeen: clock, IdleDeadline: clock.Add(24 * time.Hour),
		Set: map[store.Key][]byte{store.SessionKey("cashier"): []byte(`"bob"`)}})
	clock = created.Add(2 * time.Minute)
	commit("cy", store.Delta{Create: true, LastSeen: clock, IdleDeadline: clock.Add(24 * time.Hour)})
	clock = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	commit("old", store.Delta{Create: true, LastSeen: clock, IdleDeadline: clock.Add(time.Hour),
		Set: map[store.Key][]byte{store.SessionKey("cashier"): []byte(`"old"`)}})
	if err := st.Close(); err != nil {
		log.Fatal(err)
	}
}
