package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/redisstore"
)

// Open connects by URL; the store owns the connection.
func ExampleOpen() {
	st, err := redisstore.Open("redis://127.0.0.1:6379/0", &redisstore.Options{MaxSessions: 1_000_000})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	ctx := context.Background()
	now := time.Now()
	_, err = st.Commit(ctx, "session-id", store.Delta{
		Create:       true,
		IdleDeadline: now.Add(30 * time.Minute),
		Set:          map[store.Key][]byte{store.TabKey(0, "cart"): []byte(`["apple"]`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	rec, found, err := st.Load(ctx, "session-id")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found, string(rec.Values[store.TabKey(0, "cart")]))
}

// A URL with addr parameters names a Redis Cluster; WaitReplicas makes
// each commit wait until the session's master has copied it to its
// replica, so a failover cannot lose it.
func ExampleOpen_cluster() {
	st, err := redisstore.Open("redis://10.0.0.1:6379?addr=10.0.0.2:6379&addr=10.0.0.3:6379",
		&redisstore.Options{WaitReplicas: 1, WaitTimeout: 500 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
}

// New takes a client configured by the application, here a Sentinel
// failover client, and leaves it open on Close.
func ExampleNew() {
	client := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    "tabkit",
		SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
		DialTimeout:   2 * time.Second,
		ReadTimeout:   2 * time.Second,
		WriteTimeout:  2 * time.Second,
	})
	defer client.Close()
	st, err := redisstore.New(client, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
}
