package main

import (
	"log/slog"
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ThrottleConfig bounds wrong PINs: per client (an IPv4 address, or an
// IPv6 /64) and for the whole process, each a token bucket that a wrong
// PIN takes a token from. A client with no token left, or any client
// while the overall bucket is empty, is answered 429 without its PIN
// being checked. Zero fields take DefaultThrottle's.
type ThrottleConfig struct {
	// ClientBurst is how many wrong PINs in a row one client may send.
	// Default 5.
	ClientBurst int
	// ClientEvery is how often one client earns one more try. Default
	// 20 s (three a minute).
	ClientEvery time.Duration
	// Burst and Every are the same for all clients together. Default 30,
	// and one every 2 s: a 4-digit PIN then takes hours to guess, from
	// any number of addresses.
	Burst int
	Every time.Duration
	// LogEvery is how often a refusal is logged, per client and for the
	// overall bucket, so a flood writes a line a minute, not a line a
	// request. Default one minute.
	LogEvery time.Duration
	// MaxClients bounds the clients remembered; past it, idle ones are
	// forgotten, and if none is idle new clients share one bucket.
	// Default 4096.
	MaxClients int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultThrottle holds the defaults of ThrottleConfig.
var DefaultThrottle = ThrottleConfig{
	ClientBurst: 5,
	ClientEvery: 20 * time.Second,
	Burst:       30,
	Every:       2 * time.Second,
	LogEvery:    time.Minute,
	MaxClients:  4096,
	Now:         time.Now,
}

func (cfg ThrottleConfig) withDefaults() ThrottleConfig {
	d := DefaultThrottle
	if cfg.ClientBurst == 0 {
		cfg.ClientBurst = d.ClientBurst
	}
	if cfg.ClientEvery == 0 {
		cfg.ClientEvery = d.ClientEvery
	}
	if cfg.Burst == 0 {
		cfg.Burst = d.Burst
	}
	if cfg.Every == 0 {
		cfg.Every = d.Every
	}
	if cfg.LogEvery == 0 {
		cfg.LogEvery = d.LogEvery
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = d.MaxClients
	}
	if cfg.Now == nil {
		cfg.Now = d.Now
	}
	return cfg
}

// pinThrottle is the sign-in form's throttle.
type pinThrottle struct {
	cfg     ThrottleConfig
	log     *slog.Logger
	overall *rate.Limiter

	// mu guards clients, overflow and overallLogged.
	mu       sync.Mutex
	clients  map[netip.Prefix]*clientBucket
	overflow *clientBucket
	// overallLogged is when a refusal by the overall bucket was last
	// logged.
	overallLogged time.Time
}

// clientBucket is one client's bucket and when its refusal was last
// logged (guarded by pinThrottle.mu).
type clientBucket struct {
	limiter *rate.Limiter
	logged  time.Time
}

func newPINThrottle(cfg ThrottleConfig, log *slog.Logger) *pinThrottle {
	cfg = cfg.withDefaults()
	return &pinThrottle{
		cfg:     cfg,
		log:     log,
		overall: rate.NewLimiter(rate.Every(cfg.Every), cfg.Burst),
		clients: make(map[netip.Prefix]*clientBucket),
	}
}

// pinAttempt is one sign-in's hold on both buckets: a token of each,
// taken up front so concurrent guesses cannot all pass one check.
type pinAttempt struct {
	t               *pinThrottle
	now             time.Time
	client, overall *rate.Reservation
	wait            time.Duration
}

// begin takes a token for an attempt from ip (c.RealIP()). The attempt
// is refused when a bucket has none; otherwise it must end in failed or
// succeeded.
func (t *pinThrottle) begin(ip string) *pinAttempt {
	now := t.cfg.Now()
	key := clientKey(ip)
	bucket := t.bucket(key, now)
	a := &pinAttempt{t: t, now: now}
	a.client = bucket.limiter.ReserveN(now, 1)
	if d := delay(a.client, now); d > 0 {
		a.client.CancelAt(now)
		a.wait = d
		t.logRefusal(&bucket.logged, now, "sign-in throttled: too many wrong PINs from this client", "client", key.String(), "retry_after", d.Round(time.Second))
		return a
	}
	a.overall = t.overall.ReserveN(now, 1)
	if d := delay(a.overall, now); d > 0 {
		a.overall.CancelAt(now)
		a.client.CancelAt(now)
		a.wait = d
		t.logRefusal(&t.overallLogged, now, "sign-in throttled: too many wrong PINs overall", "client", key.String(), "retry_after", d.Round(time.Second))
	}
	return a
}

// delay is how long a reservation would make its caller wait; one that
// can never be met counts as an hour.
func delay(r *rate.Reservation, now time.Time) time.Duration {
	if !r.OK() {
		return time.Hour
	}
	return r.DelayFrom(now)
}

// refused returns how long the client must wait, or 0 when the attempt
// may check its PIN.
func (a *pinAttempt) refused() time.Duration { return a.wait }

// failed keeps the tokens: the PIN was wrong.
func (a *pinAttempt) failed() {}

// succeeded gives the tokens back: only wrong PINs count.
func (a *pinAttempt) succeeded() {
	if a.wait > 0 {
		return
	}
	a.client.CancelAt(a.now)
	a.overall.CancelAt(a.now)
}

// logRefusal logs a refusal unless one was logged within LogEvery by the
// same bucket (last).
func (t *pinThrottle) logRefusal(last *time.Time, now time.Time, msg string, args ...any) {
	t.mu.Lock()
	due := now.Sub(*last) >= t.cfg.LogEvery
	if due {
		*last = now
	}
	t.mu.Unlock()
	if due {
		t.log.Warn(msg, args...)
	}
}

// bucket returns key's bucket, making one if needed.
func (t *pinThrottle) bucket(key netip.Prefix, now time.Time) *clientBucket {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.clients[key]; ok {
		return b
	}
	if len(t.clients) >= t.cfg.MaxClients {
		t.forgetIdle(now)
	}
	if len(t.clients) >= t.cfg.MaxClients {
		if t.overflow == nil {
			t.overflow = &clientBucket{limiter: t.newClientLimiter()}
		}
		return t.overflow
	}
	b := &clientBucket{limiter: t.newClientLimiter()}
	t.clients[key] = b
	return b
}

func (t *pinThrottle) newClientLimiter() *rate.Limiter {
	return rate.NewLimiter(rate.Every(t.cfg.ClientEvery), t.cfg.ClientBurst)
}

// forgetIdle drops the buckets that are full again: forgetting them
// changes nothing, since a new bucket starts full. Called with mu held.
func (t *pinThrottle) forgetIdle(now time.Time) {
	full := float64(t.cfg.ClientBurst)
	for k, b := range t.clients {
		if b.limiter.TokensAt(now) >= full && now.Sub(b.logged) >= t.cfg.LogEvery {
			delete(t.clients, k)
		}
	}
}

// clientKey is the bucket a client address falls in: the address for
// IPv4, its /64 for IPv6 (one host commonly holds a whole /64). A value
// that is not an address gets the zero prefix, one shared bucket.
func clientKey(ip string) netip.Prefix {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}
	}
	addr = addr.Unmap().WithZone("")
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// retryAfterSeconds is a wait as Retry-After takes it: whole seconds,
// rounded up, at least one.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// waitText says a wait in words: "12 seconds", "1 minute".
func waitText(d time.Duration) string {
	s := retryAfterSeconds(d)
	switch {
	case s == 1:
		return "1 second"
	case s < 90:
		return plural(s, "second", "seconds")
	default:
		return plural((s+59)/60, "minute", "minutes")
	}
}
