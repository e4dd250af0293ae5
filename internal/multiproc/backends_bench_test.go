package multiproc

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/redisstore"
)

// The benchmarks here run every store through the same operations with
// the same values, so one `go test -bench` run gives comparable numbers:
//
//	benchstat -col /backend results.txt
//
// puts memory, bolt and redis side by side for each operation. Redis rows
// also report rt/op, the round trips to Redis per operation (a pipeline
// or a MULTI/EXEC block counts as one, like a lone command).

// benchValue is the size of a typical small session value (a cart, a
// flash message), the same as in store/boltstore's benchmarks.
var benchValue = bytes.Repeat([]byte("x"), 100)

// benchClients is how many goroutines the parallel benchmark runs.
const benchClients = 64

// backend opens one kind of store for a benchmark. trips is nil for
// stores that make no round trips.
type backend struct {
	name string
	open func(b *testing.B) (st store.Store, trips *tripCounter)
}

var backends = []backend{
	{"memory", openMemory},
	{"bolt", openBolt},
	{"redis", openRedis},
}

func openMemory(b *testing.B) (store.Store, *tripCounter) {
	st := store.NewMemory()
	b.Cleanup(func() { _ = st.Close() })
	return st, nil
}

func openBolt(b *testing.B) (store.Store, *tripCounter) {
	// No background sweep: it would run inside some measurements only.
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "sessions.db"), &boltstore.Options{SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st, nil
}

// openRedis opens a store on the test server with a client configured as
// redisstore.Open configures its own (go-redis defaults: a pool of ten
// connections per CPU), under a key prefix of its own that is deleted
// afterwards.
func openRedis(b *testing.B) (store.Store, *tripCounter) {
	u := redisURL(b)
	opts, err := redis.ParseURL(u)
	if err != nil {
		b.Fatalf("TABKIT_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	trips := &tripCounter{}
	client.AddHook(trips)
	prefix := "tabkit-bench:" + rand.Text()[:10] + ":"
	st, err := redisstore.New(client, &redisstore.Options{KeyPrefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = st.Close()
		deleteKeys(b, client, prefix)
		_ = client.Close()
	})
	return st, trips
}

// deleteKeys removes every key under prefix.
func deleteKeys(b *testing.B, client *redis.Client, prefix string) {
	ctx := context.Background()
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		b.Errorf("cleanup: scan %s*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := client.Del(ctx, keys[:n]...).Err(); err != nil {
			b.Errorf("cleanup: del: %v", err)
			return
		}
		keys = keys[n:]
	}
}

// tripCounter is a redis.Hook counting round trips. It leaves out the
// handshake go-redis sends on a new connection (HELLO, CLIENT …): the
// pool makes its connections once, whereas the counts are meant to say
// what each operation costs.
type tripCounter struct{ n atomic.Int64 }

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !isHandshake(cmd) {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !isHandshake(cmds[0]) {
			c.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// isHandshake reports whether cmd is one go-redis sends to set up a
// connection; the store itself never sends these.
func isHandshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

// measure resets b's timer and the trip count, and returns a function to
// defer that reports rt/op when there is a count.
func measure(b *testing.B, trips *tripCounter) (report func()) {
	b.ResetTimer()
	if trips == nil {
		return func() {}
	}
	start := trips.n.Load()
	return func() {
		b.ReportMetric(float64(trips.n.Load()-start)/float64(b.N), "rt/op")
	}
}

// createSession makes a session the way a signed-in browser has one: a
// session-wide value, tab 0 and tab 1 with a cart each and a flash.
func createSession(b *testing.B, st store.Store, id string) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	_, err := st.Commit(ctx, id, store.Delta{
		Create:       true,
		IdleDeadline: now.Add(time.Hour),
		AbsDeadline:  now.Add(24 * time.Hour),
		Set:          map[store.Key][]byte{store.SessionKey("user"): benchValue},
	})
	if err != nil {
		b.Fatal(err)
	}
	_, err = st.Commit(ctx, id, store.Delta{
		EditMeta: func(m *store.Meta) error { m.Tabs[1] = store.TabInfo{Created: now}; return nil },
		Set: map[store.Key][]byte{
			store.TabKey(0, "cart"):  benchValue,
			store.TabKey(1, "cart"):  benchValue,
			store.TabKey(1, "flash"): benchValue[:20],
		},
	})
	if err != nil {
		b.Fatal(err)
	}
}

// setCart is the write the commit benchmarks repeat: one tab value
// replaced, what a request that changed one key commits.
var setCart = store.Delta{Set: map[store.Key][]byte{store.TabKey(0, "cart"): benchValue}}

// BenchmarkStore runs each operation on each backend: Load of an existing
// session; Commit of one Set by one client; the same Commit by 64
// clients at once, a session each (ns/op is then the inverse of
// throughput); and Update, a read-modify-write of one key, which is what
// kit's Update and flashes commit.
func BenchmarkStore(b *testing.B) {
	ops := []struct {
		name string
		run  func(b *testing.B, st store.Store, trips *tripCounter)
	}{
		{"Load", benchLoad},
		{"Commit", benchCommit},
		{"CommitParallel64", benchCommitParallel},
		{"Update", benchUpdate},
	}
	for _, op := range ops {
		for _, be := range backends {
			b.Run("op="+op.name+"/backend="+be.name, func(b *testing.B) {
				st, trips := be.open(b)
				op.run(b, st, trips)
			})
		}
	}
}

func benchLoad(b *testing.B, st store.Store, trips *tripCounter) {
	createSession(b, st, "session")
	ctx := context.Background()
	defer measure(b, trips)()
	for b.Loop() {
		if _, found, err := st.Load(ctx, "session"); err != nil || !found {
			b.Fatalf("Load: found %v, %v", found, err)
		}
	}
}

func benchCommit(b *testing.B, st store.Store, trips *tripCounter) {
	createSession(b, st, "session")
	ctx := context.Background()
	// The first commit loads Redis's script cache; it is not what a
	// running server pays.
	if _, err := st.Commit(ctx, "session", setCart); err != nil {
		b.Fatal(err)
	}
	defer measure(b, trips)()
	for b.Loop() {
		if _, err := st.Commit(ctx, "session", setCart); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCommitParallel(b *testing.B, st store.Store, trips *tripCounter) {
	per := max(1, benchClients/runtime.GOMAXPROCS(0))
	b.SetParallelism(per)
	ids := make([]string, per*runtime.GOMAXPROCS(0))
	for i := range ids {
		ids[i] = fmt.Sprintf("session%03d", i)
		createSession(b, st, ids[i])
	}
	if _, err := st.Commit(context.Background(), ids[0], setCart); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	defer measure(b, trips)()
	b.RunParallel(func(pb *testing.PB) {
		id := ids[next.Add(1)-1]
		ctx := context.Background()
		for pb.Next() {
			if _, err := st.Commit(ctx, id, setCart); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchUpdate(b *testing.B, st store.Store, trips *tripCounter) {
	createSession(b, st, "session")
	ctx := context.Background()
	d := store.Delta{Update: map[store.Key]store.UpdateFunc{
		store.TabKey(0, "n"): func(old []byte, _ bool) ([]byte, error) {
			n, _ := strconv.Atoi(string(old))
			return strconv.AppendInt(nil, int64(n+1), 10), nil
		},
	}}
	defer measure(b, trips)()
	for b.Loop() {
		if _, err := st.Commit(ctx, "session", d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKitRequest serves requests through kit on each backend, with
// the HTTP layer in memory, and counts the Redis round trips one request
// costs: a request that reads a tab value, one that sets it, one that
// updates it (read-modify-write).
func BenchmarkKitRequest(b *testing.B) {
	ops := []struct {
		name, method, path string
	}{
		{"read", http.MethodGet, "/0/read"},
		{"set", http.MethodPost, "/0/set"},
		{"update", http.MethodPost, "/0/update"},
	}
	for _, op := range ops {
		for _, be := range backends {
			b.Run("op="+op.name+"/backend="+be.name, func(b *testing.B) {
				st, trips := be.open(b)
				e := newKitServer(b, st)
				cookie := startKitSession(b, e)
				// One request first, so the script cache and the
				// session's touch are behind us.
				serveKit(b, e, op.method, op.path, cookie)
				defer measure(b, trips)()
				for b.Loop() {
					serveKit(b, e, op.method, op.path, cookie)
				}
			})
		}
	}
}

// newKitServer is an Echo app with kit on st and three handlers on tab
// values of the benchmark's size.
func newKitServer(b *testing.B, st store.Store) *echo.Echo {
	e := echo.New()
	m, err := kit.New(kit.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Install(e); err != nil {
		b.Fatal(err)
	}
	value := string(benchValue)
	e.GET("/read", kit.Handler(func(c *kit.Context) error {
		var v string
		if _, err := c.Session().Tab().Get("cart", &v); err != nil {
			return err
		}
		return c.String(http.StatusOK, strconv.Itoa(len(v)))
	}))
	e.POST("/set", kit.Handler(func(c *kit.Context) error {
		if err := c.Session().Tab().Set("cart", value); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}))
	e.POST("/update", kit.Handler(func(c *kit.Context) error {
		var n int
		if err := c.Session().Tab().Update("n", &n, func() error { n++; return nil }); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}))
	return e
}

// startKitSession creates a session with a POST to /0/set and returns its
// cookie.
func startKitSession(b *testing.B, e *echo.Echo) *http.Cookie {
	rec := serveKit(b, e, http.MethodPost, "/0/set", nil)
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	b.Fatalf("no session cookie after the first set")
	return nil
}

// serveKit serves one request and fails b unless it succeeded.
func serveKit(b *testing.B, e *echo.Echo, method, path string, cookie *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(""))
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	return rec
}
