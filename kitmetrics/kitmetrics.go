package kitmetrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
)

// namespace starts every metric's name.
const namespace = "tabkit"

// Config says what a Collector reads at scrape time besides the events it
// is given.
type Config struct {
	// Store, when it implements store.Statser, is asked for its size at
	// every scrape: tabkit_store_sessions, _bytes, _expired_sessions and
	// _file_bytes. Nil means no store gauges.
	Store store.Store

	// CountTabs walks every session at every scrape (store.Lister) to
	// report tabkit_store_tabs. Default false: that costs a read of every
	// session's meta, fine for thousands of sessions, not for millions.
	CountTabs bool

	// ScrapeTimeout bounds the store calls of one scrape. Default 5s.
	// Zero means the default.
	ScrapeTimeout time.Duration
}

// Collector turns kit and store events into Prometheus metrics. Its
// methods are safe for concurrent use.
type Collector struct {
	commits         *prometheus.CounterVec
	commitSeconds   prometheus.Histogram
	sessionsCreated prometheus.Counter
	badCookies      prometheus.Counter
	unknownTabs     prometheus.Counter
	refusals        *prometheus.CounterVec
	tabsEvicted     prometheus.Counter
	batchSize       prometheus.Histogram
	sweeps          *prometheus.CounterVec
	sweptSessions   prometheus.Counter
	sweptBytes      prometheus.Counter
	lifecycle       *prometheus.CounterVec
	conflicts       prometheus.Counter
	expiredCookies  prometheus.Counter

	reg prometheus.Registerer
	cfg Config
}

// New registers the metrics with reg and returns the Collector that
// feeds them. Pass its Observe as kit.Config.Observe, and, for a bbolt
// store, its ObserveBolt as boltstore.Options.Observe (then give the
// store to RegisterStore rather than Config.Store, as the store is
// opened after the Collector).
func New(reg prometheus.Registerer, cfg Config) (*Collector, error) {
	if reg == nil {
		return nil, errors.New("kitmetrics: nil Registerer")
	}
	if cfg.ScrapeTimeout == 0 {
		cfg.ScrapeTimeout = 5 * time.Second
	}
	c := &Collector{
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "commits_total",
			Help: "Session changes committed to the store, by result (ok or error).",
		}, []string{"result"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "commit_duration_seconds",
			Help:    "Time the store took to commit a session change, durably.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 13), // 0.5 ms to 2 s
		}),
		sessionsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "sessions_created_total",
			Help: "Sessions stored for the first time.",
		}),
		badCookies: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "bad_cookies_total",
			Help: "Session cookies ignored: bad signature, malformed or oversized.",
		}),
		unknownTabs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "unknown_tab_requests_total",
			Help: "Requests naming a tab their session does not have (stale or forged), redirected or refused.",
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_refusals_total",
			Help: "Commits the store refused, by reason: full (a quota) or unavailable.",
		}, []string{"reason"}),
		tabsEvicted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "tabs_evicted_total",
			Help: "Tabs closed to make room for new ones.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "store_commit_batch_size",
			Help:    "Commits and deletes sharing one write transaction and fsync (bbolt group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9), // 1 to 256, the most a round takes
		}),
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_sweeps_total",
			Help: "Sweeps of expired sessions, by result (ok or error).",
		}, []string{"result"}),
		sweptSessions: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_swept_sessions_total",
			Help: "Expired sessions removed by sweeps.",
		}),
		sweptBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_swept_bytes_total",
			Help: "Bytes of session data removed by sweeps.",
		}),
		lifecycle: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "session_events_total",
			Help: "The lifecycle of sessions, by event: created, regenerated, principal_changed, destroyed, expired, evicted.",
		}, []string{"event"}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "conflicts_total",
			Help: "Commits refused because a value they were computed from changed meanwhile (answered 409).",
		}),
		expiredCookies: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "expired_cookies_total",
			Help: "Authentic signed cookies ignored for being older than the session lifetime.",
		}),
		reg: reg,
		cfg: cfg,
	}
	for _, kind := range lifecycleEvents {
		c.lifecycle.WithLabelValues(kind.String())
	}
	// Both labels of each vector exist from the start, so a rate over
	// them works before the first error.
	c.commits.WithLabelValues("ok")
	c.commits.WithLabelValues("error")
	c.refusals.WithLabelValues("full")
	c.refusals.WithLabelValues("unavailable")
	c.sweeps.WithLabelValues("ok")
	c.sweeps.WithLabelValues("error")
	for _, m := range []prometheus.Collector{c.commits, c.commitSeconds, c.sessionsCreated, c.badCookies,
		c.unknownTabs, c.refusals, c.tabsEvicted, c.batchSize, c.sweeps, c.sweptSessions, c.sweptBytes,
		c.lifecycle, c.conflicts, c.expiredCookies} {
		if err := reg.Register(m); err != nil {
			return nil, fmt.Errorf("kitmetrics: %w", err)
		}
	}
	if cfg.Store != nil {
		if err := c.RegisterStore(cfg.Store); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// RegisterStore adds the gauges read from st at scrape time (see
// Config.Store), for a store opened after the Collector. Call it once.
func (c *Collector) RegisterStore(st store.Store) error {
	cfg := c.cfg
	cfg.Store = st
	if err := c.reg.Register(newStoreMetrics(cfg)); err != nil {
		return fmt.Errorf("kitmetrics: %w", err)
	}
	return nil
}

// ObserveBolt counts a bbolt store's event; it is a
// boltstore.Options.Observe.
func (c *Collector) ObserveBolt(e boltstore.Event) {
	switch e.Kind {
	case boltstore.EventRound:
		c.batchSize.Observe(float64(e.Ops))
	case boltstore.EventSweep:
		result := "ok"
		if e.Err != nil {
			result = "error"
		}
		c.sweeps.WithLabelValues(result).Inc()
		c.sweptSessions.Add(float64(e.Sessions))
		c.sweptBytes.Add(float64(e.Bytes))
	}
}

// Observe counts a kit event; it is a kit.Config.Observe.
func (c *Collector) Observe(e kit.Event) {
	switch e.Kind {
	case kit.EventCommit:
		result := "ok"
		if e.Err != nil {
			result = "error"
		}
		c.commits.WithLabelValues(result).Inc()
		c.commitSeconds.Observe(e.Duration.Seconds())
	case kit.EventSessionCreated:
		c.sessionsCreated.Inc()
		c.lifecycle.WithLabelValues(e.Kind.String()).Inc()
	case kit.EventSessionRegenerated, kit.EventPrincipalChanged, kit.EventSessionDestroyed,
		kit.EventSessionExpired, kit.EventSessionEvicted:
		c.lifecycle.WithLabelValues(e.Kind.String()).Inc()
	case kit.EventConflict:
		c.conflicts.Inc()
	case kit.EventExpiredCookie:
		c.expiredCookies.Inc()
	case kit.EventBadCookie:
		c.badCookies.Inc()
	case kit.EventUnknownTab:
		c.unknownTabs.Inc()
	case kit.EventStoreRefused:
		reason := "unavailable"
		if errors.Is(e.Err, store.ErrFull) {
			reason = "full"
		}
		c.refusals.WithLabelValues(reason).Inc()
	case kit.EventTabEvicted:
		c.tabsEvicted.Add(float64(max(e.Tabs, 1)))
	}
}

// lifecycleEvents are the kit events counted in
// tabkit_session_events_total.
var lifecycleEvents = []kit.EventKind{
	kit.EventSessionCreated, kit.EventSessionRegenerated, kit.EventPrincipalChanged,
	kit.EventSessionDestroyed, kit.EventSessionExpired, kit.EventSessionEvicted,
}

// storeMetrics are the gauges read from the store at scrape time.
type storeMetrics struct {
	cfg                                  Config
	sessions, bytes, expired, file, tabs *prometheus.Desc
}

func newStoreMetrics(cfg Config) *storeMetrics {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "store", name), help, nil, nil)
	}
	return &storeMetrics{
		cfg:      cfg,
		sessions: desc("sessions", "Sessions stored, expired ones not yet swept included."),
		bytes:    desc("bytes", "Live session data: key names and values."),
		expired:  desc("expired_sessions", "Stored sessions past their deadline, waiting for a sweep."),
		file:     desc("file_bytes", "Size of the store's file on disk."),
		tabs:     desc("tabs", "Open tabs of live sessions."),
	}
}

// Describe implements prometheus.Collector.
func (s *storeMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.sessions
	ch <- s.bytes
	ch <- s.expired
	ch <- s.file
	if s.cfg.CountTabs {
		ch <- s.tabs
	}
}

// Collect implements prometheus.Collector: it asks the store, so the
// numbers are never staler than the scrape.
func (s *storeMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ScrapeTimeout)
	defer cancel()
	if st, ok := s.cfg.Store.(store.Statser); ok {
		stats, err := st.Stats(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(s.sessions, err)
		} else {
			ch <- prometheus.MustNewConstMetric(s.sessions, prometheus.GaugeValue, float64(stats.Sessions))
			ch <- prometheus.MustNewConstMetric(s.bytes, prometheus.GaugeValue, float64(stats.Bytes))
			ch <- prometheus.MustNewConstMetric(s.expired, prometheus.GaugeValue, float64(stats.Expired))
			if stats.FileBytes > 0 {
				ch <- prometheus.MustNewConstMetric(s.file, prometheus.GaugeValue, float64(stats.FileBytes))
			}
		}
	}
	if l, ok := s.cfg.Store.(store.Lister); ok && s.cfg.CountTabs {
		var tabs int
		err := l.List(ctx, func(_ string, m store.Meta) bool {
			tabs += len(m.Tabs)
			if _, ok := m.Tabs[0]; !ok {
				tabs++ // tab 0 is always open
			}
			return true
		})
		if err != nil {
			ch <- prometheus.NewInvalidMetric(s.tabs, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(s.tabs, prometheus.GaugeValue, float64(tabs))
	}
}
