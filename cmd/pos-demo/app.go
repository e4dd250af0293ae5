package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

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
	// The new-register entry point: a link to "/+/" must not gain the
	// current tab's prefix.
	"/+"}

// serverConfig is what newServer needs; main fills it from flags.
type serverConfig struct {
	Store       store.Store
	Catalog     *Catalog
	PIN         string
	SigningKeys [][]byte
	Secure      bool
	Logger      *slog.Logger
	// Observe receives the kit's events for metrics; nil means none.
	Observe func(kit.Event)
}

// app holds what the handlers share. It is read-only once built.
type app struct {
	catalog *Catalog
	pin     string
	secure  bool
	pages   *pages
	log     *slog.Logger
}

// newServer wires the demo: the kit, middleware and routes. The store
// stays the caller's to close, after the server has stopped.
func newServer(cfg serverConfig) (*echo.Echo, error) {
	if cfg.PIN == "" {
		return nil, errors.New("a cashier PIN is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pages, err := loadPages()
	if err != nil {
		return nil, err
	}
	a := &app{catalog: cfg.Catalog, pin: cfg.PIN, secure: cfg.Secure, pages: pages, log: cfg.Logger}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.handleError
	e.Pre(requestLog(cfg.Logger))
	m, err := kit.New(kit.Config{
		Store:          cfg.Store,
		ExemptPrefixes: exemptPrefixes,
		SigningKeys:    cfg.SigningKeys,
		Secure:         cfg.Secure,
		Logger:         cfg.Logger,
		ErrorHandler:   a.kitError,
		Observe:        cfg.Observe,
	})
	if err != nil {
		return nil, err
	}
	if err := m.Install(e); err != nil {
		return nil, err
	}
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
	e.GET("/sales", kit.Handler(a.salesPage), signedIn...)
	e.GET("/sales/:id", kit.Handler(a.receiptPage), signedIn...)
	e.GET("/registers", kit.Handler(a.registersPage), signedIn...)
	e.GET("/cart.json", kit.Handler(a.cartJSON))

	e.GET("/login", kit.Handler(a.signInPage))
	e.POST("/login", kit.Handler(a.signIn))
	e.POST("/logout", kit.Handler(a.signOut))
	e.GET("/sales.json", kit.Handler(a.salesJSON))
	e.GET("/healthz", healthz)
	e.StaticFS("/static/", web.Static)
	return e, nil
}

func healthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, "ok\n")
}

// contentSecurityPolicy allows this site's own styles, scripts and forms
// only; the pages need nothing inline.
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
// endpoints, an error page otherwise.
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
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			message = "There is no such page."
		}
	}
	if status >= http.StatusInternalServerError {
		a.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	var werr error
	if c.Request().Method == http.MethodHead {
		werr = c.NoContent(status)
	} else if wantsJSON(c.Request()) {
		werr = c.JSON(status, map[string]string{"error": message})
	} else {
		werr = a.renderError(c, status, message)
	}
	if werr != nil {
		a.log.Error("writing an error response", "err", werr)
	}
}

// kitError renders the answers the kit gives on its own (a form from a
// tab that is gone, a store that is down).
func (a *app) kitError(w http.ResponseWriter, r *http.Request, err *kit.Error) {
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(err.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Message})
		return
	}
	page := errorPage{frame: frame{Title: http.StatusText(err.Status), Nav: "error"}, Status: err.Status, Message: err.Message}
	if werr := a.pages.write(w, err.Status, "error", page); werr != nil {
		a.log.Error("writing an error response", "err", werr)
	}
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
