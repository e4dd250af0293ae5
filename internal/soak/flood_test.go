package soak

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	floodRequests = 100_000
	floodWorkers  = 16
	// floodQuota is the demo's -max-sessions: were the flood to store
	// anything, the store could hold no more than this.
	floodQuota = 1000
)

// floodRequest is one kind of cookieless request and the answer it must
// get.
type floodRequest struct {
	method, path string
	form         url.Values
	wantStatus   int
	wantLocation string
}

// floodMix is what the flood sends, in turn: mostly the demo's write
// route, which a visitor without a session is sent to sign in from, and
// the pages a crawler would fetch.
var floodMix = []floodRequest{
	{"POST", "/0/cart/items", url.Values{"sku": {"COF-001"}, "qty": {"1"}}, http.StatusSeeOther, "/login?next=%2F0%2F"},
	{"POST", "/0/cart/items", url.Values{"sku": {"TEA-002"}, "qty": {"3"}, "csrf": {"forged"}}, http.StatusSeeOther, "/login?next=%2F0%2F"},
	{"GET", "/", nil, http.StatusSeeOther, "/0/"},
	{"POST", "/0/cart/items", url.Values{"sku": {"BAK-001"}}, http.StatusSeeOther, "/login?next=%2F0%2F"},
	{"GET", "/0/", nil, http.StatusOK, ""},
}

// TestCookielessFloodStoresNothing sends 100 000 requests without a
// cookie jar, most of them to the route that adds to a cart, and then
// counts the sessions in the file: sessions are created lazily, by a
// handler that writes, and no handler writes for a visitor who has not
// signed in, so there must be none.
func TestCookielessFloodStoresNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pos.db")
	d := startDemo(t, demoConfig{db: db, args: []string{"-max-sessions", fmt.Sprint(floodQuota)}})
	addr := strings.TrimPrefix(d.URL(), "http://")
	raw := make([][]byte, len(floodMix))
	for i, fr := range floodMix {
		raw[i] = encodeFlood(addr, fr)
	}

	var next atomic.Int64
	var failures atomic.Int64
	var mu sync.Mutex // guards firstFailure
	var firstFailure string
	fail := func(format string, args ...any) {
		if failures.Add(1) == 1 {
			mu.Lock()
			firstFailure = fmt.Sprintf(format, args...)
			mu.Unlock()
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range floodWorkers {
		wg.Go(func() {
			c, err := dialFlood(addr)
			if err != nil {
				fail("dial: %v", err)
				return
			}
			defer c.conn.Close()
			for {
				i := next.Add(1) - 1
				if i >= floodRequests || failures.Load() > 0 {
					return
				}
				k := i % int64(len(floodMix))
				if err := c.send(raw[k], floodMix[k]); err != nil {
					fail("request %d, %s %s: %v", i, floodMix[k].method, floodMix[k].path, err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d flood requests failed; the first: %s", n, firstFailure)
	}
	t.Logf("%d cookieless requests in %v (%.0f/s)", floodRequests, elapsed.Round(time.Millisecond), floodRequests/elapsed.Seconds())

	d.Stop()
	checkDB(t, db)
	stats, listed := storedSessions(t, db)
	if stats.Sessions != 0 || listed != 0 || stats.Bytes != 0 {
		t.Errorf("after the flood: %d sessions counted, %d listed, %d bytes; want none", stats.Sessions, listed, stats.Bytes)
	}
	if stats.Sessions > floodQuota {
		t.Errorf("after the flood: %d sessions, beyond the quota of %d", stats.Sessions, floodQuota)
	}
}

// floodConn is one keep-alive connection sending cookieless requests.
// It writes requests prepared once and reads answers with
// http.ReadResponse: the http.Client's per-connection goroutines and
// channels cost several times more than the demo's own work under -race,
// and would make the flood measure the client.
type floodConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialFlood(addr string) (*floodConn, error) {
	conn, err := net.DialTimeout("tcp", addr, requestTimeout)
	if err != nil {
		return nil, err
	}
	return &floodConn{conn: conn, r: bufio.NewReader(conn)}, nil
}

// encodeFlood returns the bytes of fr as a request without cookies.
func encodeFlood(host string, fr floodRequest) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tabkit-soak\r\n", fr.method, fr.path, host)
	if fr.form != nil {
		body := fr.form.Encode()
		fmt.Fprintf(&b, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	} else {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

// send writes one prepared request and checks its answer, including that
// it sets no session cookie.
func (c *floodConn) send(raw []byte, fr floodRequest) error {
	if err := c.conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return err
	}
	if _, err := c.conn.Write(raw); err != nil {
		return err
	}
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return err
	}
	// Drained, so the next answer starts where this one ends.
	_, err = io.Copy(io.Discard, io.LimitReader(res.Body, maxBody))
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.Close {
		return errors.New("the demo closed a keep-alive connection")
	}
	if res.StatusCode != fr.wantStatus || res.Header.Get("Location") != fr.wantLocation {
		return fmt.Errorf("got %d to %q, want %d to %q", res.StatusCode, res.Header.Get("Location"), fr.wantStatus, fr.wantLocation)
	}
	for _, c := range res.Cookies() {
		if strings.TrimPrefix(c.Name, "__Host-") == "tabkit" {
			return fmt.Errorf("a session cookie was set: %s", c.Name)
		}
	}
	return nil
}
