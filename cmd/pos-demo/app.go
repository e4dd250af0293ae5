package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/tabs"
	"github.com/tabkit/tabkit/web"
)

// exemptPrefixes are the paths that belong to the browser, not to one
// register: they are never tab-scoped or rewritten.
var exemptPrefixes = []string{"/login", "/logout", "/sales.json", "/healthz", "/metrics",
	// The page a closed register's browser tab shows: it has no tab left.
	"/closed",
	// The new-register entry point: a link to "/+/" must not gain the
	// current tab's prefix.
	"/+"}

// serverConfig is what newServer needs; main fills it from flags.
type serverConfig struct {
	Store   store.Store
	Catalog *Catalog
	// Ledger keeps the shop's sales; newServer does not close it.
	Ledger      Ledger
	PIN         string
	SigningKeys [][]byte
	Secure      bool
	Logger      *slog.Logger
	// Observe receives the kit's events for metrics; nil means none.
	Observe func(kit.Event)
	// DefaultPIN says the PIN is the built-in one, which the sign-in page
	// then mentions.
	DefaultPIN bool
	// TrustedProxies are the addresses whose X-Forwarded-For and
	// X-Real-IP are believed. Default none: the client is the peer.
	TrustedProxies []netip.Prefix
	// SignIn throttles wrong PINs. Zero fields take DefaultThrottle's.
	SignIn ThrottleConfig
	// Now is the demo's clock, for the times it notes and shows (not the
	// kit's). Default time.Now.
	Now func() time.Time
}

// app holds what the handlers share.
type app struct {
	catalog    *Catalog
	ledger     Ledger
	pin        string
	defaultPIN bool
	secure     bool
	pages      *pages
	log        *slog.Logger
	throttle   *pinThrottle
	// checkouts are the ones between taking a cart and recording its
	// sale, so a duplicate of one can wait for its receipt.
	checkouts *inFlight
	// signOuts keeps why sessions ended, for the terminals that held
	// them; endings says why the sessions this process is ending end.
	signOuts signOutLog
	endings  *endings
	// observeNext gets the kit's events after the demo (the metrics).
	observeNext func(kit.Event)
	now         func() time.Time
}

// newServer wires the demo: the kit, middleware and routes. It returns
// the kit's Manager too, for the admin endpoint (admin.Config.Ender); the
// caller closes it, then the store and the ledger, after the server has
// stopped.
func newServer(cfg serverConfig) (*echo.Echo, *kit.Manager, error) {
	if cfg.PIN == "" {
		return nil, nil, errors.New("a cashier PIN is required")
	}
	if cfg.Ledger == nil {
		return nil, nil, errors.New("a sales ledger is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	assets, err := loadAssets(web.Static)
	if err != nil {
		return nil, nil, err
	}
	pages, err := loadPages(assets)
	if err != nil {
		return nil, nil, err
	}
	// A ledger that keeps no notes of its own (memory) gets them in
	// memory, as it keeps its sales.
	signOuts, ok := cfg.Ledger.(signOutLog)
	if !ok {
		signOuts = newMemorySignOuts()
	}
	a := &app{
		catalog: cfg.Catalog, ledger: cfg.Ledger, pin: cfg.PIN, defaultPIN: cfg.DefaultPIN, secure: cfg.Secure,
		pages: pages, log: cfg.Logger, throttle: newPINThrottle(cfg.SignIn, cfg.Logger), checkouts: newInFlight(),
		signOuts: signOuts, endings: newEndings(), observeNext: cfg.Observe, now: cfg.Now,
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.handleError
	// c.RealIP() is the peer's address unless it is a trusted proxy.
	e.IPExtractor = func(r *http.Request) string { return clientIP(r, cfg.TrustedProxies).String() }
	e.Pre(requestLog(cfg.Logger))
	// Before the kit, so it sees the answers the kit gives on its own.
	e.Pre(a.noticeGone)
	// Cookies are the kit's default, browser-session ones (a shared till
	// forgets who was signed in when the browser closes) unless the
	// cashier ticks "Remember this till" (Session.RememberMe).
	m, err := kit.New(kit.Config{
		Store:          cfg.Store,
		ExemptPrefixes: exemptPrefixes,
		SigningKeys:    cfg.SigningKeys,
		Secure:         cfg.Secure,
		Logger:         cfg.Logger,
		ErrorHandler:   a.kitError,
		Observe:        a.observe,
		// A duplicated register starts empty: a copied cart could be
		// rung up twice.
		Fork: kit.ForkEmpty,
	})
	if err != nil {
		return nil, nil, err
	}
	if err := m.Install(e); err != nil {
		_ = m.Close()
		return nil, nil, err
	}
	e.Use(reachedRoutes)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			cfg.Logger.Error("handler panicked", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.BodyLimit("64K"))
	e.Use(securityHeaders)

	signedIn := []echo.MiddlewareFunc{a.requireCashier, checkCSRF}
	e.GET("/", kit.Handler(a.registerPage), signedIn...)
	e.POST("/label", kit.Handler(a.rename), signedIn...)
	e.POST("/cart/items", kit.Handler(a.addItem), signedIn...)
	e.POST("/cart/items/:sku", kit.Handler(a.setQty), signedIn...)
	e.POST("/checkout", kit.Handler(a.checkout), signedIn...)
	e.GET("/close", kit.Handler(a.closePage), signedIn...)
	e.POST("/close", kit.Handler(a.closeRegister), signedIn...)
	e.GET("/closed", kit.Handler(a.closedPage), signedIn...)
	e.GET("/sales", kit.Handler(a.salesPage), signedIn...)
	e.GET("/sales/:id", kit.Handler(a.receiptPage), signedIn...)
	e.GET("/registers", kit.Handler(a.registersPage), signedIn...)
	e.POST("/terminals/sign-out", kit.Handler(a.signOutOthers), signedIn...)
	e.GET("/signout", kit.Handler(a.signOutPage), signedIn...)
	e.GET("/cart.json", kit.Handler(a.cartJSON))

	e.GET("/login", kit.Handler(a.signInPage))
	e.POST("/login", kit.Handler(a.signIn))
	e.POST("/logout", kit.Handler(a.signOut))
	e.GET("/sales.json", kit.Handler(a.salesJSON))
	e.GET("/healthz", healthz)
	static := e.Group("/static", assets.cacheControl)
	static.StaticFS("/", web.Static)
	return e, m, nil
}

func healthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, "ok\n")
}

// contentSecurityPolicy allows this site's own styles, scripts and forms
// only; the pages need nothing inline, and htmx is set up not to
// evaluate code from attributes (allowEval false).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'; object-src 'none'"

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		return next(c)
	}
}

// handleError answers errors handlers return: JSON for the JSON
// endpoints, an error page otherwise (which pos.js shows in place when
// htmx asked).
func (a *app) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, message := http.StatusInternalServerError, "Something went wrong on our side; nothing was saved."
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		if s, ok := he.Message.(string); ok {
			message = s
		}
		switch status {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			message = "There is no such page."
		case http.StatusRequestEntityTooLarge:
			message = "That form was too large to accept; nothing was changed."
		}
	}
	if status >= http.StatusInternalServerError {
		a.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	var werr error
	if c.Request().Method == http.MethodHead {
		werr = c.NoContent(status)
	} else {
		werr = a.writeError(c.Response(), c.Request(), status, message)
	}
	if werr != nil {
		a.log.Error("writing an error response", "err", werr)
	}
}

// kitError renders the answers the kit gives on its own (a form from a
// tab that is gone, a store that is down, a session ended or moved while
// the request ran).
func (a *app) kitError(w http.ResponseWriter, r *http.Request, err *kit.Error) {
	if werr := a.writeKitError(w, r, err); werr != nil {
		a.log.Error("writing an error response", "err", werr)
	}
}

func (a *app) writeKitError(w http.ResponseWriter, r *http.Request, err *kit.Error) error {
	browser := !wantsJSON(r)
	switch {
	case errors.Is(err, kit.ErrUnknownTab) && browser:
		// A form from a tab of a session that is no more: what it sends
		// has no session to land in. Sign in again, rather than read
		// about tabs, and learn why.
		if browserSignedOut(r) {
			// Signed out in this browser: its cookie is gone.
			return a.sendToSignIn(w, r, "/0/", signedOutNotice)
		}
		if handle, gone := sessionGone(r); gone {
			// Ended elsewhere, or expired.
			return a.sendToSignIn(w, r, "/0/", endedNotice(handle, true))
		}
	case errors.Is(err, store.ErrMoved):
		// A sign-in in another tab of this browser moved the session to a
		// new cookie while this request was on its way. The browser holds
		// the new cookie already: reloading shows the page as it is.
		// htmx shows the message in place (pos.js).
		return a.writeErrorPage(w, r, errorPage{Status: err.Status, Message: err.Message, Reload: reloadTarget(r)})
	case errors.Is(err, store.ErrNotFound) && browser:
		// The session ended while this request ran: it was signed out
		// from elsewhere meanwhile.
		if handle := kit.SessionOf(r).Handle(); handle != "" {
			return a.sendToSignIn(w, r, "/0/", endedNotice(handle, true))
		}
	}
	if err.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	return a.writeError(w, r, err.Status, err.Message)
}

// sessionGone reports whether r's cookie names a session that no longer
// exists, and its handle. r went through the kit (an ErrorHandler's
// request does).
func sessionGone(r *http.Request) (handle string, gone bool) {
	handle, gone, err := kit.SessionOf(r).Gone()
	return handle, err == nil && gone
}

// reloadTarget is where the error page's reload link leads: the page
// itself for a GET, else the page the form was sent from (this site's
// Referer), else the register.
func reloadTarget(r *http.Request) string {
	if isSafeMethod(r.Method) {
		return localPath(r.URL.RequestURI(), "/")
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Host != "" {
		return localPath(ref.RequestURI(), "/")
	}
	return "/"
}

// writeError answers JSON to the JSON endpoints and scripts, the error
// page to browsers.
func (a *app) writeError(w http.ResponseWriter, r *http.Request, status int, message string) error {
	return a.writeErrorPage(w, r, errorPage{Status: status, Message: message})
}

func (a *app) writeErrorPage(w http.ResponseWriter, r *http.Request, page errorPage) error {
	if wantsJSON(r) {
		return writeJSON(w, page.Status, map[string]string{"error": page.Message})
	}
	return a.renderError(w, page)
}

func wantsJSON(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, ".json") || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// registerName is how a register is called on screen: its label, or
// "Register N".
func registerName(label string, tab tabs.ID) string {
	if label != "" {
		return label
	}
	return fmt.Sprintf("Register %d", tab)
}
