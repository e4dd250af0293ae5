// Package demoproc drives the point-of-sale demo (cmd/pos-demo) as a
// real process, for tests that need the whole binary rather than its
// handlers: Build builds it, Start runs it on a loopback port the kernel
// picks and keeps its log, and a Browser signs in and uses it over HTTP
// the way a cashier's browser would, cookie jar and CSRF tokens
// included.
//
// A test uses it like this (bin built once, in TestMain):
//
//	bin, cleanup, err := demoproc.Build(false)
//	d := demoproc.Start(t, demoproc.Command{Bin: bin, Args: []string{"-db", db, "-pin", pin}, StartTimeout: 20 * time.Second})
//	b := demoproc.NewBrowser(t, d.URL(), demoproc.NewTransport(t, 4), 15*time.Second)
//	b.SignIn(pin, "Ann")
//	cart := b.Cart(b.OpenTab())
//
// It is a package of test helpers: everything that can fail takes a
// testing.TB and fails the test, except Build, which runs before there
// is one, and Browser.Do and Browser.Add, which return errors so client
// goroutines can use them.
//
// # Caveats
//
// Every process Start starts is killed when its test ends, but only if
// the test binary gets to run its cleanups: a test binary killed from
// outside (a go test -timeout panic included) leaves its demos running.
//
// The demo's log is kept in memory and read by a goroutine, so a line
// the demo writes just before answering may arrive just after the
// answer: use Log.WaitFor, not Log.Find, for a line a request causes.
// Access-log lines are counted, not kept, unless the Command asks for
// them, and at most MaxLogLines lines are kept.
//
// A Browser's cookies ignore ports, like a real browser's, so Browser.At
// carries a session to another process on the same host, or to the demo
// restarted on another port.
package demoproc
