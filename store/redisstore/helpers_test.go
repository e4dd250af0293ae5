package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

const (
	skipMessage        = "set TABKIT_REDIS_URL=redis://127.0.0.1:6390/0 and run a redis-server; `make test` does both"
	clusterSkipMessage = "set TABKIT_REDIS_CLUSTER_URL to what `scripts/redis-cluster.sh start` prints; `make test` does both"
)

// redisURL returns the single test server's URL, or skips tb without one.
func redisURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("TABKIT_REDIS_URL")
	if url == "" {
		tb.Skip(skipMessage)
	}
	return url
}

// clusterURL returns the test cluster's URL, or skips tb without one.
func clusterURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("TABKIT_REDIS_CLUSTER_URL")
	if url == "" {
		tb.Skip(clusterSkipMessage)
	}
	return url
}

// onEachServer runs fn as a subtest on the single test server and on the
// test cluster, each skipped when its URL is not set.
func onEachServer(t *testing.T, fn func(t *testing.T, url string)) {
	t.Run("single", func(t *testing.T) { fn(t, redisURL(t)) })
	t.Run("cluster", func(t *testing.T) { fn(t, clusterURL(t)) })
}

// onEachSetup is onEachServer plus the cluster with WaitReplicas 1: fn
// gets the URL and the options to start from.
func onEachSetup(t *testing.T, fn func(t *testing.T, url string, opts Options)) {
	onEachServer(t, func(t *testing.T, url string) { fn(t, url, Options{}) })
	t.Run("cluster with WaitReplicas", func(t *testing.T) {
		url, opts := waitingSetup(t)
		fn(t, url, opts)
	})
}

// waitingSetup returns the test cluster's URL and options with
// WaitReplicas 1. A replica acknowledges within milliseconds, but a
// loaded machine under -race can take far longer, so the wait may last
// 5 s (and the client's read timeout is raised to allow it).
func waitingSetup(t *testing.T) (string, Options) {
	return clusterURL(t) + "&read_timeout=10s", Options{WaitReplicas: 1, WaitTimeout: 5 * time.Second}
}

// uniquePrefix returns a key prefix no other test uses, and deletes every
// key under it when tb ends.
func uniquePrefix(tb testing.TB, url string) string {
	tb.Helper()
	name := strings.NewReplacer("{", "(", "}", ")", " ", "_").Replace(tb.Name())
	prefix := fmt.Sprintf("tabkit-test:%s:%s:", name, rand.Text()[:8])
	tb.Cleanup(func() { deleteKeys(tb, url, prefix) })
	return prefix
}

// deleteKeys removes every key that starts with prefix, on every master
// of a cluster, with a client of its own: the store under test is closed
// by then.
func deleteKeys(tb testing.TB, url, prefix string) {
	tb.Helper()
	client := newClient(tb, url)
	defer client.Close()
	ctx := context.Background()
	var mu sync.Mutex
	var keys []string
	collect := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, globEscape(prefix)+"*", 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	switch c := client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *redis.Client:
		err = collect(ctx, c)
	}
	if err != nil {
		tb.Errorf("cleanup: scan %s*: %v", prefix, err)
		return
	}
	// One key per DEL, so a cluster client can send each to its slot.
	_, err = client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
	if err != nil {
		tb.Errorf("cleanup: del: %v", err)
	}
}

// newClient makes a client the way Open does: a cluster client for a URL
// with addr parameters.
func newClient(tb testing.TB, url string) redis.UniversalClient {
	tb.Helper()
	client, _, err := dial(url)
	if err != nil {
		tb.Fatalf("dial(%q): %v", url, err)
	}
	return client
}

// testStore is a Store on the test server with its own key prefix, the
// client it uses, and a hook that counts what the client sends.
type testStore struct {
	*Store
	client  redis.UniversalClient
	counter *counter
	prefix  string
}

// newTestStore makes a Store on the single test server, with opts
// (KeyPrefix filled in), on a client of its own, closed with the store
// when tb ends.
func newTestStore(tb testing.TB, opts Options) *testStore {
	tb.Helper()
	return newTestStoreAt(tb, redisURL(tb), opts)
}

// newTestStoreAt is newTestStore on the server or cluster at url.
func newTestStoreAt(tb testing.TB, url string, opts Options) *testStore {
	tb.Helper()
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = uniquePrefix(tb, url)
	}
	client := newClient(tb, url)
	c := &counter{}
	if cluster, ok := client.(*redis.ClusterClient); ok {
		// Commands a cluster client sends to a node it picked (SCAN on
		// each master) pass only the node's hooks. Set before any
		// command, this reaches every node: each sent command then counts
		// once per node it went to.
		cluster.OnNewNode(func(node *redis.Client) { node.AddHook(c) })
	} else {
		client.AddHook(c)
	}
	s, err := New(client, &opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
		if err := client.Close(); err != nil {
			tb.Errorf("client Close: %v", err)
		}
	})
	return &testStore{Store: s, client: client, counter: c, prefix: opts.KeyPrefix}
}

// counter is a redis.Hook that counts round trips: a command sent alone
// is one, and so is a pipeline or a MULTI/EXEC block, whatever it holds
// (on a cluster: per node).
type counter struct {
	// mu guards trips and names.
	mu    sync.Mutex
	trips int
	names []string
}

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.record(cmd.Name())
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, cmd := range cmds {
			names[i] = cmd.Name()
		}
		c.record("[" + strings.Join(names, " ") + "]")
		return next(ctx, cmds)
	}
}

func (c *counter) record(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips++
	c.names = append(c.names, name)
}

// take returns the round trips since the last take, and what they sent.
func (c *counter) take() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, names := c.trips, c.names
	c.trips, c.names = 0, nil
	return n, names
}

// count counts a command and returns how many times it was sent.
func (c *counter) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, got := range c.names {
		if got == name {
			n++
		}
	}
	return n
}

// server is a redis-server process a test runs for itself.
type server struct {
	tb   testing.TB
	port int
	dir  string
	args []string // extra command-line arguments
	cmd  *exec.Cmd
}

// startServer starts a redis-server of its own on a free loopback port,
// without persistence, and stops it when tb ends. It skips tb when
// redis-server is not installed.
func startServer(tb testing.TB, args ...string) *server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("redis-server is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	srv := &server{tb: tb, port: port, dir: tb.TempDir(), args: args}
	srv.start()
	tb.Cleanup(srv.stop)
	return srv
}

func (srv *server) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", srv.port) }

// start runs the server and waits, for at most ten seconds, until it
// answers PING.
func (srv *server) start() {
	srv.tb.Helper()
	srv.cmd = exec.Command("redis-server",
		"--bind", "127.0.0.1", "--port", strconv.Itoa(srv.port),
		"--save", "", "--appendonly", "no", "--dir", srv.dir,
		// A replica gets its first copy at once, not after 5 s.
		"--repl-diskless-sync-delay", "0")
	srv.cmd.Args = append(srv.cmd.Args, srv.args...)
	srv.cmd.Dir = srv.dir
	if err := srv.cmd.Start(); err != nil {
		srv.tb.Fatalf("start redis-server: %v", err)
	}
	client := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", srv.port), MaxRetries: -1})
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := client.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			srv.stop()
			srv.tb.Fatalf("redis-server on port %d does not answer: %v", srv.port, err)
		}
	}
}

// startReplica starts a server of its own that replicates master, and
// waits, for at most ten seconds, until it is in sync.
func startReplica(tb testing.TB, master *server) *server {
	tb.Helper()
	srv := startServer(tb, "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	client := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", srv.port)})
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := client.Info(context.Background(), "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			return srv
		}
		if time.Now().After(deadline) {
			tb.Fatalf("replica on port %d not in sync with port %d: %v %q", srv.port, master.port, err, info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pause freezes the server: connections stay open, nothing answers.
func (srv *server) pause() {
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		srv.tb.Fatal(err)
	}
}

func (srv *server) resume() {
	if err := srv.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		srv.tb.Fatal(err)
	}
}

// stop kills the server and waits for it to exit.
func (srv *server) stop() {
	if srv.cmd == nil {
		return
	}
	_ = srv.cmd.Process.Kill()
	_ = srv.cmd.Wait()
	srv.cmd = nil
}

// mustCommit commits d and fails tb on an error.
func mustCommit(tb testing.TB, s store.Store, id string, d store.Delta) store.Meta {
	tb.Helper()
	m, err := s.Commit(context.Background(), id, d)
	if err != nil {
		tb.Fatalf("Commit(%q): %v", id, err)
	}
	return m
}
