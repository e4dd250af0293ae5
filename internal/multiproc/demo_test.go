package multiproc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const skipMessage = "set TABKIT_REDIS_URL=redis://127.0.0.1:6390/0 and run a redis-server (scripts/redis-test-server.sh start); `make test` does both"

// Databases the tests take for themselves: the demo writes its sessions
// with the store's default key prefix, so only a database of its own
// keeps a test apart from other packages' tests (which share database 0
// under prefixes of their own) and from the other test here.
const (
	dbSharedSession = 14
	dbConcurrentAdd = 15
)

// demoPIN is the cashier PIN the demo processes are started with.
const demoPIN = "2468"

// Time limits. Generous, since the race detector slows everything down;
// a healthy run takes a fraction of them.
const (
	startTimeout   = 30 * time.Second
	stopTimeout    = 20 * time.Second
	requestTimeout = 30 * time.Second
)

// buildDir holds the demo binary, built at most once per test run.
var (
	buildDir  string
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tabkit-multiproc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// demoBinary builds cmd/pos-demo the first time a test needs it, not in
// TestMain itself: a run without Redis, or one of benchmarks only, then
// pays nothing for a build it would not use.
func demoBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildPath = filepath.Join(buildDir, "pos-demo")
		args := []string{"build", "-o", buildPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/tabkit/tabkit/cmd/pos-demo")
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// redisURL returns the test server's URL, or skips t without one.
func redisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("TABKIT_REDIS_URL")
	if u == "" {
		tb.Skip(skipMessage)
	}
	return u
}

// testDB returns the URL of database db on the test server, emptied now
// and again when t ends, so nothing of an earlier run is seen and nothing
// is left behind.
func testDB(t *testing.T, db int) string {
	t.Helper()
	opts, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatalf("TABKIT_REDIS_URL: %v", err)
	}
	opts.DB = db
	client := redis.NewClient(opts)
	t.Cleanup(func() {
		if err := client.FlushDB(context.Background()).Err(); err != nil {
			t.Errorf("FLUSHDB %d at the end: %v", db, err)
		}
		_ = client.Close()
	})
	if err := client.FlushDB(t.Context()).Err(); err != nil {
		t.Fatalf("FLUSHDB %d: %v", db, err)
	}
	u := url.URL{Scheme: "redis", Host: opts.Addr, Path: fmt.Sprintf("/%d", db)}
	if opts.Username != "" || opts.Password != "" {
		u.User = url.UserPassword(opts.Username, opts.Password)
	}
	return u.String()
}

// dbClient is a client on the test database db, closed when t ends.
func dbClient(t *testing.T, db int) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatalf("TABKIT_REDIS_URL: %v", err)
	}
	opts.DB = db
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// signingKeys returns a fresh hex signing key in the form
// TABKIT_SIGNING_KEYS takes: the processes of one test share it, so a
// cookie one signs the other accepts.
func signingKeys() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return hex.EncodeToString(key)
}

// demo is one running pos-demo process.
type demo struct {
	name string
	base string // "http://127.0.0.1:port"
	cmd  *exec.Cmd
	log  *lockedBuffer
	// exited is closed once the process has exited and cmd.Wait returned.
	exited chan struct{}
}

// listenURL matches the log line in which the demo says where it serves
// the app, and not other listeners it may log (an admin endpoint).
var listenURL = regexp.MustCompile(`msg=listening .*\burl=(http://127\.0\.0\.1:\d+)/`)

// startDemo starts a demo process on a free loopback port with the given
// store and signing keys, waits until it answers, and stops it when t
// ends. Its log is printed if t fails.
func startDemo(t *testing.T, name, storeURL, keys string) *demo {
	t.Helper()
	bin := demoBinary(t)
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-store", storeURL, "-pin", demoPIN)
	// The last value of a variable wins, so an outer TABKIT_SIGNING_KEYS
	// cannot leak in.
	cmd.Env = append(os.Environ(), "TABKIT_SIGNING_KEYS="+keys)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	d := &demo{name: name, cmd: cmd, log: &lockedBuffer{}, exited: make(chan struct{})}
	found := make(chan string, 1)
	go d.readLog(stderr, found)
	go func() {
		_ = cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() { d.stop(t) })

	select {
	case d.base = <-found:
	case <-d.exited:
		t.Fatalf("%s exited before listening: %v\n%s", name, cmd.ProcessState, d.log)
	case <-time.After(startTimeout):
		t.Fatalf("%s did not say where it listens within %v\n%s", name, startTimeout, d.log)
	}
	d.waitHealthy(t)
	return d
}

// readLog copies the process's log into d.log and sends the first
// listening URL it sees to found.
func (d *demo) readLog(r io.Reader, found chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		d.log.writeLine(line)
		if m := listenURL.FindStringSubmatch(line); m != nil && !sent {
			found <- m[1]
			sent = true
		}
	}
}

// waitHealthy polls /healthz until it answers 200 or startTimeout passes.
func (d *demo) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		res, err := httpClient.Get(d.base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s at %s: /healthz not answering 200 within %v (last error %v)\n%s", d.name, d.base, startTimeout, err, d.log)
		}
		select {
		case <-d.exited:
			t.Fatalf("%s exited: %v\n%s", d.name, d.cmd.ProcessState, d.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop asks the process to shut down gracefully (SIGTERM), kills it if
// it does not within stopTimeout, and fails t if it reported a data race
// or exited with an error. The log is printed when t has failed.
func (d *demo) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(stopTimeout):
		_ = d.cmd.Process.Kill()
		<-d.exited
		t.Errorf("%s did not stop within %v of SIGTERM; killed", d.name, stopTimeout)
	}
	log := d.log.String()
	if strings.Contains(log, "WARNING: DATA RACE") {
		t.Errorf("%s reported a data race", d.name)
	}
	if !d.cmd.ProcessState.Success() {
		t.Errorf("%s exited with %v", d.name, d.cmd.ProcessState)
	}
	if t.Failed() {
		t.Logf("log of %s (%s):\n%s", d.name, d.base, log)
	}
}

// lockedBuffer is a log buffer written by the reading goroutine and read
// by the test.
type lockedBuffer struct {
	// mu guards buf.
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) writeLine(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(line)
	b.buf.WriteByte('\n')
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
