package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/tabkit/tabkit/admin"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/redisstore"
)

// Exit codes; doc.go lists them for scripts.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitInUse    = 3
	exitNotFound = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// ops are the operations, whether run on a store opened here or through
// a running application's admin endpoint.
type ops interface {
	Sessions(ctx context.Context) ([]admin.Session, error)
	Show(ctx context.Context, id string) (admin.Detail, error)
	Delete(ctx context.Context, id string) (admin.Session, error)
	Clear(ctx context.Context, force bool) (int, error)
	Stats(ctx context.Context) (admin.Stats, error)
	GC(ctx context.Context) (admin.SweepResult, error)
	Compact(ctx context.Context) (admin.CompactResult, error)
	SessionsOf(ctx context.Context, principal string) ([]admin.Session, error)
	EndSessionsOf(ctx context.Context, principal string) (int, error)
	Rekey(ctx context.Context) (admin.RekeyResult, error)
}

// settings are the global flags.
type settings struct {
	db, adminURL, storeURL string
	json                   bool
	timeout                time.Duration
}

const usageText = `usage: tabkit [-db FILE | -admin URL | -store redis://...] [-json] COMMAND [ARGS]

commands:
  sessions [-principal P]  list sessions (of principal P): ID prefix, principal,
                           created, last seen, expires, tabs, bytes
  show ID                  a session's handle, principal, tabs, keys, decoded values
                           and value deadlines (ID: 8+ characters)
  end -principal P         end every session of principal P and say how many
  stats                    counts, bytes, file size, expired sessions waiting for a sweep
  gc                       remove expired sessions now and say what went
  delete ID                delete one session
  clear --force            delete every session
  compact                  give the space of removed sessions back to the file system
  migrate                  upgrade a store written before session IDs were hashed

flags:
`

// run is the whole command; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var s settings
	fs := flag.NewFlagSet("tabkit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.db, "db", "tabkit.db", "bbolt `FILE` of a stopped application")
	fs.StringVar(&s.adminURL, "admin", "", "`URL` of a running application's admin endpoint, such as http://127.0.0.1:9090")
	fs.StringVar(&s.storeURL, "store", "", "redis://host:port/db `URL` of a Redis store")
	fs.BoolVar(&s.json, "json", false, "print JSON for scripts")
	fs.DurationVar(&s.timeout, "timeout", 500*time.Millisecond, "how long to wait for a bbolt file held by another process")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nexit codes: 0 ok, 1 failed, 2 usage, 3 database in use, 4 not found\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	cmd, ok := commands[fs.Arg(0)]
	if !ok {
		fmt.Fprintf(stderr, "tabkit: unknown command %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	cs := flag.NewFlagSet("tabkit "+fs.Arg(0), flag.ContinueOnError)
	cs.SetOutput(stderr)
	cs.BoolVar(&s.json, "json", s.json, "print JSON for scripts")
	force := cs.Bool("force", false, "really delete every session (clear)")
	c := call{db: s.db}
	cs.Func("principal", "the `principal` whose sessions to list or end (sessions, end)", func(p string) error {
		c.principal, c.hasPrincipal = p, true
		return nil
	})
	if err := cs.Parse(fs.Args()[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	name := fs.Arg(0)
	if cs.NArg() != cmd.args {
		fmt.Fprintf(stderr, "tabkit: %s takes %s\n", name, argsText(cmd.args))
		return exitUsage
	}
	switch {
	case name == "clear" && !*force:
		fmt.Fprintln(stderr, "tabkit: clear deletes every session, signing every user out and losing their carts; add --force to do it")
		return exitUsage
	case c.hasPrincipal && cmd.principal == noPrincipal:
		fmt.Fprintf(stderr, "tabkit: %s takes no -principal\n", name)
		return exitUsage
	case !c.hasPrincipal && cmd.principal == needsPrincipal:
		fmt.Fprintf(stderr, "tabkit: %s needs -principal P: whose sessions to end\n", name)
		return exitUsage
	}
	c.args, c.force = cs.Args(), *force

	out := &output{w: stdout, json: s.json}
	if name == "migrate" {
		return migrate(ctx, &s, cmd, &c, out, stderr)
	}
	code, err := execute(ctx, &s, cmd, &c, out, stderr)
	if code != exitOK {
		return code
	}
	return finish(err, out, stderr)
}

// execute opens what the flags point at, runs cmd on it and closes it.
// A code other than exitOK says opening failed, and has been reported.
func execute(ctx context.Context, s *settings, cmd command, c *call, out *output, stderr io.Writer) (code int, err error) {
	o, closeOps, code := open(s, stderr)
	if code != exitOK {
		return code, nil
	}
	err = cmd.run(ctx, o, out, c)
	if cerr := closeOps(); cerr != nil && err == nil {
		err = cerr
	}
	return exitOK, err
}

// finish reports err, or else the output's write error, and returns
// the exit code.
func finish(err error, out *output, stderr io.Writer) int {
	if err == nil {
		err = out.err
	}
	if err != nil {
		fmt.Fprintln(stderr, "tabkit:", err)
		return exitCode(err)
	}
	return exitOK
}

// migrate runs the migrate command. On a file it reads the file's
// format before boltstore opens it (which may migrate it) and after
// tabkit has closed it, since a file open in boltstore is locked.
func migrate(ctx context.Context, s *settings, cmd command, c *call, out *output, stderr io.Writer) int {
	if s.adminURL != "" || s.storeURL != "" {
		code, err := execute(ctx, s, cmd, c, out, stderr)
		if code != exitOK {
			return code
		}
		if err == nil {
			out.rekeyed(c.rekeyed)
		}
		return finish(err, out, stderr)
	}
	before, code := inspectFile(s, stderr)
	if code != exitOK {
		return code
	}
	c.onFile, c.before = true, before
	code, err := execute(ctx, s, cmd, c, out, stderr)
	switch {
	case code != exitOK:
		return code
	case err != nil:
		return finish(err, out, stderr)
	}
	after, code := inspectFile(s, stderr)
	if code != exitOK {
		return code
	}
	out.migrated(s.db, after, c)
	return finish(nil, out, stderr)
}

func argsText(n int) string {
	if n == 0 {
		return "no arguments"
	}
	return "one argument: a session ID or a prefix of at least 8 characters"
}

func exitCode(err error) int {
	switch {
	case errors.Is(err, admin.ErrNotFound):
		return exitNotFound
	case errors.Is(err, admin.ErrShortPrefix), errors.Is(err, admin.ErrAmbiguous), errors.Is(err, admin.ErrRefused), errors.Is(err, admin.ErrNoPrincipal):
		return exitUsage
	default:
		return exitFailed
	}
}

// open returns the operations on what the flags point at.
func open(s *settings, stderr io.Writer) (ops, func() error, int) {
	nothing := func() error { return nil }
	switch {
	case s.adminURL != "" && s.storeURL != "":
		fmt.Fprintln(stderr, "tabkit: give -admin or -store, not both")
		return nil, nothing, exitUsage
	case s.adminURL != "":
		c, err := admin.NewClient(s.adminURL, &http.Client{Timeout: 10 * time.Minute})
		if err != nil {
			fmt.Fprintln(stderr, "tabkit:", err)
			return nil, nothing, exitUsage
		}
		return c, nothing, exitOK
	case s.storeURL != "":
		if !strings.HasPrefix(s.storeURL, "redis://") && !strings.HasPrefix(s.storeURL, "rediss://") {
			fmt.Fprintf(stderr, "tabkit: -store wants a redis:// or rediss:// URL (use -db for a bbolt file)\n")
			return nil, nothing, exitUsage
		}
		st, err := redisstore.Open(s.storeURL, nil)
		if err != nil {
			fmt.Fprintln(stderr, "tabkit:", err)
			return nil, nothing, exitFailed
		}
		return admin.New(st), st.Close, exitOK
	}
	return openFile(s, stderr)
}

// openFile opens a bbolt file that no process has open. It never creates
// one: a mistyped name is an error, not a new empty database.
func openFile(s *settings, stderr io.Writer) (ops, func() error, int) {
	nothing := func() error { return nil }
	if code := checkFile(s, stderr); code != exitOK {
		return nil, nothing, code
	}
	timeout := s.timeout
	if timeout <= 0 {
		timeout = -1 // boltstore: try once
	}
	// No background sweeper: gc sweeps on request, and other commands
	// must not change what they look at.
	st, err := boltstore.Open(s.db, &boltstore.Options{Timeout: timeout, SweepInterval: -1})
	switch {
	case errors.Is(err, boltstore.ErrLocked):
		return nil, nothing, inUse(s, stderr)
	case err != nil:
		fmt.Fprintln(stderr, "tabkit:", err)
		return nil, nothing, exitFailed
	}
	return admin.New(st), st.Close, exitOK
}

// checkFile makes sure the database file exists: a mistyped name is an
// error, not a new empty database.
func checkFile(s *settings, stderr io.Writer) int {
	if _, err := os.Stat(s.db); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "tabkit: %s: no such database file\n", s.db)
			return exitNotFound
		}
		fmt.Fprintln(stderr, "tabkit:", err)
		return exitFailed
	}
	return exitOK
}

func inUse(s *settings, stderr io.Writer) int {
	fmt.Fprintf(stderr, "tabkit: %s is in use by another process (a running pos-demo?); use -admin http://127.0.0.1:PORT or stop it\n", s.db)
	return exitInUse
}

// call is what a command gets besides the operations, and what migrate
// hands back to be reported once the store is closed.
type call struct {
	args  []string
	force bool
	db    string

	principal    string
	hasPrincipal bool

	// before is, for migrate on a file, what the file held before
	// boltstore opened it.
	before fileState
	onFile bool
	// rekeyed, swept and compacted are what migrate did.
	rekeyed   admin.RekeyResult
	swept     *admin.SweepResult
	compacted *admin.CompactResult
}

// principalUse says whether a command takes -principal.
type principalUse int

const (
	noPrincipal principalUse = iota
	maybePrincipal
	needsPrincipal
)

type command struct {
	args      int
	principal principalUse
	run       func(ctx context.Context, o ops, out *output, c *call) error
}

var commands = map[string]command{
	"sessions": {0, maybePrincipal, func(ctx context.Context, o ops, out *output, c *call) error {
		if c.hasPrincipal {
			list, err := o.SessionsOf(ctx, c.principal)
			if err != nil {
				return err
			}
			out.sessionsOf(c.principal, list)
			return nil
		}
		list, err := o.Sessions(ctx)
		if err != nil {
			return err
		}
		out.sessions(list)
		return nil
	}},
	"end": {0, needsPrincipal, func(ctx context.Context, o ops, out *output, c *call) error {
		n, err := o.EndSessionsOf(ctx, c.principal)
		if err != nil {
			return err
		}
		out.ended(c.principal, n)
		return nil
	}},
	"migrate": {0, noPrincipal, func(ctx context.Context, o ops, _ *output, c *call) error {
		// Reported by migrate once the store is closed.
		var err error
		if c.rekeyed, err = o.Rekey(ctx); err != nil {
			return err
		}
		if !c.onFile || c.before.TokenKeyed <= 0 && c.before.ExpiredTokenKeyed <= 0 && c.rekeyed.Rekeyed == 0 {
			return nil
		}
		// Expired sessions still under their token go too, and since
		// bbolt reuses freed pages without clearing them, the old keys
		// stay in the file's bytes until it is rewritten.
		swept, err := o.GC(ctx)
		if err != nil {
			return fmt.Errorf("moved the sessions, but could not sweep the expired ones (run tabkit gc, then tabkit compact): %w", err)
		}
		c.swept = &swept
		compacted, err := o.Compact(ctx)
		if err != nil {
			return fmt.Errorf("moved the sessions, but could not rewrite the file without their old keys (run tabkit compact): %w", err)
		}
		c.compacted = &compacted
		return nil
	}},
	"show": {1, noPrincipal, func(ctx context.Context, o ops, out *output, c *call) error {
		d, err := o.Show(ctx, c.args[0])
		if err != nil {
			return err
		}
		out.detail(&d)
		return nil
	}},
	"stats": {0, noPrincipal, func(ctx context.Context, o ops, out *output, _ *call) error {
		st, err := o.Stats(ctx)
		if err != nil {
			return err
		}
		out.stats(&st)
		return nil
	}},
	"gc": {0, noPrincipal, func(ctx context.Context, o ops, out *output, _ *call) error {
		res, err := o.GC(ctx)
		if err != nil {
			return err
		}
		out.swept(res)
		return nil
	}},
	"delete": {1, noPrincipal, func(ctx context.Context, o ops, out *output, c *call) error {
		s, err := o.Delete(ctx, c.args[0])
		if err != nil {
			return err
		}
		out.deleted(s)
		return nil
	}},
	"clear": {0, noPrincipal, func(ctx context.Context, o ops, out *output, c *call) error {
		n, err := o.Clear(ctx, c.force)
		if err != nil {
			return err
		}
		out.cleared(n)
		return nil
	}},
	"compact": {0, noPrincipal, func(ctx context.Context, o ops, out *output, _ *call) error {
		res, err := o.Compact(ctx)
		if err != nil {
			if errors.Is(err, admin.ErrUnsupported) {
				return fmt.Errorf("%w; Redis gives memory back by itself", err)
			}
			return err
		}
		out.compacted(res)
		return nil
	}},
}
