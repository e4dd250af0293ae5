// Package kit connects tabkit's sessions and tabs to Echo v4: one HttpOnly
// cookie per browser, any number of tabs, each keyed by a small number in
// the URL path (/0/cart, /3/cart), each with its own data.
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
// Install puts the prefix handling in e.Pre, so routes are registered
// without the tab number, and the session middleware first in e.Use.
// Handlers use c.Session() for session-wide data (who is signed in, the
// day's sales) and c.Session().Tab() for this tab's data (this register's
// cart). A request commits only what it changed, before the first byte of
// its response, so two tabs writing at once never undo each other, and
// Update is an atomic read-modify-write in the store.
//
// Sessions are lazy: a request that never touches its session does no
// store I/O and sets no cookie, and nothing is stored until a handler
// writes, so a flood of cookieless requests stores nothing.
//
// Tab numbers: a request for "/cart" (no number) is redirected to a tab
// (303), "/+/cart" opens a new tab, and a number this session does not
// have never reaches any data: GET and HEAD are redirected to a new tab
// with a flash under FlashKey, other methods get 409. HTML responses of a
// tab are streamed through a rewriter that adds the tab's prefix to
// root-relative links, forms and redirects, so the tab stays in its lane.
// Exempt prefixes ("/static/" always, plus Config.ExemptPrefixes) are
// neither redirected nor rewritten.
//
// # Security
//
// Session IDs are 256 bits from crypto/rand, live only in the cookie (never
// in URLs), and are never adopted from a client: an ID the store does not
// know gets a new one. The cookie is HttpOnly, SameSite=Lax and Path=/,
// and Secure with the __Host- prefix over TLS (or when Config.Secure is
// set). With Config.SigningKeys the ID is signed with HMAC-SHA256; a
// tampered, truncated, oversized or wrongly signed cookie is treated as no
// session and the store is not asked. Regenerate moves a session to a new
// ID (call it on sign-in); Destroy deletes it. Tab numbers are not secret:
// they only select among the tabs of the session the cookie names.
//
// # Caveats
//
// Duplicated browser tabs (Ctrl+click, "Duplicate tab", a pasted URL) carry
// the same number and so share a tab. With JavaScript, web/static/tabs.js
// notices the copy and forks it into a new tab through ForkPath; without
// it they keep sharing. URLs built by scripts are not rewritten: use
// Tab.URL. A handler that returns an error, panics or answers 5xx commits
// nothing it queued; Update, Regenerate and Destroy take effect at once and
// are kept.
package kit
