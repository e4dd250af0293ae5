package kittest

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/tabkit/tabkit/kit"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// The model test's application: the kit in front of routes that each do
// one session operation and answer what they saw as JSON, driven over
// real HTTP by browsers whose cookies the test keeps itself, so it knows
// which Set-Cookie a browser processed last.

// The configuration the model assumes. MaxTabs is small so that opening
// tabs evicts; the timeouts are short next to the clock's jumps so that
// sessions, tabs and values expire while the test runs.
const (
	mMaxTabs     = 4
	mIdle        = 30 * time.Minute
	mLifetime    = 80 * time.Minute
	mTouch       = time.Minute
	mTabIdle     = 10 * time.Minute
	mBrowsers    = 3
	mPages       = 4
	mCookie      = "tabkit"
	mFlashName   = "f"
	mHugeTabPath = "/1000000" // past tabs.DefaultMaxID: not a tab prefix
)

// mReply is what every route of the model app answers.
type mReply struct {
	// Existed says the request's cookie named a live session when the
	// handler first touched it.
	Existed bool     `json:"existed"`
	Tab     uint32   `json:"tab"`
	Found   bool     `json:"found,omitempty"`
	Value   []string `json:"value,omitempty"`
	Read    []string `json:"read,omitempty"`
	Flashes []string `json:"flashes,omitempty"`
	Notices []string `json:"notices,omitempty"`
	Tabs    []uint32 `json:"tabs,omitempty"`
}

// mNamespace is what kit.Session and kit.Tab have in common.
type mNamespace interface {
	Get(key string, dst any) (bool, error)
	Set(key string, v any) error
	SetWithTTL(key string, v any, ttl time.Duration) error
	Delete(key string) error
	Update(key string, v any, fn func() error) error
	Flash(key string, v any) error
	Flashes(key string, dst any) (int, error)
}

// mApp is one run's application, store and clock.
type mApp struct {
	m      *kit.Manager
	st     store.Store
	clock  *storetest.Clock
	srv    *httptest.Server
	client *http.Client
	a      adapter
	fork   kit.ForkPolicy
}

// mStart is where every run's clock starts: whole seconds, so stores that
// keep coarser times than nanoseconds still agree with the model.
var mStart = time.Unix(1_800_000_000, 0).UTC()

func newMApp(tb testing.TB, st store.Store, clock *storetest.Clock, a adapter, fork kit.ForkPolicy) (*mApp, error) {
	m, err := kit.New(kit.Config{
		Store:          st,
		MaxTabs:        mMaxTabs,
		IdleTimeout:    mIdle,
		Lifetime:       mLifetime,
		TouchInterval:  mTouch,
		TabIdleTimeout: mTabIdle,
		Fork:           fork,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:            clock.Now,
	})
	if err != nil {
		return nil, err
	}
	app := &mApp{m: m, st: st, clock: clock, a: a, fork: fork}
	routes := mRoutes()
	var h http.Handler
	switch a {
	case echoAdapter:
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		e.Logger.SetOutput(io.Discard)
		if err := m.Install(e); err != nil {
			return nil, err
		}
		for _, r := range routes {
			e.Add(r.method, r.path, echo.WrapHandler(r.h))
		}
		h = e
	default:
		mux := http.NewServeMux()
		for _, r := range routes {
			mux.HandleFunc(r.method+" "+r.path, r.h)
		}
		h = m.Wrap(mux)
	}
	app.srv = httptest.NewServer(h)
	app.client = &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return app, nil
}

func (app *mApp) close() {
	app.client.CloseIdleConnections()
	app.srv.Close()
	app.m.Close()
}

type mRoute struct {
	method, path string
	h            http.HandlerFunc
}

// mRoutes are the model app's routes. Every one touches the session
// first (IsNew), so the reply says whether the cookie named a live
// session when the request loaded it.
func mRoutes() []mRoute {
	route := func(method, path string, fn func(r *http.Request, s *kit.Session, ns mNamespace, rep *mReply) error) mRoute {
		return mRoute{method, path, func(w http.ResponseWriter, r *http.Request) {
			s := kit.SessionOf(r)
			isNew, err := s.IsNew()
			if err != nil {
				kit.Fail(w, r, err)
				return
			}
			rep := mReply{Existed: !isNew, Tab: uint32(s.Tab().ID())}
			var ns mNamespace = s
			if r.FormValue("scope") == "t" {
				ns = s.Tab()
			}
			if err := fn(r, s, ns, &rep); err != nil {
				kit.Fail(w, r, err)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_ = json.NewEncoder(w).Encode(rep)
		}}
	}
	return []mRoute{
		route(http.MethodGet, "/m/get", func(r *http.Request, _ *kit.Session, ns mNamespace, rep *mReply) error {
			found, err := ns.Get(r.FormValue("key"), &rep.Value)
			rep.Found = found
			return err
		}),
		route(http.MethodPost, "/m/naive", func(r *http.Request, _ *kit.Session, ns mNamespace, rep *mReply) error {
			// The get-append-set a handler may write without Update.
			var list []string
			if _, err := ns.Get(r.FormValue("key"), &list); err != nil {
				return err
			}
			rep.Read = list
			list = append(list[:len(list):len(list)], r.FormValue("item"))
			rep.Value = list
			return ns.Set(r.FormValue("key"), list)
		}),
		route(http.MethodPost, "/m/update", func(r *http.Request, _ *kit.Session, ns mNamespace, rep *mReply) error {
			var list []string
			err := ns.Update(r.FormValue("key"), &list, func() error {
				list = append(list, r.FormValue("item"))
				return nil
			})
			rep.Value = list
			return err
		}),
		route(http.MethodPost, "/m/set", func(r *http.Request, _ *kit.Session, ns mNamespace, _ *mReply) error {
			v := []string{r.FormValue("item")}
			if ttl := r.FormValue("ttl"); ttl != "" {
				secs, err := strconv.Atoi(ttl)
				if err != nil {
					return err
				}
				return ns.SetWithTTL(r.FormValue("key"), v, time.Duration(secs)*time.Second)
			}
			return ns.Set(r.FormValue("key"), v)
		}),
		route(http.MethodPost, "/m/fail", func(r *http.Request, _ *kit.Session, ns mNamespace, _ *mReply) error {
			// A handler that fails after queuing changes: none may land.
			if err := ns.Set(r.FormValue("key"), []string{r.FormValue("item")}); err != nil {
				return err
			}
			if err := ns.Flash(mFlashName, r.FormValue("item")); err != nil {
				return err
			}
			status, _ := strconv.Atoi(r.FormValue("status"))
			return &kit.Error{Status: status, Message: "refused after queuing changes"}
		}),
		route(http.MethodPost, "/m/del", func(r *http.Request, _ *kit.Session, ns mNamespace, _ *mReply) error {
			return ns.Delete(r.FormValue("key"))
		}),
		route(http.MethodPost, "/m/flash", func(r *http.Request, _ *kit.Session, ns mNamespace, _ *mReply) error {
			return ns.Flash(mFlashName, r.FormValue("item"))
		}),
		route(http.MethodGet, "/m/flashes", func(r *http.Request, s *kit.Session, ns mNamespace, rep *mReply) error {
			if _, err := ns.Flashes(mFlashName, &rep.Flashes); err != nil {
				return err
			}
			if r.FormValue("scope") == "t" {
				_, err := s.Tab().Flashes(kit.FlashKey, &rep.Notices)
				return err
			}
			return nil
		}),
		route(http.MethodPost, "/m/regen", func(r *http.Request, s *kit.Session, _ mNamespace, _ *mReply) error {
			if err := s.Regenerate(); err != nil {
				return err
			}
			return s.Set("user", []string{r.FormValue("item")})
		}),
		route(http.MethodPost, "/m/destroy", func(_ *http.Request, s *kit.Session, _ mNamespace, _ *mReply) error {
			return s.Destroy()
		}),
		route(http.MethodPost, "/m/close", func(_ *http.Request, s *kit.Session, _ mNamespace, _ *mReply) error {
			return s.Tab().Close()
		}),
		route(http.MethodGet, "/m/tabs", func(_ *http.Request, s *kit.Session, _ mNamespace, rep *mReply) error {
			list, err := s.Tabs()
			for _, info := range list {
				rep.Tabs = append(rep.Tabs, uint32(info.ID))
			}
			return err
		}),
	}
}

// mRequest is one HTTP request of a round, as the browser sends it.
type mRequest struct {
	method string
	path   string // with the query
	form   url.Values
	token  string // the cookie sent; "" for none
	fork   bool   // send the fork header
}

func (q mRequest) String() string {
	s := q.method + " " + q.path
	if len(q.form) > 0 {
		s += " " + q.form.Encode()
	}
	if q.token != "" {
		s += " [cookie " + shortToken(q.token) + "]"
	}
	return s
}

// mResponse is what came back, with the order in which the browser
// processed it among its round.
type mResponse struct {
	status   int
	body     string
	reply    *mReply // a JSON reply of the app's routes
	cookie   *string // nil: no Set-Cookie; "": removed; else the token
	location string
	seq      int64
	err      error
}

func (r *mResponse) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	s := strconv.Itoa(r.status)
	if r.location != "" {
		s += " → " + r.location
	}
	if r.cookie != nil {
		if *r.cookie == "" {
			s += " [cookie removed]"
		} else {
			s += " [cookie " + shortToken(*r.cookie) + "]"
		}
	}
	if r.reply != nil {
		b, _ := json.Marshal(r.reply)
		s += " " + string(b)
	} else if r.status >= 300 && r.location == "" {
		s += " " + strings.TrimSpace(strings.ReplaceAll(r.body, "\n", " "))
	}
	return s
}

// shortToken names a token in messages by its last characters: a
// regenerated token keeps its first ones.
func shortToken(t string) string {
	if len(t) > 6 {
		return "…" + t[len(t)-6:]
	}
	return t
}

// do sends the requests of one round at once and waits for every
// answer. seq numbers the answers in the order they arrived.
func (app *mApp) do(ctx context.Context, reqs []mRequest) []*mResponse {
	out := make([]*mResponse, len(reqs))
	var seq atomic.Int64
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, q := range reqs {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			var body io.Reader
			if q.form != nil {
				body = strings.NewReader(q.form.Encode())
			}
			req, err := http.NewRequestWithContext(ctx, q.method, app.srv.URL+q.path, body)
			if err != nil {
				ready.Done()
				out[i] = &mResponse{err: err}
				return
			}
			if q.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if q.token != "" {
				req.Header.Set("Cookie", mCookie+"="+q.token)
			}
			if q.fork {
				req.Header.Set(kit.ForkHeader, "1")
			}
			ready.Done()
			<-start
			resp, err := app.client.Do(req)
			if err != nil {
				out[i] = &mResponse{err: err, seq: seq.Add(1)}
				return
			}
			r := &mResponse{status: resp.StatusCode, seq: seq.Add(1), location: resp.Header.Get("Location")}
			for _, c := range resp.Cookies() {
				if c.Name != mCookie {
					continue
				}
				v := c.Value
				if c.MaxAge < 0 {
					v = ""
				}
				r.cookie = &v
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				r.err = err
			}
			r.body = string(data)
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && r.status == http.StatusOK && q.path != "" && strings.Contains(q.path, "/m/") {
				var rep mReply
				if err := json.Unmarshal(data, &rep); err != nil {
					r.err = fmt.Errorf("decoding the reply %q: %w", data, err)
				} else {
					r.reply = &rep
				}
			}
			out[i] = r
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}
