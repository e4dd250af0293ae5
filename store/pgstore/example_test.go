package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/pgstore"
)

// The session and its signed-in user in one query: the application
// supplies the join on its own users table, and the user arrives as JSON
// in Record.User.
func Example() {
	ctx := context.Background()
	st, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), &pgstore.Options{
		UserJoin:    "LEFT JOIN users u ON u.id::text = s.principal",
		UserColumns: "jsonb_build_object('id', u.id, 'name', u.name)",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	id := store.HashToken("the-token-a-cookie-carries")
	_, err = st.Commit(ctx, id, store.Delta{
		Create:       true,
		SetPrincipal: true, Principal: "42",
		Set: map[store.Key][]byte{store.TabKey(0, "cart"): []byte(`["apple"]`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	rec, found, err := st.Load(ctx, id)
	if err != nil || !found {
		log.Fatal(found, err)
	}
	fmt.Printf("cart %s, user %s\n", rec.Values[store.TabKey(0, "cart")], rec.User)
}
