package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

// Store is a store.Store on Redis. It is safe for concurrent use, and any
// number of Stores in any number of processes may share one Redis: every
// change is atomic in Redis itself.
type Store struct {
	client redis.UniversalClient
	// oneNode is set for a client of one server (or of the master
	// Sentinel names): a transaction or script may then span any keys.
	// Otherwise keys of different slots are written apart.
	oneNode bool
	// ownsClient is set by Open: Close then closes the client too.
	ownsClient bool
	closed     atomic.Bool

	prefix string
	// index is the sorted set of session IDs by expiry that Sweep and the
	// MaxSessions quota use.
	index       string
	now         store.Clock
	maxBytes    int64
	maxSessions int64
	maxRetries  int
	// waitReplicas and waitTimeout are Options.WaitReplicas and
	// WaitTimeout: each write waits for that many replicas.
	waitReplicas int
	waitTimeout  time.Duration
	// grace is Options.ExpiryGrace, 0 for none.
	grace time.Duration
	// scanCount is the COUNT hint of List's and Stats's SCAN.
	scanCount int64

	locks sessionLocks
	// principalLocks makes this Store's joins of one principal under a
	// limit take turns.
	principalLocks sessionLocks

	notify store.Subscribers
	// stop ends the background sweeper, which closes done.
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	// quotaMu makes counting and creating one step for the creates of
	// this Store when MaxSessions is set, so one process never overshoots
	// the quota; several processes still may, by the creates in flight.
	quotaMu sync.Mutex
}

var (
	_ store.Store          = (*Store)(nil)
	_ store.Sweeper        = (*Store)(nil)
	_ store.Lister         = (*Store)(nil)
	_ store.Statser        = (*Store)(nil)
	_ store.PrincipalIndex = (*Store)(nil)
	_ store.Notifier       = (*Store)(nil)
	_ io.Closer            = (*Store)(nil)
)

// New returns a Store that keeps its sessions in client, configured by
// opts (nil means DefaultOptions). It does no I/O, and starts the
// background sweeper unless Options.SweepInterval is negative: call
// Close to stop it. The caller keeps owning client: Close leaves it
// open.
func New(client redis.UniversalClient, opts *Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	o := opts.withDefaults()
	if strings.ContainsAny(o.KeyPrefix, "{}") {
		return nil, fmt.Errorf("redisstore: key prefix %q contains a brace", o.KeyPrefix)
	}
	if o.MaxSessionBytes < 0 || o.MaxSessions < 0 || o.MaxRetries < 0 {
		return nil, errors.New("redisstore: negative limit in options")
	}
	if err := checkWaitOptions(client, &o); err != nil {
		return nil, err
	}
	_, oneNode := client.(*redis.Client)
	s := &Store{
		client:       client,
		oneNode:      oneNode,
		prefix:       o.KeyPrefix,
		index:        o.KeyPrefix + "index",
		now:          o.Now,
		maxBytes:     o.MaxSessionBytes,
		maxSessions:  o.MaxSessions,
		maxRetries:   o.MaxRetries,
		waitReplicas: o.WaitReplicas,
		waitTimeout:  o.WaitTimeout,
		grace:        max(o.ExpiryGrace, 0),
		scanCount:    256,
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
	}
	if o.SweepInterval < 0 {
		close(s.done)
	} else {
		go s.sweepEvery(o.SweepInterval)
	}
	return s, nil
}

// sweepEvery runs Sweep every interval until Close. Its errors are left
// for the next round: a sweep only tidies up, nothing waits for it.
func (s *Store) sweepEvery(interval time.Duration) {
	defer close(s.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
			_, _ = s.Sweep(ctx)
		}
	}
}

// Subscribe implements store.Notifier: fn hears of the sessions the
// sweeper removed after expiry (store.EventExpired, in the process whose
// sweep removed them) and those a principal limit evicted
// (store.EventEvicted, in the process that evicted them).
func (s *Store) Subscribe(fn func(store.Event)) (cancel func()) { return s.notify.Add(fn) }

// Client settings Open uses unless the URL sets them, so that a request
// fails with store.ErrUnavailable within seconds when Redis is down rather
// than holding the HTTP request for the client's defaults (5 s timeouts,
// five dials per attempt).
const (
	openDialTimeout   = 2 * time.Second
	openIOTimeout     = 2 * time.Second
	openDialerRetries = 2
)

// Open connects to the Redis at url, checks it answers, and returns a
// Store that owns the connection: Close closes it.
//
// A single server is redis://[user:password@]host:port/db, or rediss://
// for TLS, with client options as query parameters (see redis.ParseURL).
// A URL with addr parameters names a Redis Cluster by some of its nodes,
// redis://host:port?addr=host2:port2&addr=host3:port3 (see
// redis.ParseClusterURL; one node is enough, repeated as
// redis://host:port?addr=host:port); the Store then uses a
// redis.ClusterClient, which finds the other nodes and follows failovers
// by itself. A cluster has only database 0.
//
// Without timeouts in the URL, Open uses 2 s dial, read and write
// timeouts. For Sentinel or other client settings, make the client and
// call New.
func Open(url string, opts *Options) (*Store, error) {
	client, addr, err := dial(url)
	if err != nil {
		return nil, err
	}
	s, err := New(client, opts)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout(client))
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redisstore: ping %s: %w", addr, unavailable(err))
	}
	if _, single := client.(*redis.Client); single && isClusterNode(ctx, client) {
		_ = client.Close()
		return nil, fmt.Errorf("redisstore: %s is a Redis Cluster node; name the cluster with addr parameters, "+
			"as in redis://%s?addr=%s", addr, addr, addr)
	}
	s.ownsClient = true
	return s, nil
}

// pingTimeout is how long Open waits for its first answer: a dial and a
// read, and for a cluster the read of its map of slots first.
func pingTimeout(client redis.UniversalClient) time.Duration {
	switch c := client.(type) {
	case *redis.Client:
		return max(c.Options().DialTimeout, 0) + max(c.Options().ReadTimeout, 0) + time.Second
	case *redis.ClusterClient:
		return max(c.Options().DialTimeout, 0) + 2*max(c.Options().ReadTimeout, 0) + time.Second
	}
	return openDialTimeout + openIOTimeout + time.Second
}

// isClusterNode reports whether the server says it runs in cluster mode,
// where a client of that one node would reach only its own slots (and
// List would see only its sessions). A server that does not let the
// store run INFO is taken for a single server.
func isClusterNode(ctx context.Context, client redis.UniversalClient) bool {
	info, err := client.Info(ctx, "cluster").Result()
	return err == nil && strings.Contains(info, "cluster_enabled:1")
}

// dial makes the client for Open's URL: a ClusterClient when the URL has
// addr parameters, a Client otherwise. addr names the server for errors.
func dial(rawURL string) (client redis.UniversalClient, addr string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("redisstore: %w", err)
	}
	if !u.Query().Has("addr") {
		ropts, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, "", fmt.Errorf("redisstore: %w", err)
		}
		ropts.DialTimeout = cmp.Or(ropts.DialTimeout, openDialTimeout)
		ropts.ReadTimeout = cmp.Or(ropts.ReadTimeout, openIOTimeout)
		ropts.WriteTimeout = cmp.Or(ropts.WriteTimeout, openIOTimeout)
		ropts.DialerRetries = openDialerRetries
		return redis.NewClient(ropts), ropts.Addr, nil
	}
	// redis.ParseClusterURL ignores the path; a database other than 0
	// would be silently dropped, so refuse it.
	if p := strings.TrimPrefix(u.Path, "/"); p != "" && p != "0" {
		return nil, "", fmt.Errorf("redisstore: %s: a Redis Cluster has only database 0", u.Redacted())
	}
	u.Path = ""
	copts, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, "", fmt.Errorf("redisstore: %w", err)
	}
	copts.DialTimeout = cmp.Or(copts.DialTimeout, openDialTimeout)
	copts.ReadTimeout = cmp.Or(copts.ReadTimeout, openIOTimeout)
	copts.WriteTimeout = cmp.Or(copts.WriteTimeout, openIOTimeout)
	copts.DialerRetries = openDialerRetries
	return redis.NewClusterClient(copts), "cluster " + strings.Join(copts.Addrs, ","), nil
}

// Close stops the background sweeper, makes every later call fail with
// store.ErrClosed and, for a Store made by Open, closes the connection.
// It is idempotent.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		<-s.done
		if s.ownsClient {
			err = s.client.Close()
		}
	})
	return err
}

// check does the checks every method starts with.
func (s *Store) check(ctx context.Context, id string) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return store.CheckID(id)
}

// Load implements store.Store with one HGETALL.
func (s *Store) Load(ctx context.Context, id string) (store.Record, bool, error) {
	if err := s.check(ctx, id); err != nil {
		return store.Record{}, false, err
	}
	fields, err := s.client.HGetAll(ctx, s.key(id)).Result()
	if err != nil {
		return store.Record{}, false, s.fail(ctx, "load", err)
	}
	if len(fields) == 0 {
		return store.Record{}, false, nil
	}
	now := s.now.Now()
	if trace, answers := movedAway(fields, now); trace {
		if answers {
			return store.Record{}, false, store.ErrMoved
		}
		return store.Record{}, false, nil
	}
	rec, err := decodeSession(fields)
	if err != nil {
		return store.Record{}, false, fmt.Errorf("redisstore: session %q: %w", id, err)
	}
	if rec.Meta.Expired(now) {
		return store.Record{}, false, nil
	}
	rec.DropExpiredValues(now)
	return rec, true, nil
}

// Delete implements store.Store: the session's hash goes with its
// entry in the expiry index in one round trip (two with WaitReplicas:
// the hash's delete and WAIT go to its master), and a session that had
// a principal leaves the principal's set in one more. Only the delete
// of the hash decides the outcome: an index entry left behind is
// harmless (Sweep and SessionsOf drop it).
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.check(ctx, id); err != nil {
		return err
	}
	key := s.key(id)
	var del *redis.Cmd
	if s.waitReplicas > 0 {
		err := s.writeAndWait(ctx, "delete", key, deleteScript, func(p redis.Pipeliner) redis.Cmder {
			del = p.EvalSha(ctx, deleteScript.Hash(), []string{key})
			return del
		})
		if err != nil {
			return err
		}
		s.indexed(ctx, s.client.ZRem(ctx, s.index, id).Err())
	} else {
		var unindexed redis.Cmder
		_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			del = p.EvalSha(ctx, deleteScript.Hash(), []string{key})
			unindexed = p.ZRem(ctx, s.index, id)
			return nil
		})
		if isNoScript(del.Err()) {
			del = deleteScript.Eval(ctx, s.client, []string{key})
		}
		if err := del.Err(); err != nil {
			return s.fail(ctx, "delete", err)
		}
		s.indexed(ctx, unindexed.Err())
	}
	if principal, _ := del.Text(); principal != "" {
		s.indexed(ctx, s.client.SRem(ctx, s.principalKey(principal), id).Err())
	}
	return nil
}

// Commit implements store.Store. A delta of deadlines, expectations,
// deletes and sets (value deadlines included) is one script call; a
// create without a principal is one script call (plus a ZCARD when
// MaxSessions is set); a delta with EditMeta or Update functions or a
// principal to set is an optimistic transaction that runs in Go and
// retries on conflict.
func (s *Store) Commit(ctx context.Context, id string, d store.Delta) (store.Meta, error) {
	if err := s.check(ctx, id); err != nil {
		return store.Meta{}, err
	}
	s.capBytes(&d)
	switch {
	case d.Create && !d.SetPrincipal:
		return s.create(ctx, id, &d)
	case d.Create, d.SetPrincipal, d.EditMeta != nil, len(d.Update) > 0:
		return s.transact(ctx, id, "", &d)
	default:
		return s.commitPlain(ctx, id, &d)
	}
}

// capBytes applies Options.MaxSessionBytes to d.
func (s *Store) capBytes(d *store.Delta) {
	if s.maxBytes > 0 && (d.MaxBytes == 0 || s.maxBytes < d.MaxBytes) {
		d.MaxBytes = s.maxBytes
	}
}

// fail turns an error from the client into what the store promises:
// the context's error when it ended, store.ErrClosed after Close,
// store.ErrUnavailable when Redis cannot be reached.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("redisstore: %s: %w", op, ctxErr)
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	s.reloadSlots(ctx, err)
	return fmt.Errorf("redisstore: %s: %w", op, unavailable(err))
}

// reloadSlots has a cluster client reload its map of slots after err
// says a node is down or a slot has moved. The client does that itself
// after a MOVED reply it followed, but not after a refused connection
// (nor for a transaction, nor for a node's own client), so a slot whose
// master failed would keep pointing at the dead node until the client's
// periodic reload, a minute later. Reloads are asynchronous and
// coalesced, at most one every 200 ms.
func (s *Store) reloadSlots(ctx context.Context, err error) {
	if cluster, ok := s.client.(*redis.ClusterClient); ok && (isUnavailable(err) || isRedirect(err)) {
		cluster.ReloadState(ctx)
	}
}

// unavailable wraps err in store.ErrUnavailable when it means the server
// cannot serve now (unreachable, restarting, out of memory) rather than a
// mistake in the request.
func unavailable(err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}
