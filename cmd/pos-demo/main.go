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
	addr, dbPath, store, keysFile, pin string
	secure                             bool
	// adminAddr is where the admin endpoint and /metrics listen; empty
	// means nowhere.
	adminAddr string
	limits
}

func parseFlags(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("pos-demo", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen `address`; port 0 picks a free port")
	fs.StringVar(&o.dbPath, "db", "tabkit.db", "bbolt `file` used by -store bolt")
	fs.StringVar(&o.store, "store", "bolt", "session store: bolt, bolt:PATH, memory, redis://host:port/db or postgres://user@host/db")
	fs.BoolVar(&o.secure, "secure", false, "mark cookies Secure (serve over HTTPS)")
	fs.StringVar(&o.keysFile, "signing-keys-file", "", "`file` of hex signing keys, one a line, newest first, 32 bytes or more each (default $TABKIT_SIGNING_KEYS, comma-separated)")
	fs.StringVar(&o.pin, "pin", "1234", "the cashier `PIN`")
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
	return o, o.limits.check()
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
	cfg := serverConfig{Store: st, Catalog: catalog, PIN: o.pin, SigningKeys: keys, Secure: o.secure, Logger: log}
	if o.adminAddr != "" {
		if err := metrics.RegisterStore(st); err != nil {
			return err
		}
		cfg.Observe = metrics.Observe
		shutdownAdmin, err := startAdmin(o.adminAddr, adminHandler(st, reg), log)
		if err != nil {
			return fmt.Errorf("-admin-addr: %w", err)
		}
		// Deferred after closeStore, so it runs first: no admin request
		// finds the store closed.
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			_ = shutdownAdmin(ctx)
		}()
	}
	e, err := newServer(cfg)
	if err != nil {
		return err
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
	log.Info("demo cashier PIN", "pin", o.pin)
	log.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/",
		"store", storeName, "products", catalog.Len(), "signed_cookies", len(keys) > 0, "secure", o.secure)

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
