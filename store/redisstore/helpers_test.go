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

const skipMessage = "set TABKIT_REDIS_URL=redis://127.0.0.1:6390/0 and run a redis-server; `make test` does both"

// redisURL returns the test server's URL, or skips tb without one.
func redisURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("TABKIT_REDIS_URL")
	if url == "" {
		tb.Skip(skipMessage)
	}
	return url
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

// deleteKeys removes every key that starts with prefix, with a client of
// its own: the store under test is closed by then.
func deleteKeys(tb testing.TB, url, prefix string) {
	tb.Helper()
	client := newClient(tb, url)
	defer client.Close()
	ctx := context.Background()
	iter := client.Scan(ctx, 0, globEscape(prefix)+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("cleanup: scan %s*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := client.Del(ctx, keys[:n]...).Err(); err != nil {
			tb.Errorf("cleanup: del: %v", err)
			return
		}
		keys = keys[n:]
	}
}

func newClient(tb testing.TB, url string) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("ParseURL(%q): %v", url, err)
	}
	return redis.NewClient(opts)
}

// testStore is a Store on the test server with its own key prefix, the
// client it uses, and a hook that counts what the client sends.
type testStore struct {
	*Store
	client  *redis.Client
	counter *counter
	prefix  string
}

// newTestStore makes a Store with opts (KeyPrefix filled in) on a client
// of its own, closed with the store when tb ends.
func newTestStore(tb testing.TB, opts Options) *testStore {
	tb.Helper()
	url := redisURL(tb)
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = uniquePrefix(tb, url)
	}
	client := newClient(tb, url)
	c := &counter{}
	client.AddHook(c)
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
// is one, and so is a pipeline or a MULTI/EXEC block, whatever it holds.
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
	cmd  *exec.Cmd
}

// startServer starts a redis-server of its own on a free loopback port,
// without persistence, and stops it when tb ends. It skips tb when
// redis-server is not installed.
func startServer(tb testing.TB) *server {
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
	srv := &server{tb: tb, port: port, dir: tb.TempDir()}
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
		"--save", "", "--appendonly", "no", "--dir", srv.dir)
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
