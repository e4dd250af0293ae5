package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo-contrib/session"
	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/boltstore"
	"github.com/tabkit/tabkit/store/redisstore"
	bolt "go.etcd.io/bbolt"
)

// App is one library wired into Echo with the routes every library gets:
//
//	GET  /plain        answers without touching the session
//	GET  /read         answers the value of "k"
//	POST /write        sets "k" to the query string
//	POST /append       appends the query to the list "l": get, Hold, put
//	GET  /count        answers the length of "l"
//	POST /own          loads the session, Holds, sets a key of its own
//	GET  /owncount     answers how many such keys the session has
//
// and, for tabkit only, /tabwrite, /append-update (the same append with
// Update), /append-tab and /count-tab (the list in the tab's namespace).
// Paths are relative to Prefix: tabkit routes live under a tab number.
type App struct {
	Echo *echo.Echo
	// Prefix goes before every path: "/0" for tabkit, "" for the others.
	Prefix string
	// Tabs is true for tabkit, which has the tab routes.
	Tabs bool
	// Stored counts the sessions the library keeps on the server.
	Stored func() (int, error)
	// CookieOnly is true when the session lives in the cookie, so the
	// server stores nothing whatever happens.
	CookieOnly bool
	closers    []func() error
}

// Close releases what the constructor opened.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}

// Options tunes an App for one experiment.
type Options struct {
	// Hold, when set, runs in /append and /append-tab between reading
	// the list and writing it back, and in /append-update before the
	// update: the correctness runs use it as a barrier so that concurrent
	// requests really overlap.
	Hold func()
	// MaxSessions caps tabkit's bbolt store (Refuse policy). Zero: none.
	MaxSessions int64
}

// Library describes one row family of the benchmarks.
type Library struct {
	// Name is the row label, "tabkit-bolt" or "scs-memstore".
	Name string
	// Durable is true when a write is on disk when the response is sent.
	Durable bool
	// New builds the app; dir is a fresh directory it may use for files.
	New func(dir string, opts Options) (*App, error)
}

// Libraries lists every library the benchmarks compare. redisURL, when
// not empty, adds tabkit on Redis; postgresURL, tabkit on PostgreSQL and
// scs's pgxstore on the same server. ClusterLibraries has the rows on a
// Redis Cluster.
func Libraries(redisURL, postgresURL string) []Library {
	libs := []Library{
		{Name: "tabkit-memory", New: func(dir string, o Options) (*App, error) {
			st := store.NewMemory()
			return newTabkit(st, st.Close, o)
		}},
		{Name: "tabkit-bolt", Durable: true, New: func(dir string, o Options) (*App, error) {
			st, err := boltstore.Open(filepath.Join(dir, "tabkit.db"), &boltstore.Options{MaxSessions: o.MaxSessions})
			if err != nil {
				return nil, err
			}
			return newTabkit(st, st.Close, o)
		}},
	}
	if redisURL != "" {
		libs = append(libs, Library{Name: "tabkit-redis", New: func(dir string, o Options) (*App, error) {
			return newTabkitRedis(redisURL, redisstore.Options{MaxSessions: o.MaxSessions}, o)
		}})
	}
	if postgresURL != "" {
		libs = append(libs, postgresLibraries(postgresURL)...)
	}
	return append(libs,
		Library{Name: "scs-memstore", New: func(dir string, o Options) (*App, error) {
			st := memstore.NewWithCleanupInterval(0)
			return newSCS(st, func() (int, error) {
				all, err := st.All()
				return len(all), err
			}, nil, o), nil
		}},
		Library{Name: "scs-boltstore", Durable: true, New: func(dir string, o Options) (*App, error) {
			db, err := bolt.Open(filepath.Join(dir, "scs.db"), 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				return nil, err
			}
			st := newSCSBolt(db)
			return newSCS(st, st.count, db.Close, o), nil
		}},
		Library{Name: "gorilla-cookie", New: func(dir string, o Options) (*App, error) {
			app := newGorilla(sessions.NewCookieStore(hashKey), o)
			app.CookieOnly = true
			app.Stored = func() (int, error) { return 0, nil }
			return app, nil
		}},
		Library{Name: "gorilla-filesystem", New: func(dir string, o Options) (*App, error) {
			fsDir := filepath.Join(dir, "gorilla")
			if err := os.MkdirAll(fsDir, 0o700); err != nil {
				return nil, err
			}
			app := newGorilla(sessions.NewFilesystemStore(fsDir, hashKey), o)
			app.Stored = func() (int, error) {
				entries, err := os.ReadDir(fsDir)
				return len(entries), err
			}
			return app, nil
		}},
	)
}

// ClusterLibraries lists tabkit on the Redis Cluster at clusterURL
// (redis://host:port?addr=host2:port2&…), plain and with WaitReplicas 1,
// or nothing when clusterURL is empty.
func ClusterLibraries(clusterURL string) []Library {
	if clusterURL == "" {
		return nil
	}
	return []Library{
		{Name: "tabkit-redis-cluster", New: func(dir string, o Options) (*App, error) {
			return newTabkitRedis(clusterURL, redisstore.Options{MaxSessions: o.MaxSessions}, o)
		}},
		{Name: "tabkit-redis-cluster-wait", New: func(dir string, o Options) (*App, error) {
			return newTabkitRedis(clusterURL, redisstore.Options{MaxSessions: o.MaxSessions, WaitReplicas: 1}, o)
		}},
	}
}

// newTabkitRedis is tabkit on the Redis or Redis Cluster at url.
func newTabkitRedis(url string, ropts redisstore.Options, o Options) (*App, error) {
	// A prefix of its own per app, so runs never see each other's
	// sessions in the shared server.
	ropts.KeyPrefix = "bench" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	st, err := redisstore.Open(url, &ropts)
	if err != nil {
		return nil, err
	}
	return newTabkit(st, st.Close, o)
}

// hashKey signs gorilla's cookies. The cookie store is used as its
// documentation shows it, signed but not encrypted.
var hashKey = []byte("bench-only-signing-key-of-32-bytes!!")

func quietEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(discard{})
	return e
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func plain(c echo.Context) error { return c.String(http.StatusOK, "ok") }

func hold(o Options) {
	if o.Hold != nil {
		o.Hold()
	}
}

// NewBaseline is Echo with the /plain route and no sessions.
func NewBaseline() *App {
	e := quietEcho()
	e.GET("/plain", plain)
	return &App{Echo: e, Stored: func() (int, error) { return 0, nil }}
}

func newTabkit(st store.Store, closeStore func() error, o Options) (*App, error) {
	e := quietEcho()
	m, err := kit.New(kit.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := m.Install(e); err != nil {
		return nil, err
	}
	e.GET("/plain", plain)
	e.GET("/read", kit.Handler(func(c *kit.Context) error {
		var v string
		if _, err := c.Session().Get("k", &v); err != nil {
			return err
		}
		return c.String(http.StatusOK, v)
	}))
	e.POST("/write", kit.Handler(func(c *kit.Context) error {
		if err := c.Session().Set("k", c.Request().URL.RawQuery); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	}))
	e.POST("/tabwrite", kit.Handler(func(c *kit.Context) error {
		if err := c.Session().Tab().Set("k", c.Request().URL.RawQuery); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	}))
	// The naive pattern, as most session code is written.
	naiveAppend := func(ns interface {
		Get(string, any) (bool, error)
		Set(string, any) error
	}, item string) error {
		var list []string
		if _, err := ns.Get("l", &list); err != nil {
			return err
		}
		hold(o)
		return ns.Set("l", append(list, item))
	}
	e.POST("/append", kit.Handler(func(c *kit.Context) error {
		if err := naiveAppend(c.Session(), c.Request().URL.RawQuery); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	}))
	e.POST("/append-tab", kit.Handler(func(c *kit.Context) error {
		if err := naiveAppend(c.Session().Tab(), c.Request().URL.RawQuery); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	}))
	e.POST("/append-update", kit.Handler(func(c *kit.Context) error {
		hold(o)
		var list []string
		item := c.Request().URL.RawQuery
		if err := c.Session().Update("l", &list, func() error {
			list = append(list, item)
			return nil
		}); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	}))
	e.POST("/own", kit.Handler(func(c *kit.Context) error {
		var list []string
		if _, err := c.Session().Get("l", &list); err != nil {
			return err
		}
		hold(o)
		if err := c.Session().Set(ownPrefix+c.Request().URL.RawQuery, true); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	}))
	e.GET("/owncount", kit.Handler(func(c *kit.Context) error {
		keys, err := c.Session().Keys()
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, strconv.Itoa(countOwn(keys)))
	}))
	count := func(ns interface {
		Get(string, any) (bool, error)
	}, c *kit.Context) error {
		var list []string
		if _, err := ns.Get("l", &list); err != nil {
			return err
		}
		return c.String(http.StatusOK, strconv.Itoa(len(list)))
	}
	e.GET("/count", kit.Handler(func(c *kit.Context) error { return count(c.Session(), c) }))
	e.GET("/count-tab", kit.Handler(func(c *kit.Context) error { return count(c.Session().Tab(), c) }))
	app := &App{Echo: e, Prefix: "/0", Tabs: true, closers: []func() error{m.Close, closeStore}}
	statser, _ := st.(store.Statser)
	app.Stored = func() (int, error) {
		if statser == nil {
			return 0, errors.New("store has no Stats")
		}
		s, err := statser.Stats(context.Background())
		return int(s.Sessions), err
	}
	return app, nil
}

func newSCS(st scs.Store, stored func() (int, error), closeDB func() error, o Options) *App {
	sm := scs.New()
	sm.Store = st
	// scs logs every failed load through the log package; the answer
	// (500) is what the runs count.
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
	e := quietEcho()
	e.Use(echo.WrapMiddleware(sm.LoadAndSave))
	e.GET("/plain", plain)
	e.GET("/read", func(c echo.Context) error {
		return c.String(http.StatusOK, sm.GetString(c.Request().Context(), "k"))
	})
	e.POST("/write", func(c echo.Context) error {
		sm.Put(c.Request().Context(), "k", c.Request().URL.RawQuery)
		return c.String(http.StatusOK, "ok")
	})
	e.POST("/append", func(c echo.Context) error {
		ctx := c.Request().Context()
		list, _ := sm.Get(ctx, "l").([]string)
		hold(o)
		sm.Put(ctx, "l", append(list, c.Request().URL.RawQuery))
		return c.String(http.StatusOK, "ok")
	})
	e.POST("/own", func(c echo.Context) error {
		ctx := c.Request().Context()
		_ = sm.Get(ctx, "l")
		hold(o)
		sm.Put(ctx, ownPrefix+c.Request().URL.RawQuery, true)
		return c.String(http.StatusOK, "ok")
	})
	e.GET("/owncount", func(c echo.Context) error {
		return c.String(http.StatusOK, strconv.Itoa(countOwn(sm.Keys(c.Request().Context()))))
	})
	e.GET("/count", func(c echo.Context) error {
		list, _ := sm.Get(c.Request().Context(), "l").([]string)
		return c.String(http.StatusOK, strconv.Itoa(len(list)))
	})
	app := &App{Echo: e, Stored: stored}
	if stopper, ok := st.(interface{ StopCleanup() }); ok {
		app.closers = append(app.closers, func() error { stopper.StopCleanup(); return nil })
	}
	if closeDB != nil {
		app.closers = append(app.closers, closeDB)
	}
	return app
}

// gorillaName names the gorilla session.
const gorillaName = "s"

func newGorilla(st sessions.Store, o Options) *App {
	e := quietEcho()
	e.Use(session.Middleware(st))
	e.GET("/plain", plain)
	e.GET("/read", func(c echo.Context) error {
		s, err := session.Get(gorillaName, c)
		if err != nil {
			return err
		}
		v, _ := s.Values["k"].(string)
		return c.String(http.StatusOK, v)
	})
	e.POST("/write", func(c echo.Context) error {
		s, err := session.Get(gorillaName, c)
		if err != nil {
			return err
		}
		s.Values["k"] = c.Request().URL.RawQuery
		if err := s.Save(c.Request(), c.Response()); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	e.POST("/append", func(c echo.Context) error {
		s, err := session.Get(gorillaName, c)
		if err != nil {
			return err
		}
		list, _ := s.Values["l"].([]string)
		hold(o)
		s.Values["l"] = append(list, c.Request().URL.RawQuery)
		if err := s.Save(c.Request(), c.Response()); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	e.POST("/own", func(c echo.Context) error {
		s, err := session.Get(gorillaName, c)
		if err != nil {
			return err
		}
		hold(o)
		s.Values[ownPrefix+c.Request().URL.RawQuery] = true
		if err := s.Save(c.Request(), c.Response()); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	e.GET("/owncount", func(c echo.Context) error {
		s, err := session.Get(gorillaName, c)
		if err != nil {
			return err
		}
		var keys []string
		for k := range s.Values {
			if name, ok := k.(string); ok {
				keys = append(keys, name)
			}
		}
		return c.String(http.StatusOK, strconv.Itoa(countOwn(keys)))
	})
	e.GET("/count", func(c echo.Context) error {
		s, err := session.Get(gorillaName, c)
		if err != nil {
			return err
		}
		list, _ := s.Values["l"].([]string)
		return c.String(http.StatusOK, strconv.Itoa(len(list)))
	})
	return &App{Echo: e}
}

// ownPrefix starts the keys of /own, one per request.
const ownPrefix = "own-"

func countOwn(keys []string) int {
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, ownPrefix) {
			n++
		}
	}
	return n
}

// Do serves one request in-process and returns the recorder.
func (a *App) Do(method, path string, cookies []*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, a.Prefix+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	a.Echo.ServeHTTP(rec, req)
	return rec
}

// DoOK is Do that fails unless the answer is 200.
func (a *App) DoOK(method, path string, cookies []*http.Cookie) ([]*http.Cookie, string, error) {
	rec := a.Do(method, path, cookies)
	if rec.Code != http.StatusOK {
		return nil, "", fmt.Errorf("%s %s%s: status %d: %s", method, a.Prefix, path, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return rec.Result().Cookies(), rec.Body.String(), nil
}

// NewSession creates a session holding "k" and returns its cookies.
func (a *App) NewSession() ([]*http.Cookie, error) {
	cookies, _, err := a.DoOK(http.MethodPost, "/write?first", nil)
	if err != nil {
		return nil, err
	}
	if len(cookies) == 0 {
		return nil, fmt.Errorf("POST %s/write: no cookie", a.Prefix)
	}
	return cookies, nil
}
