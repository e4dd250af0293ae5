package kit

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/tabkit/tabkit/internal/session"
)

const (
	// maxCookieValue bounds a cookie value we are willing to look at; a
	// signed token is about 120 bytes. Anything longer is rejected before
	// any decoding or HMAC work.
	maxCookieValue = 256
	// maxSessionCookies bounds how many tokens a request's cookies of the
	// session's name may offer, and twice as many how many of those
	// cookies are looked at, before the rest are ignored. A browser holds
	// one; a planted cookie with a narrower Path makes two.
	maxSessionCookies = 4
	// secureCookiePrefix makes browsers refuse the cookie unless it is
	// Secure, Path=/ and host-only, so a sibling subdomain cannot plant one.
	secureCookiePrefix = "__Host-"
)

// Why a cookie was ignored.
var (
	errBadCookie     = errors.New("kit: malformed or tampered session cookie")
	errExpiredCookie = errors.New("kit: signed session cookie older than the session lifetime")
)

// cookieCodec reads and writes the session cookie's value: the bare
// token, or the token signed with the newest key.
type cookieCodec struct {
	signers []securecookie.Codec
	// ageless verify like signers but accept any age, to tell an old
	// authentic cookie from a forged one.
	ageless []securecookie.Codec
}

func newCookieCodec(keys [][]byte, lifetime time.Duration) cookieCodec {
	var cc cookieCodec
	for _, k := range keys {
		s := securecookie.New(k, nil).SetSerializer(securecookie.NopEncoder{}).MaxLength(maxCookieValue)
		if lifetime > 0 {
			s.MaxAge(int(lifetime / time.Second))
		} else {
			s.MaxAge(0)
		}
		cc.signers = append(cc.signers, s)
		cc.ageless = append(cc.ageless, securecookie.New(k, nil).SetSerializer(securecookie.NopEncoder{}).MaxLength(maxCookieValue).MaxAge(0))
	}
	return cc
}

// decode returns the token a cookie value carries, or errBadCookie, or
// errExpiredCookie. It never touches the store.
func (cc cookieCodec) decode(name, value string) (string, error) {
	if len(value) > maxCookieValue {
		return "", errBadCookie
	}
	if len(cc.signers) == 0 {
		if !session.ValidToken(value) {
			return "", errBadCookie
		}
		return value, nil
	}
	var raw []byte
	if err := securecookie.DecodeMulti(name, value, &raw, cc.signers...); err != nil {
		if securecookie.DecodeMulti(name, value, &raw, cc.ageless...) == nil {
			return "", errExpiredCookie
		}
		return "", errBadCookie
	}
	token := string(raw)
	if !session.ValidToken(token) {
		return "", errBadCookie
	}
	return token, nil
}

// encode returns the cookie value for token.
func (cc cookieCodec) encode(name, token string) (string, error) {
	if len(cc.signers) == 0 {
		return token, nil
	}
	return cc.signers[0].Encode(name, []byte(token))
}

// isSecure reports whether r's cookie should be Secure.
func (m *Manager) isSecure(r *http.Request) bool {
	if m.cfg.Secure || r.TLS != nil {
		return true
	}
	return m.cfg.TrustForwardedProto && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// cookieName returns the cookie's name for r.
func (m *Manager) cookieName(r *http.Request) string {
	if m.isSecure(r) {
		return secureCookiePrefix + m.cfg.CookieName
	}
	return m.cfg.CookieName
}

// readTokens appends to dst the tokens r's session cookies carry, in the
// order the browser sent them, without duplicates; bad cookies are
// logged and skipped. The session core tries them in turn, so a cookie
// planted with a narrower Path cannot shadow the real one.
func (m *Manager) readTokens(dst []string, r *http.Request) []string {
	name := m.cookieName(r)
	examined := 0
	eachCookie(r.Header, name, func(value string) bool {
		examined++
		token, err := m.cookies.decode(name, value)
		switch {
		case errors.Is(err, errExpiredCookie):
			m.log.Info("ignoring an expired session cookie", "remote", r.RemoteAddr)
			m.observe(Event{Kind: EventExpiredCookie})
		case err != nil:
			m.log.Warn("ignoring session cookie", "reason", err, "remote", r.RemoteAddr, "length", len(value))
			m.observe(Event{Kind: EventBadCookie})
		case !contains(dst, token):
			dst = append(dst, token)
		}
		return len(dst) < maxSessionCookies && examined < 2*maxSessionCookies
	})
	return dst
}

// maxCookies is how many cookies a request may carry before none is
// read, as net/http's Request.Cookies decides by default.
const maxCookies = 3000

// eachCookie calls fn with the value of each cookie named name in h, in
// order, until fn returns false. It reads the Cookie header as net/http's
// Request.CookiesNamed does (the same trimming, quotes and byte rules),
// without allocating.
func eachCookie(h http.Header, name string, fn func(value string) bool) {
	lines := h["Cookie"]
	count := 0
	for _, line := range lines {
		count += strings.Count(line, ";") + 1
	}
	if count > maxCookies {
		return
	}
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = trimSpace(part)
			key, value, _ := strings.Cut(part, "=")
			if trimSpace(key) != name {
				continue
			}
			if len(value) > 1 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			if !validCookieValue(value) {
				continue
			}
			if !fn(value) {
				return
			}
		}
	}
}

// trimSpace trims what textproto.TrimString trims.
func trimSpace(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
}

// hasCookieHeader reports whether r carries a cookie named name.
func hasCookieHeader(r *http.Request, name string) bool {
	found := false
	eachCookie(r.Header, name, func(string) bool { found = true; return false })
	return found
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sessionCookie returns the cookie that hands token to the browser, or,
// for token "", the cookie that removes it. A zero expires makes a
// browser-session cookie.
func (m *Manager) sessionCookie(r *http.Request, token string, expires time.Time) (*http.Cookie, error) {
	name := m.cookieName(r)
	c := &http.Cookie{
		Name:     name,
		Path:     "/",
		HttpOnly: true,
		Secure:   m.isSecure(r),
		SameSite: m.cfg.SameSite,
	}
	if token == "" {
		c.MaxAge = -1
		return c, nil
	}
	value, err := m.cookies.encode(name, token)
	if err != nil {
		return nil, err
	}
	c.Value = value
	c.Expires = expires
	return c, nil
}
