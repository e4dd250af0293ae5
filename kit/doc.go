// Package kit puts tabkit's sessions and tabs in front of a web app: one
// HttpOnly cookie per browser, any number of tabs, each keyed by a small
// number in the URL path (/0/cart, /3/cart), each with its own data.
//
// With Echo v4:
//
//	m, err := kit.New(kit.Config{ExemptPrefixes: []string{"/login"}})
//	if err != nil { ... }
//	defer m.Close()
//	if err := m.Install(e); err != nil { ... }
//	e.POST("/cart/items", kit.Handler(func(c *kit.Context) error {
//		var cart Cart
//		err := c.Session().Tab().Update("cart", &cart, func() error { cart.Add(sku); return nil })
//		...
//	}))
//
// With net/http, chi or any router taking func(http.Handler) http.Handler:
//
//	http.ListenAndServe(addr, m.Wrap(mux))
//	// in a handler:
//	err := kit.SessionOf(r).Tab().Update("cart", &cart, fn)
//	if err != nil { kit.Fail(w, r, err); return }
//
// Install puts the kit in e.Pre, in front of routing, so routes are
// registered without the tab number; Wrap cuts it before the handler it
// wraps sees the path. Handlers use the session for session-wide data
// (who is signed in) and its Tab for this tab's data (this register's
// cart). A request commits only what it changed, before the first byte
// of its response, so two tabs writing at once never undo each other;
// Update is an atomic read-modify-write in the store; and a key a request
// read and then writes is committed only if nobody changed it meanwhile
// (ErrConflict, answered 409), so even naive get-modify-set code never
// acknowledges a write that is then lost.
//
// Sessions are lazy: a request that never touches its session does no
// store I/O and sets no cookie, and nothing is stored until a handler
// writes, so a flood of cookieless requests stores nothing.
//
// Tab numbers: a request for "/cart" (no number) is redirected to a tab
// (303), "/+/cart" opens a new tab, and a number this session does not
// have never reaches any data: GET and HEAD are redirected to a tab with a
// notice under FlashKey, other methods get 409. HTML responses of a tab
// are streamed through a rewriter that adds the tab's prefix to
// root-relative links, forms, htmx attributes (hx-* and data-hx-*) and
// the URL headers of redirects and htmx (Location, Refresh, HX-Location,
// HX-Push-Url, HX-Replace-Url, HX-Redirect), so the tab stays in its lane.
// Exempt prefixes ("/static/" always, plus Config.ExemptPrefixes) are
// neither redirected nor rewritten.
//
// Identity: SetPrincipal names who a session belongs to (at sign-in);
// Manager.SessionsOf and EndSessionsOf list and end a principal's
// sessions ("sign out everywhere"), Session.EndOtherSessions all but the
// current one, and Config.MaxSessionsPerPrincipal bounds them.
// Config.Observe receives the lifecycle of sessions (created,
// regenerated, principal changed, destroyed, expired, evicted) with a
// non-secret handle. Values can live for a while only (SetWithTTL).
//
// # Security
//
// Session tokens are 256 bits from crypto/rand, live only in the cookie
// (never in URLs), and are never adopted from a client: a token the store
// does not know gets a new one. Stores see only a hash of the token
// (store.HashToken), so a copied database, a Redis SCAN or an admin
// listing yields no working cookie. The cookie is HttpOnly, SameSite=Lax
// and Path=/, a browser-session cookie unless Config.PersistentCookies or
// Session.RememberMe say otherwise, and Secure with the __Host- prefix
// over TLS (or when Config.Secure is set). With Config.SigningKeys the
// token is signed with HMAC-SHA256; a tampered, truncated, oversized or
// wrongly signed cookie is treated as no session and the store is not
// asked. When a request carries several cookies of the kit's name (one
// planted with a narrower Path), the one naming a live session is used.
// Regenerate moves a session to a new token in one store operation (call
// it on sign-in): writes other tabs made meanwhile come along, and the old
// token is dead at once. Destroy deletes it. Every redirect the kit makes
// itself starts with the tab prefix, so no spelling of a path ("//host",
// "/\host", encoded) sends a browser off the host. The kit's own pages
// carry X-Content-Type-Options: nosniff, Cache-Control: no-store and a
// Content-Security-Policy that allows nothing. Tab numbers are not secret:
// they only select among the tabs of the session the cookie names.
//
// # Caveats
//
// Duplicated browser tabs (Ctrl+click, "Duplicate tab", a pasted URL) carry
// the same number and so share a tab. With JavaScript, web/static/tabs.js
// notices the copy and forks it into a new tab through ForkPath (with a
// copy of the data or empty: Config.Fork); without it they keep sharing.
// URLs built by scripts are not rewritten: use Tab.URL. A handler that
// returns an error (or calls Fail), panics or answers 5xx commits nothing
// it queued; Update, Regenerate, Destroy and Tab.Close take effect at once
// and are kept. Compression belongs outside the kit; gzip or deflate
// inside it still works (the kit decodes, rewrites and encodes a tab's
// HTML again), any other encoding of a tab's HTML is answered 500.
package kit
