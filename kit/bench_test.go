package kit

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	bolt "go.etcd.io/bbolt"
)

// The benchmarks drive Echo in-process with httptest, so they measure the
// middleware and the store, not a network. Compare each against
// BenchmarkBaseline (and the raw bbolt floors) from the same run.

func benchEcho(b *testing.B, st store.Store) *echo.Echo {
	b.Helper()
	e := echo.New()
	e.Logger.SetOutput(discardWriter{})
	if st != nil {
		m, err := New(Config{Store: st, Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Install(e); err != nil {
			b.Fatal(err)
		}
	}
	e.GET("/plain", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/read", Handler(func(c *Context) error {
		var v string
		if _, err := c.Session().Get("k", &v); err != nil {
			return err
		}
		return c.String(http.StatusOK, v)
	}))
	e.POST("/write", Handler(func(c *Context) error {
		if err := c.Session().Set("k", c.Request().URL.RawQuery); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	}))
	return e
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

func openBenchBolt(b *testing.B) *boltstore.Store {
	b.Helper()
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func serve(b *testing.B, e *echo.Echo, req *http.Request) {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: status %d: %s", req.Method, req.URL, rec.Code, rec.Body)
	}
}

// newSessionCookie creates a session through the app and returns its
// cookie.
func newSessionCookie(b *testing.B, e *echo.Echo) *http.Cookie {
	b.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/0/write?first", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		b.Fatalf("no session cookie (status %d)", rec.Code)
	}
	return cookies[0]
}

// BenchmarkBaseline is Echo alone: the floor every other row is compared
// with.
func BenchmarkBaseline(b *testing.B) {
	e := benchEcho(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, e, httptest.NewRequest(http.MethodGet, "/plain", nil))
	}
}

// BenchmarkNoTouch is a request that never touches its session, with the
// kit installed: no store I/O, no cookie.
func BenchmarkNoTouch(b *testing.B) {
	e := benchEcho(b, openBenchBolt(b))
	b.ReportAllocs()
	for b.Loop() {
		serve(b, e, httptest.NewRequest(http.MethodGet, "/0/plain", nil))
	}
}

// BenchmarkReadBolt reads one value of an existing bbolt session.
func BenchmarkReadBolt(b *testing.B) {
	e := benchEcho(b, openBenchBolt(b))
	cookie := newSessionCookie(b, e)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/0/read", nil)
		req.AddCookie(cookie)
		serve(b, e, req)
	}
}

// BenchmarkWriteBolt is a durable write of one value, one client.
func BenchmarkWriteBolt(b *testing.B) {
	e := benchEcho(b, openBenchBolt(b))
	cookie := newSessionCookie(b, e)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, "/0/write?"+strconv.Itoa(i), nil)
		req.AddCookie(cookie)
		serve(b, e, req)
	}
}

// BenchmarkWriteBoltParallel64 is durable writes from 64 clients at once,
// one session each: group commit shares fsyncs between them.
func BenchmarkWriteBoltParallel64(b *testing.B) {
	e := benchEcho(b, openBenchBolt(b))
	cookies := make(chan *http.Cookie, 64)
	for range 64 {
		cookies <- newSessionCookie(b, e)
	}
	b.SetParallelism(32) // 2 cores × 32 = 64 goroutines here
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var cookie *http.Cookie
		select {
		case cookie = <-cookies:
		default:
			cookie = newSessionCookie(b, e)
		}
		i := 0
		for pb.Next() {
			i++
			req := httptest.NewRequest(http.MethodPost, "/0/write?"+strconv.Itoa(i), nil)
			req.AddCookie(cookie)
			serve(b, e, req)
		}
	})
}

// BenchmarkBoltUpdatePut is the raw floor for one durable write: one
// db.Update putting a 100-byte value.
func BenchmarkBoltUpdatePut(b *testing.B) {
	db := openRawBolt(b)
	value := make([]byte, 100)
	i := 0
	for b.Loop() {
		i++
		if err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("b")).Put([]byte(strconv.Itoa(i%64)), value)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltBatchPut64 is the raw floor for concurrent durable writes:
// db.Batch from 64 goroutines.
func BenchmarkBoltBatchPut64(b *testing.B) {
	db := openRawBolt(b)
	value := make([]byte, 100)
	var n atomic.Int64
	b.SetParallelism(32)
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
