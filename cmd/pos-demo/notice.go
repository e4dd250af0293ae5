package main

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/kit"
)

// The sign-in page says why it is shown when a terminal finds itself
// signed out: it signed out in another of its tabs, or its session was
// ended from elsewhere (another terminal, the operator) or expired. A
// browser signed out has no session to keep a flash in, so the notice
// crosses a redirect in a cookie of its own; it names the ended session's
// handle (never a cookie), and the words are looked up when shown, so a
// planted cookie cannot put words on the page.

// noticeCookie carries the sign-in page's notice across a redirect.
const noticeCookie = "pos_notice"

// noticeMaxAge bounds how long a notice waits for its page.
const noticeMaxAge = 300

// signedOutNotice says this browser signed out (in another tab).
const signedOutNotice = "signed-out"

// The notices of a session that ended otherwise: a prefix, then the
// session's handle. refusedPrefix says a change the terminal sent was
// not made; endedPrefix that it only asked for a page.
const (
	endedPrefix   = "ended."
	refusedPrefix = "refused."
)

// endedNotice is the notice for the ended session handle.
func endedNotice(handle string, refused bool) string {
	if refused {
		return refusedPrefix + handle
	}
	return endedPrefix + handle
}

// parseNotice reads a notice cookie's value. handle is "" for
// signedOutNotice; ok is false for a value of no known shape.
func parseNotice(v string) (handle string, refused, ok bool) {
	switch {
	case v == signedOutNotice:
		return "", true, true
	case strings.HasPrefix(v, endedPrefix) && validHandle(v[len(endedPrefix):]):
		return v[len(endedPrefix):], false, true
	case strings.HasPrefix(v, refusedPrefix) && validHandle(v[len(refusedPrefix):]):
		return v[len(refusedPrefix):], true, true
	}
	return "", false, false
}

// signedOutMessage is what a browser that signed itself out is told.
const signedOutMessage = "You were signed out (in this tab or another), so nothing was changed. Sign in to carry on."

// noticeCookieOf makes the notice cookie; value "" deletes it.
func (a *app) noticeCookieOf(value string) *http.Cookie {
	ck := &http.Cookie{
		Name: noticeCookie, Value: value, Path: "/", MaxAge: noticeMaxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		ck.MaxAge = -1
	}
	return ck
}

// sendToSignIn sends a request that found no session to the sign-in
// page, with notice (signedOutNotice or an endedNotice) saying why: a
// redirect for a plain form or page, HX-Redirect for htmx (which would
// otherwise swap the sign-in page into the cart), so the sign-in page
// loads whole.
func (a *app) sendToSignIn(w http.ResponseWriter, r *http.Request, next, notice string) error {
	http.SetCookie(w, a.noticeCookieOf(notice))
	target := "/login?next=" + url.QueryEscape(next)
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusOK)
		return nil
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

// signInNotice is what the sign-in page says about why it is shown: that
// the session the browser's cookie named has ended, and why, or the
// notice a redirect brought. It uses the notice up. Call it only when
// nobody is signed in.
func (a *app) signInNotice(c *kit.Context) (string, error) {
	handle, gone, err := c.Session().Gone()
	if err != nil {
		return "", err
	}
	ck, cerr := c.Cookie(noticeCookie)
	hasCookie := cerr == nil
	if gone {
		// Always said, so that noticeGone leaves this answer alone.
		c.SetCookie(a.noticeCookieOf(""))
		return a.endedMessage(c.Request().Context(), handle, false), nil
	}
	if !hasCookie {
		return "", nil
	}
	c.SetCookie(a.noticeCookieOf(""))
	noticed, refused, ok := parseNotice(ck.Value)
	switch {
	case !ok:
		return "", nil
	case noticed == "":
		return signedOutMessage, nil
	}
	return a.endedMessage(c.Request().Context(), noticed, refused), nil
}

// browserSignedOut reports whether r came without a session cookie:
// signing out deletes it, so a form posted from a tab left open
// afterwards arrives without one. A cookie naming a session that ended
// otherwise is not this case.
func browserSignedOut(r *http.Request) bool {
	name := kit.DefaultConfig.CookieName
	for _, c := range r.Cookies() {
		if c.Name == name || c.Name == "__Host-"+name {
			return false
		}
	}
	return true
}

// noticeGone sees the answers the kit gives on its own, without the
// demo's handlers: a page of a tab the session does not have is
// redirected to a fresh tab (and a session that has ended has none), a
// new register is opened in a new session. When the request's cookie
// named a session that has ended, noticeGone adds the notice, so the
// sign-in page the answer leads to says why. It runs in e.Pre before the
// kit, under the kit's response writer; answers of the demo's handlers
// (marked by reachedRoutes) say why themselves.
func (a *app) noticeGone(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		res.Writer = &goneWriter{ResponseWriter: res.Writer, c: c, a: a}
		return next(c)
	}
}

// reachedRoutesKey marks a request that reached Echo's routes (the demo's
// handlers, or its 404).
const reachedRoutesKey = "pos.reached-routes"

// reachedRoutes marks the requests the kit passed on to the routes. It is
// the first of e.Use's middleware.
func reachedRoutes(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(reachedRoutesKey, true)
		return next(c)
	}
}

// goneWriter adds the notice of an ended session to an answer the kit
// gave on its own.
type goneWriter struct {
	http.ResponseWriter
	c           echo.Context
	a           *app
	wroteHeader bool
}

func (g *goneWriter) WriteHeader(status int) {
	if !g.wroteHeader {
		g.wroteHeader = true
		if g.c.Get(reachedRoutesKey) == nil {
			g.a.addGoneNotice(g.c.Request(), g.Header())
		}
	}
	g.ResponseWriter.WriteHeader(status)
}

func (g *goneWriter) Write(b []byte) (int, error) {
	if !g.wroteHeader {
		g.WriteHeader(http.StatusOK)
	}
	return g.ResponseWriter.Write(b)
}

// Unwrap lets http.NewResponseController reach Flush and the like.
func (g *goneWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// addGoneNotice adds the notice cookie to h when the answer changes the
// session cookie (drops it, or replaces it with a new session's) because
// the one the request carried named a session that has ended, says
// nothing of the notice itself, and is for a browser (not JSON). Only
// such an answer is asked: the kit has then read the session already, so
// asking costs nothing, and r is the kit's request.
func (a *app) addGoneNotice(r *http.Request, h http.Header) {
	if wantsJSON(r) || !setsCookie(h, kit.DefaultConfig.CookieName) && !setsCookie(h, "__Host-"+kit.DefaultConfig.CookieName) || setsCookie(h, noticeCookie) {
		return
	}
	if handle, gone := sessionGone(r); gone {
		h.Add("Set-Cookie", a.noticeCookieOf(endedNotice(handle, !isSafeMethod(r.Method))).String())
	}
}

// setsCookie reports whether h sets or deletes the cookie name.
func setsCookie(h http.Header, name string) bool {
	for _, v := range h.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(v); err == nil && ck.Name == name {
			return true
		}
	}
	return false
}
