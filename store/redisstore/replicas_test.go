package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

// TestWaitReplicas runs a master and a replica of its own: with
// WaitReplicas every acknowledged write is on the replica when Commit or
// Delete returns; with the replica frozen, writes fail with
// ErrNotReplicated and ErrUnavailable, yet the master has them.
func TestWaitReplicas(t *testing.T) {
	master := startServer(t)
	replica := startReplica(t, master)
	// A replica that is up acknowledges within milliseconds, but a loaded
	// machine under -race can take far longer: the store used while it
	// is up waits up to 5 s, the one used while it is frozen 200 ms.
	const waitTimeout = 200 * time.Millisecond
	open := func(timeout time.Duration) *Store {
		s, err := Open(master.url()+"?read_timeout=10s", &Options{WaitReplicas: 1, WaitTimeout: timeout})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	patient, s := open(5*time.Second), open(waitTimeout)
	onReplica := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", replica.port)})
	t.Cleanup(func() { _ = onReplica.Close() })
	ctx := t.Context()

	counter := store.SessionKey("n")
	increment := store.Delta{Update: map[store.Key]store.UpdateFunc{
		counter: func(old []byte, _ bool) ([]byte, error) {
			n, _ := strconv.Atoi(string(old))
			return strconv.AppendInt(nil, int64(n+1), 10), nil
		},
	}}
	// Each step writes and says what the session's counter field then
	// holds ("" for no session).
	type step struct {
		name string
		id   string
		call func(id string) error
		want string
	}
	steps := func(s *Store, id string) []step {
		return []step{
			{"create", id, func(id string) error {
				_, err := s.Commit(ctx, id, store.Delta{Create: true, IdleDeadline: time.Now().Add(time.Hour),
					Set: map[store.Key][]byte{counter: []byte("1")}})
				return err
			}, "1"},
			{"set", id, func(id string) error {
				_, err := s.Commit(ctx, id, store.Delta{Set: map[store.Key][]byte{counter: []byte("5")}})
				return err
			}, "5"},
			{"update", id, func(id string) error { _, err := s.Commit(ctx, id, increment); return err }, "6"},
			{"delete", id, func(id string) error { return s.Delete(ctx, id) }, ""},
		}
	}
	field := string(store.AppendKey(nil, counter))
	valueOn := func(c *redis.Client, id string) string {
		v, err := c.HGet(ctx, s.key(id), field).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("HGET: %v", err)
		}
		return v
	}

	for _, st := range steps(patient, "kept") {
		if err := st.call(st.id); err != nil {
			t.Fatalf("%s with the replica up: %v", st.name, err)
		}
		// WAIT said the replica has it: no polling.
		if got := valueOn(onReplica, st.id); got != st.want {
			t.Errorf("%s: the replica holds %q, want %q", st.name, got, st.want)
		}
	}

	replica.pause()
	onMaster := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", master.port)})
	t.Cleanup(func() { _ = onMaster.Close() })
	for _, st := range steps(s, "unreplicated") {
		start := time.Now()
		err := st.call(st.id)
		took := time.Since(start)
		if !errors.Is(err, ErrNotReplicated) || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with the replica frozen: got %v, want %v and %v", st.name, err, ErrNotReplicated, store.ErrUnavailable)
		}
		if took < waitTimeout || took > 10*time.Second {
			t.Errorf("%s with the replica frozen took %v, want WaitTimeout %v and a little more", st.name, took, waitTimeout)
		}
		// The master applied it all the same.
		if got := valueOn(onMaster, st.id); got != st.want {
			t.Errorf("%s: the master holds %q, want %q", st.name, got, st.want)
		}
	}

	replica.resume()
	for _, st := range steps(patient, "after") {
		if err := st.call(st.id); err != nil {
			t.Fatalf("%s after the replica resumed: %v", st.name, err)
		}
	}
}

// TestWaitReplicasMoreThanExist asks for two replicas of a master that
// has one.
func TestWaitReplicasMoreThanExist(t *testing.T) {
	master := startServer(t)
	startReplica(t, master)
	// WAIT lasts its whole timeout here, one replica short; the one
	// replica answers within it even on a loaded machine under -race.
	s, err := Open(master.url(), &Options{WaitReplicas: 2, WaitTimeout: time.Second, SweepInterval: -1})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Commit(t.Context(), "a", store.Delta{Create: true})
	if !errors.Is(err, ErrNotReplicated) {
		t.Fatalf("create: got %v, want %v", err, ErrNotReplicated)
	}
	if got := err.Error(); got != "redisstore: create: store: store unavailable: redisstore: change not acknowledged by enough replicas: 1 of 2 replicas within 1s; the master has it" {
		t.Errorf("error text: got %q", got)
	}
}

func TestWaitOptionsRefused(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ReadTimeout: 2 * time.Second})
	defer client.Close()
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ReadTimeout: time.Second})
	defer cluster.Close()
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer ring.Close()
	tests := []struct {
		name   string
		client redis.UniversalClient
		opts   Options
		ok     bool
	}{
		{"defaults", client, Options{WaitReplicas: 1}, true},
		{"negative replicas", client, Options{WaitReplicas: -1}, false},
		{"negative timeout", client, Options{WaitReplicas: 1, WaitTimeout: -time.Second}, false},
		{"under a millisecond", client, Options{WaitReplicas: 1, WaitTimeout: time.Microsecond}, false},
		{"timeout at the read timeout", client, Options{WaitReplicas: 1, WaitTimeout: 2 * time.Second}, false},
		{"cluster, timeout past its read timeout", cluster, Options{WaitReplicas: 1, WaitTimeout: 2 * time.Second}, false},
		{"cluster", cluster, Options{WaitReplicas: 1, WaitTimeout: 500 * time.Millisecond}, true},
		{"ring", ring, Options{WaitReplicas: 1}, false},
		{"ring without waiting", ring, Options{}, true},
	}
	for _, tt := range tests {
		_, err := New(tt.client, &tt.opts)
		if (err == nil) != tt.ok {
			t.Errorf("%s: got %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// TestOpenURLs checks which client Open's URLs make, without a server.
func TestOpenURLs(t *testing.T) {
	tests := []struct {
		url       string
		cluster   bool
		addrs     []string
		readAfter time.Duration
		ok        bool
	}{
		{"redis://127.0.0.1:6390/0", false, []string{"127.0.0.1:6390"}, openIOTimeout, true},
		{"redis://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002", true, []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"}, openIOTimeout, true},
		{"redis://127.0.0.1:7000/0?addr=127.0.0.1:7000&read_timeout=3s", true, []string{"127.0.0.1:7000", "127.0.0.1:7000"}, 3 * time.Second, true},
		{"rediss://u:p@10.0.0.1:7000?addr=10.0.0.2:7000", true, []string{"10.0.0.1:7000", "10.0.0.2:7000"}, openIOTimeout, true},
		{"redis://127.0.0.1:7000/1?addr=127.0.0.1:7001", false, nil, 0, false},
		{"redis://127.0.0.1:7000?addr=nonsense", false, nil, 0, false},
		{"redis://127.0.0.1:7000?addr=127.0.0.1:7001&db=2", false, nil, 0, false},
		{"http://127.0.0.1:7000?addr=127.0.0.1:7001", false, nil, 0, false},
	}
	for _, tt := range tests {
		client, _, err := dial(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("dial(%q): got %v, want ok=%v", tt.url, err, tt.ok)
			continue
		}
		if err != nil {
			continue
		}
		var addrs []string
		var read time.Duration
		switch c := client.(type) {
		case *redis.ClusterClient:
			addrs, read = c.Options().Addrs, c.Options().ReadTimeout
		case *redis.Client:
			addrs, read = []string{c.Options().Addr}, c.Options().ReadTimeout
		}
		_, isCluster := client.(*redis.ClusterClient)
		if isCluster != tt.cluster || fmt.Sprint(addrs) != fmt.Sprint(tt.addrs) || read != tt.readAfter {
			t.Errorf("dial(%q): got cluster=%v addrs=%v read timeout %v, want %v %v %v",
				tt.url, isCluster, addrs, read, tt.cluster, tt.addrs, tt.readAfter)
		}
		_ = client.Close()
	}
}

// TestOpenClusterNodeAlone refuses a URL naming one node of a cluster
// as if it were a single server.
func TestOpenClusterNodeAlone(t *testing.T) {
	cluster := newClient(t, clusterURL(t)).(*redis.ClusterClient)
	t.Cleanup(func() { _ = cluster.Close() })
	addr := cluster.Options().Addrs[0]
	_, err := Open("redis://"+addr+"/0", nil)
	if err == nil || !strings.Contains(err.Error(), "is a Redis Cluster node") {
		t.Errorf("Open of one cluster node without addr: got %v, want a cluster node error", err)
	}
	s, err := Open("redis://"+addr+"?addr="+addr, nil)
	if err != nil {
		t.Fatalf("Open of the cluster by one node: %v", err)
	}
	_ = s.Close()
}

// TestOpenCluster opens the test cluster by URL and checks that the
// sessions land on several masters.
func TestOpenCluster(t *testing.T) {
	url := clusterURL(t)
	s, err := Open(url, &Options{KeyPrefix: uniquePrefix(t, url)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	cluster, ok := s.client.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("Open(%q) made a %T, want a *redis.ClusterClient", url, s.client)
	}
	ctx := t.Context()
	for i := range 30 {
		mustCommit(t, s, fmt.Sprint("spread-", i), store.Delta{Create: true, IdleDeadline: time.Now().Add(time.Hour)})
	}
	// ForEachMaster calls in parallel.
	var holding atomic.Int64
	err = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		keys, _, err := node.Scan(ctx, 0, globEscape(s.prefix)+"{spread-*", 1000).Result()
		if len(keys) > 0 {
			holding.Add(1)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if holding.Load() < 2 {
		t.Errorf("30 sessions on %d masters, want them spread over several", holding.Load())
	}
}
