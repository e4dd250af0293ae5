package kit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/tabs"
)

// Config configures a Manager. Start from DefaultConfig or a zero Config:
// New fills every zero field with its default.
type Config struct {
	// Store keeps the sessions. Default: a bbolt file named by DBPath,
	// opened by New and closed by Manager.Close. A store given here is
	// the caller's to close.
	Store store.Store
	// DBPath is the bbolt file used when Store is nil. Default "tabkit.db".
	DBPath string

	// CookieName names the session cookie. Default "tabkit". When the
	// cookie is Secure the name gains the "__Host-" prefix, which browsers
	// only accept with Secure, Path=/ and no Domain.
	CookieName string
	// Secure forces the Secure attribute and the __Host- prefix on every
	// cookie. When false they are still used for requests that arrived
	// over TLS, and for X-Forwarded-Proto: https when TrustForwardedProto
	// is set. Default false.
	Secure bool
	// TrustForwardedProto believes the X-Forwarded-Proto header. Set it
	// only behind a proxy that overwrites that header. Default false.
	TrustForwardedProto bool
	// SameSite is the cookie's SameSite attribute. Default
	// http.SameSiteLaxMode. The cookie is always HttpOnly.
	SameSite http.SameSite

	// IdleTimeout ends a session not used for this long. Default 24h.
	// Negative disables the idle timeout.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after it was created, however
	// busy. Default 7 days. Negative disables the absolute lifetime.
	Lifetime time.Duration
	// TouchInterval is how stale the stored last-seen time may get before
	// a read-only request writes it, so reads rarely cost a write.
	// Default a tenth of IdleTimeout, at most one minute.
	TouchInterval time.Duration

	// PersistentCookies makes the session cookie outlive the browser:
	// it carries Expires at the session's absolute deadline. Default
	// false: a browser-session cookie, forgotten when the browser closes
	// (a shared till forgets who was signed in). Session.RememberMe
	// overrides it per session. Server-side timeouts apply either way.
	PersistentCookies bool

	// SigningKeys, when set, signs the session token in the cookie with
	// HMAC-SHA256. The first key signs; every key verifies, so keys can be
	// rotated by putting a new one first. Each key needs at least 32
	// bytes. Default none: the cookie holds the bare 256-bit token.
	SigningKeys [][]byte

	// MaxSessionsPerPrincipal caps the live sessions of one principal
	// (Session.SetPrincipal), this one included. Default zero: no limit.
	// It needs a store that implements store.PrincipalIndex.
	MaxSessionsPerPrincipal int
	// WhenPrincipalFull says what a sign-in past MaxSessionsPerPrincipal
	// does. Default RefuseSignIn.
	WhenPrincipalFull PrincipalPolicy

	// LoadUser returns the user a principal names, for Session.User, on
	// stores that do not load it with the session (store.Record.User).
	// It is called at most once per request. Default none.
	LoadUser func(ctx context.Context, principal string) (user any, err error)

	// Fork says what a duplicated browser tab gets when tabs.js forks it
	// into a tab of its own. Default ForkCopy.
	Fork ForkPolicy

	// Codec turns values into bytes. Default JSON.
	Codec Codec
	// MaxSessionBytes caps the stored size of one session (key names and
	// encoded values). Default 1 MiB. A Set past it fails with ErrTooLarge.
	MaxSessionBytes int64

	// MaxTabs caps the open tabs of one session; opening one more closes
	// the least recently used, preferring tabs that hold no data.
	// Default 32.
	MaxTabs int
	// TabIdleTimeout closes a tab not used for this long, when its
	// session is next used. Default IdleTimeout. Negative disables it.
	TabIdleTimeout time.Duration
	// MaxTabID is the largest tab number. Default tabs.DefaultMaxID.
	MaxTabID tabs.ID
	// ExemptPrefixes lists paths that are not tab-scoped: never
	// redirected to a tab, never rewritten ("/login", "/api/"). An entry
	// ending in "/" matches everything under it; one without matches that
	// path exactly (with any query). "/static/" is always exempt.
	ExemptPrefixes []string
	// URLAttributes lists extra HTML attributes holding a URL that the
	// rewriter prefixes, besides href, src, action, formaction, poster and
	// srcset. An "hx-" name also covers its "data-hx-" spelling. Default
	// {"hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete",
	// "hx-push-url", "hx-replace-url", "data-href"}.
	URLAttributes []string

	// Skipper skips the session middleware (and tab handling) for a
	// request. Default none.
	Skipper func(r *http.Request) bool
	// ErrorHandler renders the errors the kit answers on its own: a
	// forged tab on an unsafe request (409), a store that is down (503), a
	// conflict with another request (409), a failed commit (500). It must
	// write the response to w, which already carries
	// X-Content-Type-Options, Cache-Control and Content-Security-Policy
	// headers it may change. Default: a short plain-text page.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err *Error)
	// Now is the kit's clock, for deadlines, idle tabs and last-seen
	// times. Default time.Now. Tests set it (together with the store's)
	// to move time without sleeping.
	Now func() time.Time

	// Logger receives what the kit has to say. Default slog.Default().
	Logger *slog.Logger
	// Observe, when set, is called for events worth counting or acting
	// on: commits, bad cookies, unknown tabs, and the lifecycle of
	// sessions (created, regenerated, principal changed, destroyed,
	// expired, evicted), each with a non-secret handle and the principal;
	// see Event. It runs after the commit, outside any store transaction,
	// must be quick and safe for concurrent use. Default none.
	Observe func(Event)
}

// DefaultConfig holds the defaults New fills in.
var DefaultConfig = Config{
	DBPath:          "tabkit.db",
	CookieName:      "tabkit",
	SameSite:        http.SameSiteLaxMode,
	IdleTimeout:     24 * time.Hour,
	Lifetime:        7 * 24 * time.Hour,
	MaxSessionBytes: 1 << 20,
	MaxTabs:         32,
	URLAttributes:   []string{"hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "hx-push-url", "hx-replace-url", "data-href"},
}

// PrincipalPolicy says what a sign-in past Config.MaxSessionsPerPrincipal
// does.
type PrincipalPolicy int

const (
	// RefuseSignIn fails SetPrincipal's commit with ErrTooManySessions:
	// the principal must sign out elsewhere first.
	RefuseSignIn PrincipalPolicy = iota
	// EndOldestSession ends the principal's least recently used sessions
	// to make room.
	EndOldestSession
)

// ForkPolicy says what data a forked tab starts with.
type ForkPolicy int

const (
	// ForkCopy gives the new tab a copy of the duplicated tab's data, as
	// a duplicated browser tab shows the same page.
	ForkCopy ForkPolicy = iota
	// ForkEmpty starts the new tab empty, so a duplicated cart cannot be
	// rung up twice.
	ForkEmpty
)

// minSigningKey is the shortest signing key accepted: HMAC-SHA256 gains
// nothing from longer keys and is weakened by shorter ones.
const minSigningKey = 32

// withDefaults returns cfg with zero fields filled in, or an error naming
// the first field that cannot work.
func (cfg Config) withDefaults() (Config, error) {
	d := DefaultConfig
	if cfg.DBPath == "" {
		cfg.DBPath = d.DBPath
	}
	if cfg.CookieName == "" {
		cfg.CookieName = d.CookieName
	}
	if !validCookieName(cfg.CookieName) {
		return cfg, fmt.Errorf("kit: CookieName %q is not a valid cookie name", cfg.CookieName)
	}
	if cfg.SameSite == 0 {
		cfg.SameSite = d.SameSite
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = d.IdleTimeout
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = d.Lifetime
	}
	if cfg.TouchInterval == 0 {
		cfg.TouchInterval = time.Minute
		if cfg.IdleTimeout > 0 {
			cfg.TouchInterval = min(cfg.IdleTimeout/10, time.Minute)
		}
	}
	for i, k := range cfg.SigningKeys {
		if len(k) < minSigningKey {
			return cfg, fmt.Errorf("kit: SigningKeys[%d] has %d bytes, need at least %d", i, len(k), minSigningKey)
		}
	}
	if cfg.Codec == nil {
		cfg.Codec = JSON{}
	}
	if cfg.MaxSessionBytes == 0 {
		cfg.MaxSessionBytes = d.MaxSessionBytes
	}
	if cfg.MaxTabs == 0 {
		cfg.MaxTabs = d.MaxTabs
	}
	if cfg.MaxTabs < 1 {
		return cfg, errors.New("kit: MaxTabs must be at least 1")
	}
	if cfg.TabIdleTimeout == 0 {
		cfg.TabIdleTimeout = cfg.IdleTimeout
	}
	if cfg.MaxTabID == 0 {
		cfg.MaxTabID = tabs.DefaultMaxID
	}
	for _, p := range cfg.ExemptPrefixes {
		if !strings.HasPrefix(p, "/") {
			return cfg, fmt.Errorf("kit: exempt prefix %q must start with /", p)
		}
	}
	if cfg.URLAttributes == nil {
		cfg.URLAttributes = d.URLAttributes
	}
	if cfg.ErrorHandler == nil {
		cfg.ErrorHandler = plainErrorPage
	}
	if cfg.MaxSessionsPerPrincipal < 0 {
		return cfg, errors.New("kit: MaxSessionsPerPrincipal must not be negative")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

// validCookieName reports whether name is an RFC 6265 token.
func validCookieName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return name != ""
}

// Codec turns session values into bytes and back.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSON is the default Codec, encoding/json.
type JSON struct{}

// Marshal implements Codec.
func (JSON) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal implements Codec.
func (JSON) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
