package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/kit"
)

// cashierKey is the session-wide key naming the signed-in cashier.
const cashierKey = "cashier"

// Cashier is who is signed in on this browser.
type Cashier struct {
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
}

const (
	defaultCashierName = "Cashier"
	maxNameRunes       = 40
)

// currentCashier returns the signed-in cashier, if any.
func currentCashier(s *kit.Session) (Cashier, bool, error) {
	var who Cashier
	found, err := s.Get(cashierKey, &who)
	if err != nil || !found || who.Name == "" {
		return Cashier{}, false, err
	}
	return who, true, nil
}

// pinMatches compares digests in constant time, so neither the PIN's
// content nor its length leaks through timing.
func pinMatches(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// requireCashier lets signed-in requests through. Others change nothing:
// a page shows the sign-in form in place, a form post is sent to sign in
// and then back to this register.
func (a *app) requireCashier(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		kc := kit.From(c)
		_, signedIn, err := currentCashier(kc.Session())
		if err != nil {
			return err
		}
		if signedIn {
			return next(c)
		}
		r := c.Request()
		if isSafeMethod(r.Method) {
			here := r.URL.Path
			if r.URL.RawQuery != "" {
				here += "?" + r.URL.RawQuery
			}
			return a.renderSignIn(kc, http.StatusOK, kc.Session().Tab().URL(here), "")
		}
		return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(kc.Session().Tab().URL("/")))
	}
}

// localPath returns next when it is a path on this site, else fallback,
// so the sign-in form cannot be made to redirect elsewhere.
func localPath(next, fallback string) string {
	if next == "" || len(next) > 512 || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\x00\t\r\n") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return next
}

// cleanLabel trims a name or label, folds runs of spaces and control
// characters into one space, and cuts it to max runes.
func cleanLabel(s string, max int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > max {
		s = strings.TrimSpace(string(r[:max]))
	}
	return s
}

// signInPage is GET /login: the sign-in form, also used to switch
// cashiers while signed in.
func (a *app) signInPage(c *kit.Context) error {
	return a.renderSignIn(c, http.StatusOK, localPath(c.QueryParam("next"), "/0/"), "")
}

// signIn is POST /login.
func (a *app) signIn(c *kit.Context) error {
	next := localPath(c.FormValue("next"), "/0/")
	if !checkSignInCSRF(c) {
		return errBadCSRF
	}
	if !pinMatches(c.FormValue("pin"), a.pin) {
		a.log.Warn("sign-in refused: wrong PIN", "remote", c.RealIP())
		return a.renderSignIn(c, http.StatusUnauthorized, next, "That PIN is not right. Try again.")
	}
	name := cleanLabel(c.FormValue("name"), maxNameRunes)
	if name == "" {
		name = defaultCashierName
	}
	s := c.Session()
	// A new ID for new privileges: an ID planted in this browser before
	// sign-in is worth nothing after it.
	if err := s.Regenerate(); err != nil {
		return err
	}
	if err := s.Set(cashierKey, Cashier{Name: name, Since: time.Now().UTC()}); err != nil {
		return err
	}
	if err := s.Set(csrfKey, newToken()); err != nil {
		return err
	}
	// The double-submit cookie stays: a sign-in form still open in another
	// browser tab carries the same token and must keep working.
	a.log.Info("cashier signed in", "cashier", name)
	return c.Redirect(http.StatusSeeOther, next)
}

// signOut is POST /logout: the session and every register of this
// browser are gone.
func (a *app) signOut(c *kit.Context) error {
	s := c.Session()
	who, signedIn, err := currentCashier(s)
	if err != nil {
		return err
	}
	if !signedIn {
		return c.Redirect(http.StatusSeeOther, "/0/")
	}
	var want string
	if _, err := s.Get(csrfKey, &want); err != nil {
		return err
	}
	if !tokensEqual(submittedToken(c), want) {
		return errBadCSRF
	}
	if err := s.Destroy(); err != nil {
		return err
	}
	a.log.Info("cashier signed out", "cashier", who.Name)
	return c.Redirect(http.StatusSeeOther, "/0/")
}

// signInView is the data of the sign-in page.
type signInView struct {
	frame
	Next  string
	Error string
	// Current names the cashier already signed in, when switching.
	Current string
}

func (a *app) renderSignIn(c *kit.Context, status int, next, problem string) error {
	view := signInView{frame: frame{Title: "Sign in", Nav: "signin", Tab: c.Session().Tab().ID()}, Next: next, Error: problem}
	if who, signedIn, err := currentCashier(c.Session()); err != nil {
		return err
	} else if signedIn {
		view.Current = who.Name
	}
	view.CSRF = a.signInToken(c)
	return a.pages.render(c, status, "signin", view)
}
