package failover

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/redisstore"
)

const (
	// writers is how many browsers write at once, each to a session of
	// its own.
	writers = 32
	// settled is how many successes in a row make a writer count as
	// working (before the kill) or recovered (after it).
	settled = 3
	// requestTimeout bounds every request of a writer.
	requestTimeout = 15 * time.Second
	// recoveryLimit bounds how long the test waits for the cluster and
	// the writers to recover after the kill.
	recoveryLimit = 60 * time.Second
)

func TestFailover(t *testing.T) {
	if os.Getenv("TABKIT_REDIS_CLUSTER_URL") == "" {
		t.Skip("set TABKIT_REDIS_CLUSTER_URL (what `scripts/redis-cluster.sh start` prints) to run the failover test; " +
			"it runs on a cluster of its own, so it never disturbs the shared one; `make test` sets it")
	}
	if testing.Short() {
		t.Skip("the failover test kills Redis masters four times and takes about a minute")
	}
	c := startCluster(t)
	tests := []struct {
		name         string
		waitReplicas int
		lagging      bool
	}{
		{"kill, WaitReplicas 0", 0, false},
		{"kill, WaitReplicas 1", 1, false},
		{"kill with the replica behind, WaitReplicas 0", 0, true},
		{"kill with the replica behind, WaitReplicas 1", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runFailover(t, c, tt.waitReplicas, tt.lagging) })
	}
}

// runFailover runs the writers against the cluster, kills the master
// that holds the store's index (so the sessions on the other masters
// show they need nothing from it), and checks what the writers saw.
//
// With lagging, the master's replica falls behind first: it is frozen,
// and the master is sent more than the sockets between them buffer, so
// the writes after that stay in the master's memory and die with it,
// as they would with a replica on a slow link. The replica thaws right
// after the kill and is promoted without them.
func runFailover(t *testing.T, c *cluster, waitReplicas int, lagging bool) {
	ctx := t.Context()
	prefix := "failover-" + rand.Text()[:8] + ":"
	// A replica in sync acknowledges within milliseconds, but a loaded
	// machine under -race can take far longer, and a writer on a healthy
	// master must never be refused: the wait may last 3 s.
	st, err := redisstore.Open(c.url+"&read_timeout=5s", &redisstore.Options{
		KeyPrefix: prefix, WaitReplicas: waitReplicas, WaitTimeout: 3 * time.Second,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rec := &recorder{Store: st}
	srv := newApp(t, rec)

	ws := make([]*writer, writers)
	for i := range ws {
		ws[i] = newWriter(t, srv.URL)
	}
	where := placeSessions(t, c, prefix, ws)
	victim, replica := where.index, ""
	nodes, err := c.nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.addr == victim {
			for _, r := range nodes {
				if r.masterID == n.id {
					replica = r.addr
				}
			}
		}
	}
	if replica == "" {
		t.Fatalf("master %s has no replica: %+v", victim, nodes)
	}
	var affected, spared []*writer
	for _, w := range ws {
		if where.session[w.id] == victim {
			affected = append(affected, w)
		} else {
			spared = append(spared, w)
		}
	}
	if len(affected) == 0 || len(spared) == 0 {
		t.Fatalf("%d sessions on the victim %s and %d elsewhere; want some of each", len(affected), victim, len(spared))
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() { w.run(stop) })
	}
	stopped := false
	stopWriters := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	t.Cleanup(stopWriters)
	waitUntil(t, "every writer working", 30*time.Second, func() bool {
		return all(ws, func(w *writer) bool { return w.settledSince(time.Time{}) })
	})

	slots, err := c.slotMasters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec.reset()
	victimPID, replicaPID := c.pid(ctx, victim), c.pid(ctx, replica)
	if lagging {
		c.signal(replicaPID, syscall.SIGSTOP)
		t.Cleanup(func() { _ = syscall.Kill(replicaPID, syscall.SIGCONT) })
		fillLink(t, c, victim, where.keyOf(affected[0].id))
		behind := time.Now()
		waitUntil(t, "the writers on the master past its frozen replica", 10*time.Second, func() bool {
			return all(affected, func(w *writer) bool { return w.pastReplica(behind, waitReplicas == 0) })
		})
	}
	killed := time.Now()
	c.signal(victimPID, syscall.SIGKILL)
	if lagging {
		c.signal(replicaPID, syscall.SIGCONT)
	}
	// New visitors keep arriving during the gap.
	gap := make(chan struct{})
	var newcomers []result
	var newcomersDone sync.WaitGroup
	newcomersDone.Go(func() { newcomers = arrive(t, srv.URL, gap) })
	waitUntil(t, "the replica "+replica+" promoted", recoveryLimit, func() bool { return c.isMaster(ctx, replica) })
	promoted := time.Now()
	close(gap)
	newcomersDone.Wait()
	// With WaitReplicas the new master must get a replica before its
	// writes are acknowledged again: the killed node comes back (as a
	// supervisor would restart it) and rejoins as that replica. Without,
	// the writers must recover with the node still down.
	recoveredFrom := promoted
	if waitReplicas > 0 {
		c.heal()
		recoveredFrom = time.Now()
	}
	waitUntil(t, "the writers on the failed master recovered", recoveryLimit, func() bool {
		return all(affected, func(w *writer) bool { return w.settledSince(recoveredFrom) })
	})
	stopWriters()
	if waitReplicas == 0 {
		c.heal()
	}

	// What each browser was told, against what the store holds.
	var total, refused, lost, keptUnacked int
	var gaps []time.Duration
	for _, w := range ws {
		stored := w.stored(t)
		lost += len(w.acked) - countIn(w.acked, stored)
		keptUnacked += len(stored) - countIn(stored, w.acked)
		total += len(w.results)
		var first, last *result
		for i := range w.results {
			r := &w.results[i]
			if r.status == http.StatusOK {
				continue
			}
			refused++
			if r.status != http.StatusServiceUnavailable || r.retryAfter == "" || r.err != nil {
				t.Errorf("writer %s: %s; want 503 with Retry-After", w.id[:8], r)
			}
			if first == nil {
				first = r
			}
			last = r
		}
		if first != nil {
			gaps = append(gaps, last.end.Sub(first.start))
		}
	}
	var sparedSlowest time.Duration
	for _, w := range spared {
		for _, r := range w.results {
			if r.status != http.StatusOK {
				t.Errorf("writer %s on a surviving master: %s; want every request answered 200", w.id[:8], &r)
			}
			sparedSlowest = max(sparedSlowest, r.end.Sub(r.start))
		}
	}
	if len(gaps) == 0 {
		t.Errorf("no writer on the killed master saw an error: the kill had no effect")
	}

	// The sessions new visitors got during the gap: created unless their
	// slot was the killed master's.
	var newcomerTimes []time.Duration
	for _, r := range newcomers {
		if r.status == http.StatusOK {
			newcomerTimes = append(newcomerTimes, r.end.Sub(r.start))
		}
		if r.err != nil || (r.status != http.StatusOK && (r.status != http.StatusServiceUnavailable || r.retryAfter == "")) {
			t.Errorf("newcomer: %s; want 200, or 503 with Retry-After", &r)
		}
	}
	var createdElsewhere, refusedOnVictim int
	for id, err := range rec.creates() {
		slot, err2 := c.slotOf(ctx, where.keyOf(id))
		if err2 != nil {
			t.Fatal(err2)
		}
		onVictim := slots[slot] == victim
		switch {
		case err != nil && !onVictim:
			t.Errorf("create of a session on surviving master %s during the gap: %v", slots[slot], err)
		case err != nil:
			refusedOnVictim++
		case !onVictim:
			createdElsewhere++
		}
	}
	slices.Sort(gaps)
	t.Logf("WaitReplicas %d, replica behind %v: %d writers (%d on the killed master %s), %d requests, %d refused (503)",
		waitReplicas, lagging, writers, len(affected), victim, total, refused)
	t.Logf("replica %s promoted %v after the kill", replica, promoted.Sub(killed).Round(time.Millisecond))
	if len(gaps) > 0 {
		t.Logf("gap seen by the writers on the killed master (first to last refused request): median %v, max %v",
			gaps[len(gaps)/2].Round(time.Millisecond), gaps[len(gaps)-1].Round(time.Millisecond))
	}
	t.Logf("acknowledged writes lost: %d; refused writes that the store kept anyway: %d", lost, keptUnacked)
	t.Logf("%d new visitors during the gap: %d sessions created on the surviving masters, %d refused on the killed one",
		len(newcomers), createdElsewhere, refusedOnVictim)
	t.Logf("slowest request of a writer on a surviving master: %v", sparedSlowest.Round(time.Millisecond))
	if len(newcomerTimes) > 0 {
		slices.Sort(newcomerTimes)
		t.Logf("new visitors' first request, when it succeeded: median %v, max %v",
			newcomerTimes[len(newcomerTimes)/2].Round(time.Millisecond), newcomerTimes[len(newcomerTimes)-1].Round(time.Millisecond))
	}
	if createdElsewhere == 0 {
		t.Errorf("no new visitor got a session on a surviving master during the gap")
	}
	if waitReplicas > 0 && lost > 0 {
		t.Errorf("with WaitReplicas %d, %d acknowledged writes were lost", waitReplicas, lost)
	}
	// Each writer on the killed master had a write acknowledged after its
	// replica fell behind: the test must see those go.
	if lagging && waitReplicas == 0 && lost < len(affected) {
		t.Errorf("with the replica behind and WaitReplicas 0, %d acknowledged writes were lost, want at least %d", lost, len(affected))
	}
}

// recorder is the store as the kit sees it, noting how the creates of
// sessions end.
type recorder struct {
	*redisstore.Store
	// mu guards created.
	mu      sync.Mutex
	created map[string]error
}

func (r *recorder) Commit(ctx context.Context, id string, d store.Delta) (store.Meta, error) {
	m, err := r.Store.Commit(ctx, id, d)
	if d.Create {
		r.mu.Lock()
		if r.created == nil {
			r.created = make(map[string]error)
		}
		r.created[id] = err
		r.mu.Unlock()
	}
	return m, err
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.created = nil
}

// creates returns the creates since the last reset: ID → error.
func (r *recorder) creates() map[string]error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.created)
}

// arrive sends a new browser every 50 ms until gap is closed, each with
// one add, and returns the answers.
func arrive(t *testing.T, base string, gap <-chan struct{}) []result {
	var results []result
	for {
		select {
		case <-gap:
			return results
		case <-time.After(50 * time.Millisecond):
		}
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Error(err)
			return results
		}
		w := &writer{base: base, client: &http.Client{Jar: jar, Transport: transport, Timeout: requestTimeout}}
		results = append(results, w.add(0))
	}
}

// newApp serves the writers: POST /add appends n to the tab's list with
// Update, GET /seqs shows the list.
func newApp(t *testing.T, st store.Store) *httptest.Server {
	t.Helper()
	m, err := kit.New(kit.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	if err := m.Install(e); err != nil {
		t.Fatal(err)
	}
	e.POST("/add", kit.Handler(func(c *kit.Context) error {
		n, err := strconv.Atoi(c.FormValue("n"))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "n")
		}
		var seqs []int
		if err := c.Session().Tab().Update("seqs", &seqs, func() error {
			seqs = append(seqs, n)
			return nil
		}); err != nil {
			return err
		}
		return c.String(http.StatusOK, strconv.Itoa(len(seqs)))
	}))
	e.GET("/seqs", kit.Handler(func(c *kit.Context) error {
		var seqs []int
		if _, err := c.Session().Tab().Get("seqs", &seqs); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, seqs)
	}))
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		_ = m.Close()
	})
	return srv
}

// transport keeps a connection per writer.
var transport = &http.Transport{MaxIdleConns: 2 * writers, MaxIdleConnsPerHost: 2 * writers}

// writer is a browser of its own that keeps adding numbers to its tab.
type writer struct {
	base   string
	client *http.Client
	id     string // the session's ID in the store, from its cookie

	// mu guards results, acked and sent, which run changes while the
	// test watches.
	mu      sync.Mutex
	results []result
	acked   []int
	sent    time.Time // when the request in flight, or the last one, started
}

// result is the answer to one request.
type result struct {
	n          int
	start, end time.Time
	status     int
	retryAfter string
	err        error
}

func (r *result) String() string {
	if r.err != nil {
		return fmt.Sprintf("add %d at %s: %v", r.n, r.start.Format("15:04:05.000"), r.err)
	}
	return fmt.Sprintf("add %d at %s: %d (Retry-After %q)", r.n, r.start.Format("15:04:05.000"), r.status, r.retryAfter)
}

// newWriter makes a browser and its session with a first add.
func newWriter(t *testing.T, base string) *writer {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{base: base, client: &http.Client{Jar: jar, Transport: transport, Timeout: requestTimeout}}
	if r := w.add(0); r.status != http.StatusOK {
		t.Fatalf("first add: %s", &r)
	}
	w.acked = append(w.acked, 0)
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "tabkit" {
			// The store keys the session by its token's hash.
			w.id = store.HashToken(ck.Value)
		}
	}
	if w.id == "" {
		t.Fatal("first add set no session cookie")
	}
	return w
}

func (w *writer) add(n int) result {
	r := result{n: n, start: time.Now()}
	resp, err := w.client.PostForm(w.base+"/0/add", url.Values{"n": {strconv.Itoa(n)}})
	r.end = time.Now()
	if err != nil {
		r.err = err
		return r
	}
	_ = resp.Body.Close()
	r.status, r.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	return r
}

// run adds 1, 2, 3… until stop is closed, pausing briefly after a
// refusal rather than for the Retry-After the server asks, to measure
// the gap closely.
func (w *writer) run(stop <-chan struct{}) {
	for n := 1; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		w.mu.Lock()
		w.sent = time.Now()
		w.mu.Unlock()
		r := w.add(n)
		w.mu.Lock()
		w.results = append(w.results, r)
		if r.err == nil && r.status == http.StatusOK {
			w.acked = append(w.acked, n)
		}
		w.mu.Unlock()
		if r.status != http.StatusOK {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// settledSince reports whether the writer's last settled requests all
// succeeded and started after t.
func (w *writer) settledSince(t time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.results) < settled {
		return false
	}
	tail := w.results[len(w.results)-settled:]
	return tail[0].start.After(t) && all(tail, func(r result) bool { return r.status == http.StatusOK })
}

// pastReplica reports whether the writer has sent a request since t, and,
// when acked is set, had one acknowledged.
func (w *writer) pastReplica(t time.Time, acked bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !acked {
		return w.sent.After(t)
	}
	for i := len(w.results) - 1; i >= 0 && w.results[i].start.After(t); i-- {
		if w.results[i].status == http.StatusOK {
			return true
		}
	}
	return false
}

// fillLink sends the master at addr more than the sockets to its frozen
// replica can hold, in keys of key's slot: what the master is sent next
// stays in its own memory until the replica reads again.
func fillLink(t *testing.T, c *cluster, addr, key string) {
	t.Helper()
	// Tens of megabytes into a loaded machine: give each write time.
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ReadTimeout: 20 * time.Second, WriteTimeout: 20 * time.Second})
	defer client.Close()
	const chunk = 4 << 20
	value := strings.Repeat("x", chunk)
	for i := range socketBuffers()/chunk + 2 {
		if err := client.Set(t.Context(), fmt.Sprintf("%s:filler:%d", key, i), value, 0).Err(); err != nil {
			t.Fatalf("filling the link of %s: %v", addr, err)
		}
	}
}

// socketBuffers is the most a TCP connection on this machine buffers
// between the two processes: the largest send buffer plus the largest
// receive buffer, from the kernel's settings (64 MiB when unreadable).
func socketBuffers() int {
	most := func(path string) int {
		b, err := os.ReadFile(path)
		if err != nil {
			return 32 << 20
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 32 << 20
		}
		n, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			return 32 << 20
		}
		return n
	}
	return most("/proc/sys/net/ipv4/tcp_wmem") + most("/proc/sys/net/ipv4/tcp_rmem")
}

// stored reads the writer's list back through the app.
func (w *writer) stored(t *testing.T) []int {
	t.Helper()
	resp, err := w.client.Get(w.base + "/0/seqs")
	if err != nil {
		t.Fatalf("GET /0/seqs: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /0/seqs: %s", resp.Status)
	}
	var seqs []int
	if err := json.NewDecoder(resp.Body).Decode(&seqs); err != nil {
		t.Fatalf("GET /0/seqs: %v", err)
	}
	return seqs
}

// placement says which master holds what.
type placement struct {
	session map[string]string // session ID → master address
	index   string            // master holding the store's index
	// sampleID's session is in sampleKey: the key of another ID is
	// sampleKey with that ID's family and hash in place of sampleID's.
	sampleID, sampleKey string
}

// keyOf returns the key of session id, learned from where the store put
// a session, rather than from redisstore's layout: an ID is
// "family.hash", and its key holds the hash and, as its cluster hash
// tag, the family.
func (p placement) keyOf(id string) string {
	family, hash, _ := strings.Cut(id, ".")
	sampleFamily, sampleHash, _ := strings.Cut(p.sampleID, ".")
	key := strings.Replace(p.sampleKey, sampleHash, hash, 1)
	return strings.Replace(key, "{"+sampleFamily+"}", "{"+family+"}", 1)
}

// holds reports whether key is session id's: it holds the ID's hash, 43
// characters no other key shares.
func holds(key, id string) bool {
	_, hash, _ := strings.Cut(id, ".")
	return hash != "" && strings.Contains(key, hash)
}

// placeSessions finds the master of each writer's session and of the
// index by looking at the keys each master holds, which name the ID.
func placeSessions(t *testing.T, c *cluster, prefix string, ws []*writer) placement {
	t.Helper()
	ctx := t.Context()
	nodes, err := c.nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := placement{session: make(map[string]string)}
	for _, n := range nodes {
		if !n.master || n.failed || len(n.slots) == 0 {
			continue
		}
		keys, err := c.keysOn(ctx, n.addr, prefix)
		if err != nil {
			t.Fatalf("SCAN on %s: %v", n.addr, err)
		}
		for _, k := range keys {
			if k == prefix+"index" {
				p.index = n.addr
			}
			for _, w := range ws {
				if holds(k, w.id) {
					p.session[w.id] = n.addr
					p.sampleID, p.sampleKey = w.id, k
				}
			}
		}
	}
	if p.index == "" || len(p.session) != len(ws) {
		t.Fatalf("found the index on %q and %d of %d sessions", p.index, len(p.session), len(ws))
	}
	return p
}

// waitUntil polls cond until it holds, for at most limit.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func all[T any](xs []T, f func(T) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

// countIn counts the elements of xs that are in ys.
func countIn(xs, ys []int) int {
	in := make(map[int]bool, len(ys))
	for _, y := range ys {
		in[y] = true
	}
	n := 0
	for _, x := range xs {
		if in[x] {
			n++
		}
	}
	return n
}
