package kit

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

const (
	// idBytes of crypto randomness make a session ID: 256 bits, far past
	// the 122 of a UUIDv4, so guessing one is hopeless.
	idBytes = 32
	// idLength is the length of an ID in unpadded base64url.
	idLength = 43
	// maxCookieValue bounds a cookie value we are willing to look at; a
	// signed ID is about 120 bytes. Anything longer is rejected before any
	// decoding or HMAC work.
	maxCookieValue = 256
	// secureCookiePrefix makes browsers refuse the cookie unless it is
	// Secure, Path=/ and host-only, so a sibling subdomain cannot plant one.
	secureCookiePrefix = "__Host-"
)

// errBadCookie is logged when a cookie is malformed or fails its
// signature check; the request then has no session.
var errBadCookie = errors.New("kit: malformed or tampered session cookie")

// newID returns a fresh session ID.
func newID() string {
	var b [idBytes]byte
	// crypto/rand.Read never fails on supported platforms (it panics if
	// the kernel's source is broken, which no caller could handle).
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validID reports whether id has the shape newID produces, so a cookie
// cannot make the store look up arbitrary keys.
func validID(id string) bool {
	if len(id) != idLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// cookieCodec reads and writes the session cookie's value: the bare ID,
// or the ID signed with the newest key.
type cookieCodec struct {
	signers []securecookie.Codec
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
	}
	return cc
}

// decode returns the session ID carried by a cookie value, or
// errBadCookie. It never touches the store.
func (cc cookieCodec) decode(name, value string) (string, error) {
	if len(value) > maxCookieValue {
		return "", errBadCookie
	}
	if len(cc.signers) == 0 {
		if !validID(value) {
			return "", errBadCookie
		}
		return value, nil
	}
	var raw []byte
	if err := securecookie.DecodeMulti(name, value, &raw, cc.signers...); err != nil {
		return "", errBadCookie
	}
	id := string(raw)
	if !validID(id) {
		return "", errBadCookie
	}
	return id, nil
}

// encode returns the cookie value for id.
func (cc cookieCodec) encode(name, id string) (string, error) {
	if len(cc.signers) == 0 {
		return id, nil
	}
	return cc.signers[0].Encode(name, []byte(id))
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

// readSessionID returns the session ID r carries, or "" when it has none
// or the cookie is bad (which is logged).
func (m *Manager) readSessionID(r *http.Request) string {
	name := m.cookieName(r)
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	id, err := m.cookies.decode(name, c.Value)
	if err != nil {
		m.log.Warn("ignoring session cookie", "reason", err, "remote", r.RemoteAddr, "length", len(c.Value))
		m.observe(Event{Kind: EventBadCookie})
		return ""
	}
	return id
}

// sessionCookie returns the cookie that hands id to the browser, or, for
// id "", the cookie that removes it.
func (m *Manager) sessionCookie(r *http.Request, id string, expires time.Time) (*http.Cookie, error) {
	name := m.cookieName(r)
	c := &http.Cookie{
		Name:     name,
		Path:     "/",
		HttpOnly: true,
		Secure:   m.isSecure(r),
		SameSite: m.cfg.SameSite,
	}
	if id == "" {
		c.MaxAge = -1
		return c, nil
	}
	value, err := m.cookies.encode(name, id)
	if err != nil {
		return nil, err
	}
	c.Value = value
	if !expires.IsZero() {
		c.Expires = expires
	}
	return c, nil
}
