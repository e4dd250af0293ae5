package boltstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "boltstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	st, err := boltstore.Open(filepath.Join(dir, "tabkit.db"), &boltstore.Options{MaxSessions: 100_000})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	ctx := context.Background()
	_, err = st.Commit(ctx, "session-id", store.Delta{
		Create:       true,
		IdleDeadline: time.Now().Add(30 * time.Minute),
		Set:          map[store.Key][]byte{store.TabKey(0, "cart"): []byte(`["coffee"]`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	rec, found, err := st.Load(ctx, "session-id")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found, string(rec.Values[store.TabKey(0, "cart")]))
	// Output: true ["coffee"]
}
