package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tabkit/tabkit/kitmetrics"
	"github.com/tabkit/tabkit/store/boltstore"
)

// shutdownGrace is how long in-flight requests get to finish after
// SIGINT or SIGTERM.
const shutdownGrace = 15 * time.Second

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "pos-demo:", err)
		os.Exit(1)
	}
}

// options are the command line's settings.
type options struct {
	addr, dbPath, store, keysFile string
	// pin and pinFile are -pin and -pin-file; empty when not given.
	pin, pinFile string
	// salesDB is -sales-db: the ledger's bbolt file, "" for the default.
	salesDB string
	// trustedProxy is -trusted-proxy, as given.
	trustedProxy string
	secure       bool
	// adminAddr is where the admin endpoint and /metrics listen; empty
	// means nowhere.
	adminAddr string
	limits
}

// pinEnv is the environment variable the PIN may come from.
const pinEnv = "POS_PIN"

// defaultPIN is the PIN when none is given: a demo's, printed in the
// log so a first run can sign in.
const defaultPIN = "1234"

func parseFlags(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("pos-demo", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen `address`; port 0 picks a free port")
	fs.StringVar(&o.dbPath, "db", "tabkit.db", "bbolt `file` used by -store bolt")
	fs.StringVar(&o.store, "store", "bolt", "session store: bolt, bolt:PATH, memory, redis://host:port/db or postgres://user@host/db")
	fs.BoolVar(&o.secure, "secure", false, "mark cookies Secure (serve over HTTPS)")
	fs.StringVar(&o.keysFile, "signing-keys-file", "", "`file` of hex signing keys, one a line, newest first, 32 bytes or more each (default $TABKIT_SIGNING_KEYS, comma-separated)")
	fs.StringVar(&o.pin, "pin", "", "the cashier `PIN` (default $"+pinEnv+", else "+defaultPIN+")")
	fs.StringVar(&o.pinFile, "pin-file", "", "`file` holding the cashier PIN, instead of -pin")
	fs.StringVar(&o.salesDB, "sales-db", "", "bbolt `file` of the shop's sales ledger (default: next to -db, named *-sales.db; in Redis with -store redis://; in memory with -store memory)")
	fs.StringVar(&o.trustedProxy, "trusted-proxy", "", "`addresses` or CIDR prefixes, comma-separated, of proxies whose X-Forwarded-For and X-Real-IP are believed (default none: both headers are ignored)")
	fs.StringVar(&o.adminAddr, "admin-addr", "", "serve /metrics and the admin API (tabkit -admin) at this `address`, such as 127.0.0.1:9090; keep it on loopback (default off)")
	fs.Int64Var(&o.maxSessions, "max-sessions", defaultLimits.maxSessions, "most sessions the store keeps; 0 means no limit")
	fs.Int64Var(&o.maxBytes, "max-bytes", defaultLimits.maxBytes, "most `bytes` of session data (key names and values) the store keeps; 0 means no limit")
	fs.Int64Var(&o.maxSessionBytes, "max-session-bytes", defaultLimits.maxSessionBytes, "most `bytes` one session may hold in the store; 0 leaves it to the kit's 1 MiB")
	fs.StringVar(&o.whenFull, "when-full", defaultLimits.whenFull, "what a full store does with a new session: refuse (503, existing sessions keep working) or evict (the least recently seen)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.pin != "" && o.pinFile != "" {
		return o, errors.New("-pin and -pin-file: give one")
	}
	return o, o.limits.check()
}

// cashierPIN finds the PIN: -pin, else -pin-file, else $POS_PIN, else
// the default. from says which, for the log, which never shows a PIN
// that was given.
func cashierPIN(o options, getenv func(string) string) (pin, from string, err error) {
	switch {
	case o.pin != "":
		return o.pin, "-pin", nil
	case o.pinFile != "":
		b, err := os.ReadFile(o.pinFile)
		if err != nil {
			return "", "", fmt.Errorf("-pin-file: %w", err)
		}
		pin := strings.TrimSpace(string(b))
		if pin == "" {
			return "", "", fmt.Errorf("-pin-file %s is empty", o.pinFile)
		}
		return pin, "-pin-file", nil
	case getenv(pinEnv) != "":
		return getenv(pinEnv), "$" + pinEnv, nil
	}
	return defaultPIN, "default", nil
}

// run serves until ctx ends or a SIGINT/SIGTERM arrives, then lets
// in-flight requests finish and closes the store.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	keys, err := signingKeys(o.keysFile, getenv("TABKIT_SIGNING_KEYS"))
	if err != nil {
		return err
	}
	catalog, err := loadCatalog(catalogJSON)
	if err != nil {
		return err
	}
	pin, pinFrom, err := cashierPIN(o, getenv)
	if err != nil {
		return err
	}
	trusted, err := parseTrustedProxies(o.trustedProxy)
	if err != nil {
		return err
	}
	// The metrics exist before the store, which reports to them.
	var reg *prometheus.Registry
	var metrics *kitmetrics.Collector
	var observeStore func(boltstore.Event)
	if o.adminAddr != "" {
		if reg, metrics, err = newMetrics(); err != nil {
			return err
		}
		observeStore = metrics.ObserveBolt
	}
	st, storeName, err := openStore(o.store, o.dbPath, o.limits, observeStore)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeStore(st); cerr != nil && err == nil {
			err = fmt.Errorf("closing the store: %w", cerr)
		}
	}()
	ledger, ledgerName, err := openLedger(o.salesDB, o.store, o.dbPath)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := ledger.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the sales ledger: %w", cerr)
		}
	}()
	cfg := serverConfig{
		Store: st, Catalog: catalog, Ledger: ledger, PIN: pin, DefaultPIN: pinFrom == "default",
		SigningKeys: keys, Secure: o.secure, Logger: log, TrustedProxies: trusted,
	}
	if o.adminAddr != "" {
		if err := metrics.RegisterStore(st); err != nil {
			return err
		}
		cfg.Observe = metrics.Observe
	}
	e, mgr, err := newServer(cfg)
	if err != nil {
		return err
	}
	// Deferred after closeStore and the ledger's Close, so it runs before
	// them.
	defer func() { _ = mgr.Close() }()
	if o.adminAddr != "" {
		// Sessions the operator ends are ended through the kit, so the
		// demo hears of them (and notes why, for their terminals).
		h, err := adminHandler(st, mgr, reg)
		if err != nil {
			return err
		}
		shutdownAdmin, err := startAdmin(o.adminAddr, h, log)
		if err != nil {
			return fmt.Errorf("-admin-addr: %w", err)
		}
		// Deferred last, so it runs first: no admin request finds the
		// store, the ledger or the Manager closed.
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			_ = shutdownAdmin(ctx)
		}()
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if pinFrom == "default" {
		// The built-in PIN is no secret; a PIN that was given is never
		// logged.
		log.Warn("the cashier PIN is the demo's default; set -pin, -pin-file or $"+pinEnv, "pin", defaultPIN)
	} else {
		log.Info("cashier PIN set", "from", pinFrom)
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/",
		"store", storeName, "sales", ledgerName, "products", catalog.Len(), "signed_cookies", len(keys) > 0,
		"secure", o.secure, "trusted_proxies", len(trusted))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal ends the process at once
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
