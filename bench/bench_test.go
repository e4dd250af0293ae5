package bench

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Every row drives Echo in-process through httptest, so it measures the
// session middleware and its store, not a network. Rows of one run are
// compared with BenchmarkBaseline, Echo alone, and with the raw bbolt
// floors.

// clients is the number of concurrent clients of the parallel rows.
const clients = 64

// libraries are the rows: Libraries, with tabkit-redis when
// TABKIT_REDIS_URL is set, tabkit-postgres and scs-pgxstore when
// TABKIT_PG_URL is, and the cluster rows when TABKIT_REDIS_CLUSTER_URL is.
func libraries() []Library {
	libs := Libraries(os.Getenv("TABKIT_REDIS_URL"), os.Getenv("TABKIT_PG_URL"))
	return append(libs, ClusterLibraries(os.Getenv("TABKIT_REDIS_CLUSTER_URL"))...)
}

func newApp(b *testing.B, lib Library) *App {
	b.Helper()
	app, err := lib.New(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := app.Close(); err != nil {
			b.Error(err)
		}
	})
	return app
}

func serve(b *testing.B, app *App, method, path string, cookies []*http.Cookie) {
	req := httptest.NewRequest(method, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	app.Echo.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: status %d: %s", method, path, rec.Code, rec.Body)
	}
}

func newSession(b *testing.B, app *App) []*http.Cookie {
	cookies, err := app.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	return cookies
}

// BenchmarkBaseline is Echo alone, the same /plain route: the floor of
// every row.
func BenchmarkBaseline(b *testing.B) {
	app := NewBaseline()
	b.ReportAllocs()
	for b.Loop() {
		serve(b, app, http.MethodGet, "/plain", nil)
	}
}

// BenchmarkNoTouch is the middleware installed and a handler that
// ignores the session, without a cookie.
func BenchmarkNoTouch(b *testing.B) {
	for _, lib := range libraries() {
		b.Run(lib.Name, func(b *testing.B) {
			app := newApp(b, lib)
			b.ReportAllocs()
			for b.Loop() {
				serve(b, app, http.MethodGet, app.Prefix+"/plain", nil)
			}
		})
	}
}

// BenchmarkRead reads one value of an existing session.
func BenchmarkRead(b *testing.B) {
	for _, lib := range libraries() {
		b.Run(lib.Name, func(b *testing.B) {
			app := newApp(b, lib)
			cookies := newSession(b, app)
			b.ReportAllocs()
			for b.Loop() {
				serve(b, app, http.MethodGet, app.Prefix+"/read", cookies)
			}
		})
	}
}

// BenchmarkWrite writes one value of an existing session, one client:
// on disk when answered where the store is durable.
func BenchmarkWrite(b *testing.B) {
	for _, lib := range libraries() {
		b.Run(lib.Name, func(b *testing.B) {
			app := newApp(b, lib)
			cookies := newSession(b, app)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				serve(b, app, http.MethodPost, app.Prefix+"/write?"+strconv.Itoa(i), cookies)
			}
		})
	}
}

// BenchmarkWrite64 is the write from 64 clients at once, one session
// each.
func BenchmarkWrite64(b *testing.B) {
	for _, lib := range libraries() {
		b.Run(lib.Name, func(b *testing.B) { parallelWrites(b, newApp(b, lib), "/write") })
	}
}

// BenchmarkTabWrite64 is BenchmarkWrite64 through c.Session().Tab(),
// which only tabkit has.
func BenchmarkTabWrite64(b *testing.B) {
	for _, lib := range libraries() {
		b.Run(lib.Name, func(b *testing.B) {
			app := newApp(b, lib)
			if !app.Tabs {
				b.Skip("no tabs")
			}
			parallelWrites(b, app, "/tabwrite")
		})
	}
}

func parallelWrites(b *testing.B, app *App, route string) {
	sessions := make(chan []*http.Cookie, clients)
	for range clients {
		sessions <- newSession(b, app)
	}
	setParallelism(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		cookies := <-sessions
		i := 0
		for pb.Next() {
			i++
			serve(b, app, http.MethodPost, app.Prefix+route+"?"+strconv.Itoa(i), cookies)
		}
	})
}

// setParallelism makes RunParallel start exactly clients goroutines.
func setParallelism(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	if clients%procs != 0 {
		b.Fatalf("GOMAXPROCS %d does not divide %d clients; run with -cpu 1, 2 or 4", procs, clients)
	}
	b.SetParallelism(clients / procs)
}

// BenchmarkBoltUpdate is the raw floor of one durable write: one
// db.Update putting a 100-byte value.
func BenchmarkBoltUpdate(b *testing.B) {
	db := openRawBolt(b)
	value := make([]byte, 100)
	i := 0
	for b.Loop() {
		i++
		if err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("b")).Put([]byte(strconv.Itoa(i%clients)), value)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltBatch64 is the raw floor of concurrent durable writes:
// db.Batch from 64 goroutines, a key each.
func BenchmarkBoltBatch64(b *testing.B) {
	db := openRawBolt(b)
	value := make([]byte, 100)
	var n atomic.Int64
	setParallelism(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key := []byte(strconv.FormatInt(n.Add(1), 10))
		for pb.Next() {
			if err := db.Batch(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("b")).Put(key, value)
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func openRawBolt(b *testing.B) *bolt.DB {
	b.Helper()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("b"))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return db
}
