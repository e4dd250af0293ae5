package store_test

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tabkit/tabkit/store"
)

func ExampleMemory() {
	st := store.NewMemory()
	defer st.Close()
	ctx := context.Background()

	// The first request that writes creates the session; later ones commit
	// only what they changed.
	_, err := st.Commit(ctx, "session-id", store.Delta{
		Create:       true,
		IdleDeadline: time.Now().Add(24 * time.Hour),
		Set:          map[store.Key][]byte{store.SessionKey("user"): []byte(`"alice"`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	meta, err := st.Commit(ctx, "session-id", store.Delta{
		Set: map[store.Key][]byte{store.TabKey(0, "cart"): []byte(`["apple"]`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("version", meta.Version, "bytes", meta.Bytes)

	rec, found, err := st.Load(ctx, "session-id")
	if err != nil || !found {
		fmt.Println(found, err)
		return
	}
	fmt.Printf("user %s, tab 0 cart %s\n", rec.Values[store.SessionKey("user")], rec.Values[store.TabKey(0, "cart")])
	// Output:
	// version 2 bytes 24
	// user "alice", tab 0 cart ["apple"]
}

// Two clicks on "add" race; Update runs each inside the store's
// transaction, so neither is lost.
func ExampleDelta_update() {
	st := store.NewMemory()
	defer st.Close()
	ctx := context.Background()
	if _, err := st.Commit(ctx, "id", store.Delta{Create: true}); err != nil {
		fmt.Println(err)
		return
	}
	addOne := func(old []byte, found bool) ([]byte, error) {
		n := 0
		if found {
			var err error
			if n, err = strconv.Atoi(string(old)); err != nil {
				return nil, err
			}
		}
		return strconv.AppendInt(nil, int64(n+1), 10), nil
	}
	items := store.TabKey(0, "items")
	done := make(chan error)
	for range 2 {
		go func() {
			_, err := st.Commit(ctx, "id", store.Delta{Update: map[store.Key]store.UpdateFunc{items: addOne}})
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			fmt.Println(err)
		}
	}
	rec, _, _ := st.Load(ctx, "id")
	fmt.Printf("%s items\n", rec.Values[items])
	// Output: 2 items
}
