package soak

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// demoBin is the pos-demo binary TestMain builds for every test here.
var demoBin string

// testPIN is the cashier PIN every demo of these tests is started with.
const testPIN = "8642"

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

// buildAndRun builds the demo once, without -race: the demo is the
// subject, not the test's own code, and a race-built server would be
// several times slower under the loads here.
func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tabkit-soak-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	demoBin = filepath.Join(dir, "pos-demo")
	build := exec.Command("go", "build", "-o", demoBin, "github.com/tabkit/tabkit/cmd/pos-demo")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak: building the demo:", err)
		return 1
	}
	return m.Run()
}

// newSigningKey returns a fresh hex key for TABKIT_SIGNING_KEYS, so the
// demos here sign their cookies as a production one would.
func newSigningKey(t *testing.T) string {
	t.Helper()
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// demo is one running pos-demo process.
type demo struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	log  *demoLog
	// exited is closed once the process has been waited for; waitErr is
	// its exit status then.
	exited  chan struct{}
	waitErr error
}

// demoConfig says how to start a demo.
type demoConfig struct {
	db         string   // the bbolt file (-db)
	signingKey string   // hex key for TABKIT_SIGNING_KEYS; "" for unsigned cookies
	args       []string // further flags
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startTimeout bounds how long a demo may take to open its file and
// listen.
const startTimeout = 20 * time.Second

// startDemo starts the demo on a port the kernel picks and waits until it
// logs the address it listens on. The process is killed when the test
// ends if it is still running.
func startDemo(t *testing.T, cfg demoConfig) *demo {
	t.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-db", cfg.db, "-pin", testPIN}, cfg.args...)
	cmd := exec.Command(demoBin, args...)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TABKIT_SIGNING_KEYS=") {
			env = append(env, kv)
		}
	}
	if cfg.signingKey != "" {
		env = append(env, "TABKIT_SIGNING_KEYS="+cfg.signingKey)
	}
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the demo: %v", err)
	}
	d := &demo{t: t, cmd: cmd, log: &demoLog{}, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		d.log.read(stderr, addr)
		// Wait only once the pipe is drained, as os/exec requires.
		d.waitErr = cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		if d.running() {
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
	})
	select {
	case a := <-addr:
		d.base = "http://" + a
	case <-d.exited:
		t.Fatalf("the demo exited before listening: %v\n%s", d.waitErr, d.log)
	case <-time.After(startTimeout):
		t.Fatalf("the demo did not listen within %v:\n%s", startTimeout, d.log)
	}
	return d
}

func (d *demo) running() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// exitTimeout bounds the wait for a process that was told to end.
const exitTimeout = 20 * time.Second

// kill ends the demo with SIGKILL, giving it no chance to finish
// anything, and waits until it is gone.
func (d *demo) kill() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil && d.running() {
		d.t.Fatalf("SIGKILL: %v", err)
	}
	d.waitExit()
}

// stop asks the demo to shut down (SIGTERM) and fails the test unless it
// exits cleanly: a clean exit means the store closed without error.
func (d *demo) stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && d.running() {
		d.t.Fatalf("SIGTERM: %v", err)
	}
	d.waitExit()
	if d.waitErr != nil {
		d.t.Errorf("the demo did not exit cleanly: %v\n%s", d.waitErr, d.log.tail(20))
	}
}

func (d *demo) waitExit() {
	d.t.Helper()
	select {
	case <-d.exited:
	case <-time.After(exitTimeout):
		_ = d.cmd.Process.Kill()
		<-d.exited
		d.t.Fatalf("the demo did not exit within %v", exitTimeout)
	}
}

// demoLog keeps what a demo writes to stderr. The one-line-per-request
// access log is counted, not kept: the flood test alone makes hundreds
// of thousands of those lines.
type demoLog struct {
	// mu guards the fields below it.
	mu       sync.Mutex
	lines    []string
	dropped  int // lines beyond maxLogLines
	requests int // access-log lines seen
}

// maxLogLines bounds the memory a chatty demo can take.
const maxLogLines = 20_000

// read copies r line by line until EOF, sending the listening address to
// addr once it appears.
func (l *demoLog) read(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	announced := false
	for sc.Scan() {
		line := sc.Text()
		if !announced {
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				addr <- m[1]
				announced = true
			}
		}
		l.add(line)
	}
	// A line longer than the buffer ends the scan; drain the rest so the
	// demo never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}

func (l *demoLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.Contains(line, " msg=request ") {
		l.requests++
		return
	}
	if len(l.lines) >= maxLogLines {
		l.dropped++
		return
	}
	l.lines = append(l.lines, line)
}

// find returns the first kept line matching re.
func (l *demoLog) find(re *regexp.Regexp) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if re.MatchString(line) {
			return line, true
		}
	}
	return "", false
}

// waitFor polls for a line matching re: the log is read by another
// goroutine, so a line written just before a response may arrive just
// after it.
func (l *demoLog) waitFor(re *regexp.Regexp, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		if line, ok := l.find(re); ok {
			return line, true
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *demoLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-n):], "\n")
}

func (l *demoLog) String() string { return l.tail(maxLogLines) }
