// Package kitmetrics exports tabkit's events and store sizes as
// Prometheus metrics (github.com/prometheus/client_golang). It is
// optional: kit does not import it, so an application without Prometheus
// does not link it.
//
//	c, err := kitmetrics.New(prometheus.DefaultRegisterer, kitmetrics.Config{})
//	st, err := boltstore.Open("tabkit.db", &boltstore.Options{Observe: c.ObserveBolt})
//	err = c.RegisterStore(st)                                  // gauges read at scrape
//	m, err := kit.New(kit.Config{Store: st, Observe: c.Observe})
//	http.Handle("/metrics", promhttp.Handler())                // on an operators' address
//
// Metrics, all prefixed tabkit_:
//
//	commits_total{result="ok"|"error"}     session changes committed
//	commit_duration_seconds                 histogram of the store's commit time
//	sessions_created_total                  sessions stored for the first time
//	bad_cookies_total                       cookies ignored: bad signature, malformed, oversized
//	unknown_tab_requests_total              requests for a tab the session lacks (stale or forged)
//	store_refusals_total{reason="full"|"unavailable"}  commits refused: a quota (503) or a store down
//	tabs_evicted_total                      tabs closed to make room
//	store_sessions, store_bytes, store_expired_sessions, store_file_bytes
//	                                        gauges read from the store (store.Statser) at scrape
//	store_tabs                              open tabs, with Config.CountTabs
//	store_commit_batch_size                 histogram of commits per bbolt write transaction
//	store_sweeps_total{result}              sweeps of expired sessions (bbolt)
//	store_swept_sessions_total, store_swept_bytes_total  what the sweeps removed (bbolt)
//
// # Security
//
// Metrics carry counts only, never session IDs or values, but they show
// traffic and load: serve them on an address only operators reach (the
// demo's -admin-addr, loopback by default).
//
// # Caveats
//
// The batch-size and sweep metrics need a bbolt store opened with
// ObserveBolt; other stores leave them at zero. The store gauges cost one
// Stats call per scrape (cheap for bbolt and
// Redis), and store_tabs walks every session. bad_cookies_total counts
// every rejected cookie, of which signature failures are one kind: a
// browser with a cookie from before a key rotation counts too.
package kitmetrics
