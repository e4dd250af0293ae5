package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tabkit/tabkit/admin"
	"github.com/tabkit/tabkit/kitmetrics"
	"github.com/tabkit/tabkit/store"
)

// newMetrics makes the registry /metrics serves: tabkit's metrics plus
// the Go runtime's and the process's. The store's gauges are added once
// it is open (Collector.RegisterStore).
func newMetrics() (*prometheus.Registry, *kitmetrics.Collector, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// A demo store is small enough to count its tabs at every scrape.
	c, err := kitmetrics.New(reg, kitmetrics.Config{CountTabs: true})
	if err != nil {
		return nil, nil, err
	}
	return reg, c, nil
}

// adminHandler serves /metrics and the admin API of package admin, which
// the tabkit command uses with -admin. Sessions the API ends (delete,
// clear, end a principal's) are ended through ender, the demo's
// *kit.Manager, so the demo's Observe hook hears of each
// (kit.EventSessionDestroyed). /metrics gets the admin API's Host check:
// a DNS-rebinding page (its own name resolving to 127.0.0.1) sends its
// own name as Host and is refused.
func adminHandler(st store.Store, ender admin.Ender, reg *prometheus.Registry) (http.Handler, error) {
	ops, err := admin.NewWith(admin.Config{Store: st, Ender: ender})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", localHostOnly(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	mux.Handle("/admin/", ops.Handler())
	return mux, nil
}

// localHostOnly refuses a request whose Host is a DNS name other than
// localhost, as package admin does for its own API.
func localHostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostOnly(r.Host)
		if host != "localhost" && net.ParseIP(host) == nil {
			http.Error(w, "metrics: Host must be an IP address or localhost", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isLoopback reports whether addr listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// startAdmin serves h on addr until the returned shutdown is called.
func startAdmin(addr string, h http.Handler, log *slog.Logger) (shutdown func(context.Context) error, err error) {
	if !isLoopback(addr) {
		// The admin API has no authentication and shows session data.
		log.Warn("ADMIN ENDPOINT IS NOT ON LOOPBACK: anyone who can reach it can read and delete every session",
			"admin_addr", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Compaction of a large file takes a while; the admin API is for
		// operators, not the public.
		WriteTimeout: 10 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("admin endpoint listening", "admin_addr", ln.Addr().String(),
		"metrics", "http://"+ln.Addr().String()+"/metrics", "cli", "tabkit -admin http://"+ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin endpoint stopped", "err", err)
		}
	}()
	return srv.Shutdown, nil
}
