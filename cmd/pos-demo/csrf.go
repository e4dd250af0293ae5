package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/kit"
)

// CSRF tokens. A signed-in session keeps its token session-wide, so
// every register's forms carry the same one. Before sign-in there is no
// session (sessions are lazy, and a sign-in form must not create one), so
// the sign-in form uses a double-submit cookie: an attacker's page can
// neither read that HttpOnly cookie nor make the browser send it
// (SameSite=Strict), so it cannot put the matching value in a form.
const (
	csrfKey    = "csrf"         // session-wide key
	csrfField  = "csrf"         // form field
	csrfHeader = "X-CSRF-Token" // header alternative, for scripts
	csrfCookie = "csrf"         // the sign-in form's double-submit cookie
)

// tokenBytes of crypto randomness make a token.
const tokenBytes = 32

func newToken() string {
	var b [tokenBytes]byte
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validTokenShape reports whether s could be a token newToken made, so a
// cookie of any other shape is replaced rather than echoed into a page.
func validTokenShape(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// tokensEqual compares in constant time; an empty token never matches.
func tokensEqual(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// submittedToken is the token a request carries: the header, else the
// form field.
func submittedToken(c echo.Context) string {
	if t := c.Request().Header.Get(csrfHeader); t != "" {
		return t
	}
	return c.FormValue(csrfField)
}

// sessionToken returns the session's token, creating one when a
// signed-in session has none yet.
func sessionToken(s *kit.Session) (string, error) {
	var token string
	found, err := s.Get(csrfKey, &token)
	if err != nil {
		return "", err
	}
	if found && token != "" {
		return token, nil
	}
	token = newToken()
	return token, s.Set(csrfKey, token)
}

// errBadCSRF is the answer to a request without the right token.
var errBadCSRF = echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from this site. Reload the page and try again.")

// checkCSRF refuses unsafe requests whose token does not match the
// session's. It runs after requireCashier, so the session exists.
func checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isSafeMethod(c.Request().Method) {
			return next(c)
		}
		var want string
		if _, err := kit.From(c).Session().Get(csrfKey, &want); err != nil {
			return err
		}
		if !tokensEqual(submittedToken(c), want) {
			return errBadCSRF
		}
		return next(c)
	}
}

func isSafeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// signInToken returns the double-submit token for the sign-in form and
// sets its cookie when the browser has none (or a malformed one).
func (a *app) signInToken(c echo.Context) string {
	if ck, err := c.Cookie(csrfCookie); err == nil && validTokenShape(ck.Value) {
		return ck.Value
	}
	token := newToken()
	c.SetCookie(&http.Cookie{
		Name:     csrfCookie,
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		Secure:   a.secure,
		SameSite: http.SameSiteStrictMode,
	})
	return token
}

// checkSignInCSRF is the double-submit check of POST /login.
func checkSignInCSRF(c echo.Context) bool {
	ck, err := c.Cookie(csrfCookie)
	if err != nil {
		return false
	}
	return tokensEqual(submittedToken(c), ck.Value)
}
