package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LostRow is one lost-update experiment: Clients concurrent requests of
// one session each append one item to a list.
type LostRow struct {
	Library string `json:"library"`
	// Pattern is "naive" (get the list, append, put it back), "own-key"
	// (each request sets a key of its own), "update" (tabkit's atomic
	// Update) or "per-tab" (naive, each request in a tab of its own).
	Pattern  string `json:"pattern"`
	Clients  int    `json:"clients"`
	Expected int    `json:"expected"`
	Kept     int    `json:"kept"`
	// Overlapped is true when every request had read before any wrote
	// (or, for update, all were in flight at once): the barrier met.
	Overlapped bool `json:"overlapped"`
	// Acknowledged counts requests answered 200: writes the client was
	// told landed. Refused counts 409s: writes the library refused
	// because what they were computed from changed meanwhile (tabkit's
	// ErrConflict). Failed counts every other answer.
	Acknowledged int `json:"acknowledged"`
	Refused      int `json:"refused"`
	Failed       int `json:"failed"`
}

// Lost is how many acknowledged writes a final read does not find.
func (r LostRow) Lost() int { return max(r.Acknowledged-r.Kept, 0) }

// FloodRow is what a library keeps after a flood of cookieless requests
// to a handler that writes.
type FloodRow struct {
	Library  string      `json:"library"`
	Requests int         `json:"requests"`
	Quota    string      `json:"quota"`
	Stored   int         `json:"stored"`
	Status   map[int]int `json:"status"`
	Note     string      `json:"note,omitempty"`
}

// Correctness is the whole correctness table.
type Correctness struct {
	Lost  []LostRow  `json:"lost"`
	Flood []FloodRow `json:"flood"`
	Probe []ProbeRow `json:"probe,omitempty"`
}

// CorrectnessConfig sizes the experiments.
type CorrectnessConfig struct {
	RedisURL     string
	PostgresURL  string
	Clients      []int // concurrent requests per lost-update experiment
	FloodN       int   // cookieless requests per flood
	FloodQuota   int64 // tabkit's MaxSessions during the flood
	FloodWorkers int   // concurrent clients of the flood
	// Probe is how long ProbeSCSBolt runs each store; zero skips it.
	Probe time.Duration
}

// RunCorrectness runs every experiment against every library, each in a
// fresh app under dir.
func RunCorrectness(cfg CorrectnessConfig, dir string) (Correctness, error) {
	var out Correctness
	for _, lib := range Libraries(cfg.RedisURL, cfg.PostgresURL) {
		for _, n := range cfg.Clients {
			patterns := []string{"naive", "own-key"}
			if strings.HasPrefix(lib.Name, "tabkit") {
				patterns = append(patterns, "update", "per-tab")
			}
			for _, p := range patterns {
				row, err := lostUpdates(lib, p, n, dir)
				if err != nil {
					return out, fmt.Errorf("%s %s %d: %w", lib.Name, p, n, err)
				}
				out.Lost = append(out.Lost, row)
			}
		}
	}
	for _, lib := range Libraries(cfg.RedisURL, cfg.PostgresURL) {
		row, err := flood(lib, cfg, dir)
		if err != nil {
			return out, fmt.Errorf("%s flood: %w", lib.Name, err)
		}
		out.Flood = append(out.Flood, row)
	}
	if cfg.Probe > 0 {
		rows, err := ProbeSCSBolt(dir, cfg.Probe)
		if err != nil {
			return out, fmt.Errorf("scs bbolt probe: %w", err)
		}
		out.Probe = rows
	}
	return out, nil
}

// barrier lets n goroutines pass once all n have arrived, or after a
// timeout, so a library that serialises requests cannot hang the run;
// met reports which happened.
type barrier struct {
	n       int
	timeout time.Duration

	// mu guards arrived and met.
	mu      sync.Mutex
	arrived int
	met     bool
	all     chan struct{}
}

func newBarrier(n int, timeout time.Duration) *barrier {
	return &barrier{n: n, timeout: timeout, all: make(chan struct{})}
}

func (b *barrier) wait() {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		b.met = true
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(b.timeout):
	}
}

// jar holds a browser's cookies: the latest Set-Cookie of each name wins,
// in the order responses complete.
type jar struct {
	// mu guards cookies.
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func newJar(cookies []*http.Cookie) *jar {
	j := &jar{cookies: make(map[string]*http.Cookie)}
	j.set(cookies)
	return j
}

func (j *jar) set(cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cookies {
		j.cookies[c.Name] = c
	}
}

func (j *jar) get() []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]*http.Cookie, 0, len(j.cookies))
	for _, c := range j.cookies {
		out = append(out, c)
	}
	return out
}

func serveRaw(a *App, method, path string, cookies []*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	a.Echo.ServeHTTP(rec, req)
	return rec
}

func lostUpdates(lib Library, pattern string, n int, dir string) (LostRow, error) {
	row := LostRow{Library: lib.Name, Pattern: pattern, Clients: n, Expected: n}
	sub, err := os.MkdirTemp(dir, "lost")
	if err != nil {
		return row, err
	}
	// The barrier is armed only once the session is set up.
	var bar *barrier
	var armed sync.Mutex
	app, err := lib.New(sub, Options{Hold: func() {
		armed.Lock()
		b := bar
		armed.Unlock()
		if b != nil {
			b.wait()
		}
	}})
	if err != nil {
		return row, err
	}
	defer app.Close()
	cookies, err := app.NewSession()
	if err != nil {
		return row, err
	}
	browser := newJar(cookies)

	// Each request's path prefix: the session's tab 0, or a tab of its
	// own for per-tab.
	prefixes := make([]string, n)
	for i := range prefixes {
		prefixes[i] = app.Prefix
	}
	route, countRoute := "/append", "/count"
	switch pattern {
	case "own-key":
		route, countRoute = "/own", "/owncount"
	case "update":
		route = "/append-update"
	case "per-tab":
		route, countRoute = "/append-tab", "/count-tab"
		for i := range prefixes {
			rec := serveRaw(app, http.MethodGet, "/0/+/plain", browser.get())
			loc := rec.Header().Get("Location")
			tab, _, ok := strings.Cut(strings.TrimPrefix(loc, "/"), "/")
			if rec.Code != http.StatusSeeOther || !ok {
				return row, fmt.Errorf("opening a tab: status %d, Location %q", rec.Code, loc)
			}
			browser.set(rec.Result().Cookies())
			prefixes[i] = "/" + tab
		}
	}

	armed.Lock()
	bar = newBarrier(n, 3*time.Second)
	armed.Unlock()
	start := browser.get()
	var wg sync.WaitGroup
	var failedMu sync.Mutex
	for i := range n {
		wg.Go(func() {
			rec := serveRaw(app, http.MethodPost, prefixes[i]+route+"?"+strconv.Itoa(i), start)
			browser.set(rec.Result().Cookies())
			failedMu.Lock()
			switch rec.Code {
			case http.StatusOK:
				row.Acknowledged++
			case http.StatusConflict:
				row.Refused++
			default:
				row.Failed++
			}
			failedMu.Unlock()
		})
	}
	wg.Wait()
	armed.Lock()
	bar.mu.Lock()
	row.Overlapped = bar.met
	bar.mu.Unlock()
	bar = nil
	armed.Unlock()

	seen := map[string]bool{}
	for _, p := range prefixes {
		if seen[p] {
			continue
		}
		seen[p] = true
		rec := serveRaw(app, http.MethodGet, p+countRoute, browser.get())
		if rec.Code != http.StatusOK {
			return row, fmt.Errorf("GET %s%s: status %d", p, countRoute, rec.Code)
		}
		k, err := strconv.Atoi(strings.TrimSpace(rec.Body.String()))
		if err != nil {
			return row, err
		}
		row.Kept += k
	}
	return row, nil
}

func flood(lib Library, cfg CorrectnessConfig, dir string) (FloodRow, error) {
	row := FloodRow{Library: lib.Name, Requests: cfg.FloodN, Quota: "none", Status: map[int]int{}}
	opts := Options{}
	switch lib.Name {
	case "tabkit-bolt":
		opts.MaxSessions = cfg.FloodQuota
		row.Quota = fmt.Sprintf("MaxSessions %d", cfg.FloodQuota)
		row.Note = "503 once full; existing sessions keep working"
	case "tabkit-redis":
		opts.MaxSessions = cfg.FloodQuota
		row.Quota = fmt.Sprintf("MaxSessions %d", cfg.FloodQuota)
		row.Note = "503 once full; concurrent creates may overshoot by those in flight (documented)"
	case "tabkit-postgres":
		opts.MaxSessions = cfg.FloodQuota
		row.Quota = fmt.Sprintf("MaxSessions %d", cfg.FloodQuota)
		row.Note = "503 once full; creates take turns on an advisory lock, so none overshoot"
	case "tabkit-memory":
		row.Note = "the memory store has no quota"
	case "scs-memstore", "scs-boltstore", "scs-pgxstore":
		row.Note = "scs has no quota"
	case "gorilla-cookie":
		row.Note = "state travels in the cookie; each response carries one"
	case "gorilla-filesystem":
		row.Note = "gorilla has no quota; one file per session"
	}
	sub, err := os.MkdirTemp(dir, "flood")
	if err != nil {
		return row, err
	}
	app, err := lib.New(sub, opts)
	if err != nil {
		return row, err
	}
	defer app.Close()
	var next sync.Mutex
	i := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range max(cfg.FloodWorkers, 1) {
		wg.Go(func() {
			for {
				next.Lock()
				i++
				mine := i
				next.Unlock()
				if mine > cfg.FloodN {
					return
				}
				rec := app.Do(http.MethodPost, "/write?"+strconv.Itoa(mine), nil)
				mu.Lock()
				row.Status[rec.Code]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	row.Stored, err = app.Stored()
	return row, err
}
