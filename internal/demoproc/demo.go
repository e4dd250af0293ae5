package demoproc

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
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

// demoPackage is the import path of the demo Build builds.
const demoPackage = "github.com/tabkit/tabkit/cmd/pos-demo"

// Build builds cmd/pos-demo into a new temporary directory and returns
// the binary's path and a cleanup that removes the directory. With race
// the binary is built with -race, so a data race inside the demo shows
// in its log (and fails Stop). On error nothing is left to clean up and
// the error carries the go command's output.
func Build(race bool) (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "tabkit-demo-")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, "pos-demo")
	args := []string{"build", "-o", path}
	if race {
		args = append(args, "-race")
	}
	args = append(args, demoPackage)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return path, func() { _ = os.RemoveAll(dir) }, nil
}

// NewSigningKey returns a fresh random hex key in the form
// TABKIT_SIGNING_KEYS takes.
func NewSigningKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails; it crashes the program instead
	return hex.EncodeToString(b[:])
}

// signingKeysVar is the environment variable the demo reads its cookie
// signing keys from.
const signingKeysVar = "TABKIT_SIGNING_KEYS"

// Environ returns the test's environment with TABKIT_SIGNING_KEYS set to
// keys, or without the variable when keys is "" (unsigned cookies): a
// value of the test's own environment never leaks into a demo.
func Environ(keys string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, signingKeysVar+"=") {
			env = append(env, kv)
		}
	}
	if keys != "" {
		env = append(env, signingKeysVar+"="+keys)
	}
	return env
}

// Command says how to start a demo process.
type Command struct {
	// Name names the process in failure messages; "the demo" if empty.
	Name string
	// Bin is the binary, as Build returned it.
	Bin string
	// Args are the demo's flags. Start puts "-addr 127.0.0.1:0" first,
	// so the kernel picks a free port.
	Args []string
	// Env is the process's whole environment (see Environ); nil
	// inherits the test's.
	Env []string
	// StartTimeout bounds the wait for the listening log line.
	StartTimeout time.Duration
	// KeepRequestLines keeps the access log's per-request lines in Log.
	// By default they are only counted: a flood makes hundreds of
	// thousands of them.
	KeepRequestLines bool
}

// ExitTimeout bounds the wait for a process that Stop or Kill told to end.
const ExitTimeout = 20 * time.Second

// Demo is one running pos-demo process.
type Demo struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	url  string // http://127.0.0.1:port
	log  *Log
	// exited is closed once the process has been waited for; waitErr is
	// its exit status then.
	exited  chan struct{}
	waitErr error
}

// listeningLine is the log line in which the demo says where it serves
// the app; the admin endpoint logs another message.
var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// Start starts the demo on 127.0.0.1 and a port the kernel picks, and
// waits until it logs the address it listens on; it fails t if the
// process exits first or c.StartTimeout passes. The process is killed
// when t ends if it is still running.
func Start(t testing.TB, c Command) *Demo {
	t.Helper()
	name := c.Name
	if name == "" {
		name = "the demo"
	}
	cmd := exec.Command(c.Bin, append([]string{"-addr", "127.0.0.1:0"}, c.Args...)...)
	cmd.Env = c.Env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	d := &Demo{t: t, name: name, cmd: cmd, log: &Log{keepRequests: c.KeepRequestLines}, exited: make(chan struct{})}
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
		d.url = "http://" + a
	case <-d.exited:
		t.Fatalf("%s exited before listening: %v\n%s", name, d.waitErr, d.log)
	case <-time.After(c.StartTimeout):
		t.Fatalf("%s did not listen within %v:\n%s", name, c.StartTimeout, d.log)
	}
	return d
}

// URL is where the demo serves the app: "http://127.0.0.1:port", with
// no slash at the end.
func (d *Demo) URL() string { return d.url }

// Name is the name the process goes by in failure messages.
func (d *Demo) Name() string { return d.name }

// Log is what the process has written to stderr so far.
func (d *Demo) Log() *Log { return d.log }

func (d *Demo) running() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// WaitHealthy polls GET /healthz until it answers 200, and fails the
// test if the process exits or timeout passes first.
func (d *Demo) WaitHealthy(timeout time.Duration) {
	d.t.Helper()
	client := &http.Client{Timeout: timeout}
	deadline := time.Now().Add(timeout)
	for {
		res, err := client.Get(d.url + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s at %s: /healthz not answering 200 within %v (last error %v)\n%s", d.name, d.url, timeout, err, d.log)
		}
		select {
		case <-d.exited:
			d.t.Fatalf("%s exited: %v\n%s", d.name, d.waitErr, d.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Kill ends the process with SIGKILL, giving it no chance to finish
// anything, and waits until it is gone.
func (d *Demo) Kill() {
	d.t.Helper()
	if d.signalAndWait(syscall.SIGKILL) {
		d.t.Fatalf("%s did not exit within %v of SIGKILL", d.name, ExitTimeout)
	}
}

// signalAndWait sends sig and waits up to ExitTimeout for the process to
// exit. It kills a process still running then, waits for it, and
// reports that it had to.
func (d *Demo) signalAndWait(sig syscall.Signal) (killed bool) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil && d.running() {
		d.t.Fatalf("%v to %s: %v", sig, d.name, err)
	}
	select {
	case <-d.exited:
		return false
	case <-time.After(ExitTimeout):
		_ = d.cmd.Process.Kill()
		<-d.exited
		return true
	}
}

// Stop asks the process to shut down (SIGTERM) and waits for it,
// killing it if it has not exited within ExitTimeout. It fails the test
// (without stopping it) unless the process exited by itself and cleanly
// — for the demo, a clean exit means its store closed without error —
// and logged no data race. Stopping a process that has already exited
// only checks how it ended.
func (d *Demo) Stop() {
	d.t.Helper()
	if d.signalAndWait(syscall.SIGTERM) {
		d.t.Errorf("%s did not stop within %v of SIGTERM; killed", d.name, ExitTimeout)
	}
	if d.log.contains("WARNING: DATA RACE") {
		d.t.Errorf("%s reported a data race", d.name)
	}
	if d.waitErr != nil {
		d.t.Errorf("%s did not exit cleanly: %v\n%s", d.name, d.waitErr, d.log.Tail(20))
	}
}

// Log keeps what a demo writes to stderr, line by line, up to
// MaxLogLines lines. Lines of the one-line-per-request access log are
// counted, not kept, unless Command.KeepRequestLines says otherwise.
type Log struct {
	keepRequests bool

	// mu guards the fields below it.
	mu       sync.Mutex
	lines    []string
	dropped  int // lines beyond MaxLogLines
	requests int // access-log lines seen
}

// MaxLogLines bounds the memory a chatty demo can take.
const MaxLogLines = 20_000

// read copies r line by line until EOF, sending the listening address to
// addr once it appears.
func (l *Log) read(r io.Reader, addr chan<- string) {
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

func (l *Log) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.Contains(line, " msg=request ") {
		l.requests++
		if !l.keepRequests {
			return
		}
	}
	if len(l.lines) >= MaxLogLines {
		l.dropped++
		return
	}
	l.lines = append(l.lines, line)
}

// Find returns the first kept line matching re.
func (l *Log) Find(re *regexp.Regexp) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if re.MatchString(line) {
			return line, true
		}
	}
	return "", false
}

func (l *Log) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// WaitFor polls for a line matching re until timeout passes: the log is
// read by another goroutine, so a line written just before a response
// may arrive just after it.
func (l *Log) WaitFor(re *regexp.Regexp, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		if line, ok := l.Find(re); ok {
			return line, true
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Tail returns the last n kept lines.
func (l *Log) Tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-n):], "\n")
}

// String returns every kept line.
func (l *Log) String() string { return l.Tail(MaxLogLines) }
