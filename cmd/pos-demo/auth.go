package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
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
			// renderSignIn says why, when the session ended.
			return a.renderSignIn(kc, http.StatusOK, signInForm{Next: kc.Session().Tab().URL(here)})
		}
		// A form from a page shown while signed in: this browser has
		// signed out since, or its session was ended from elsewhere.
		notice := signedOutNotice
		if handle, gone, err := kc.Session().Gone(); err != nil {
			return err
		} else if gone {
			notice = endedNotice(handle, true)
		}
		return a.sendToSignIn(c.Response(), r, kc.Session().Tab().URL("/"), notice)
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
// cashiers while signed in. After a wrong PIN it says so and keeps the
// name typed (error=pin, name=…), so reloading it sends nothing again.
func (a *app) signInPage(c *kit.Context) error {
	form := signInForm{
		Next: localPath(c.QueryParam("next"), "/0/"),
		Name: cleanLabel(c.QueryParam("name"), maxNameRunes),
	}
	if c.QueryParam("error") == "pin" {
		form.Error = wrongPINMessage
	}
	return a.renderSignIn(c, http.StatusOK, form)
}

const wrongPINMessage = "That PIN is not right. Try again."

// signIn is POST /login. Wrong PINs are throttled per client and
// overall; a throttled client gets 429 without its PIN being checked.
func (a *app) signIn(c *kit.Context) error {
	form := signInForm{Next: localPath(c.FormValue("next"), "/0/"), Name: cleanLabel(c.FormValue("name"), maxNameRunes)}
	if !checkSignInCSRF(c) {
		return errBadCSRF
	}
	attempt := a.throttle.begin(c.RealIP())
	if wait := attempt.refused(); wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		form.Error = fmt.Sprintf("Too many wrong PINs. Wait %s, then try again.", waitText(wait))
		return a.renderSignIn(c, http.StatusTooManyRequests, form)
	}
	if !pinMatches(c.FormValue("pin"), a.pin) {
		attempt.failed()
		a.log.Warn("sign-in refused: wrong PIN", "client", c.RealIP())
		// Post, redirect, get: reloading the answer asks again rather
		// than sending the PIN again.
		q := url.Values{"next": {form.Next}, "error": {"pin"}}
		if form.Name != "" {
			q.Set("name", form.Name)
		}
		return c.Redirect(http.StatusSeeOther, "/login?"+q.Encode())
	}
	attempt.succeeded()
	name := form.Name
	if name == "" {
		name = defaultCashierName
	}
	s := c.Session()
	// A new ID for new privileges: an ID planted in this browser before
	// sign-in is worth nothing after it.
	if err := s.Regenerate(); err != nil {
		return err
	}
	// The cashier's name is the principal: the registers page lists the
	// other terminals signed in under it, and can sign them out.
	if err := s.SetPrincipal(name); err != nil {
		return err
	}
	// A browser-session cookie unless the till is to remember: a shared
	// till forgets who was signed in when its browser closes. Said at
	// every sign-in, so a new cashier's choice replaces the last one's.
	if err := s.RememberMe(c.FormValue("remember") == "1"); err != nil {
		return err
	}
	if err := s.Set(cashierKey, Cashier{Name: name, Since: a.now().UTC()}); err != nil {
		return err
	}
	if err := s.Set(csrfKey, newToken()); err != nil {
		return err
	}
	// A notice of an earlier sign-out is old news now.
	if _, err := c.Cookie(noticeCookie); err == nil {
		c.SetCookie(a.noticeCookieOf(""))
	}
	// The double-submit cookie stays: a sign-in form still open in another
	// browser tab carries the same token and must keep working.
	a.log.Info("cashier signed in", "cashier", name)
	return c.Redirect(http.StatusSeeOther, form.Next)
}

// signOutView is the data of the page that confirms signing out.
type signOutView struct {
	frame
	// Busy are the registers with something in their cart.
	Busy       []registerRow
	Items      int
	TotalCents int64
	Registers  int
}

// signOutPage is GET /{n}/signout: what signing out drops (every
// register and its cart; the sales stay), and the button that posts to
// /logout. It changes nothing itself.
func (a *app) signOutPage(c *kit.Context) error {
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	rows, err := a.registerRows(c, cart)
	if err != nil {
		return err
	}
	f, err := a.frame(c, "Sign out", "signout", cart)
	if err != nil {
		return err
	}
	view := signOutView{frame: f, Registers: len(rows)}
	for _, r := range rows {
		if r.Items > 0 {
			view.Busy = append(view.Busy, r)
			view.Items += r.Items
			view.TotalCents += r.TotalCents
		}
	}
	return a.pages.render(c.Response(), http.StatusOK, "signout", view)
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
	// Destroy removes the principal too. The Observe hook notes why, for
	// a request of this browser still on its way with the old cookie.
	done := a.endings.ending(s.Handle(), signOut{Kind: endedHere, At: a.now()})
	defer done()
	if err := s.Destroy(); err != nil {
		return err
	}
	a.log.Info("cashier signed out", "cashier", who.Name)
	return c.Redirect(http.StatusSeeOther, "/0/")
}

// signInForm is what the sign-in form shows besides its fields.
type signInForm struct {
	Next string
	// Name is the name typed last time, kept after a wrong PIN.
	Name  string
	Error string
	// Notice explains why the form is shown (signed out elsewhere).
	Notice string
}

// signInView is the data of the sign-in page.
type signInView struct {
	frame
	signInForm
	// Current names the cashier already signed in, when switching.
	Current string
}

func (a *app) renderSignIn(c *kit.Context, status int, form signInForm) error {
	view := signInView{frame: frame{Title: "Sign in", Nav: "signin", DefaultPIN: a.defaultPIN}, signInForm: form}
	who, signedIn, err := currentCashier(c.Session())
	if err != nil {
		return err
	}
	if signedIn {
		view.Current = who.Name
	} else if view.Notice == "" {
		if view.Notice, err = a.signInNotice(c); err != nil {
			return err
		}
	}
	view.CSRF = a.signInToken(c)
	return a.pages.render(c.Response(), status, "signin", view)
}
