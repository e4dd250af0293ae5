// Command pos-demo is a point-of-sale terminal built on tabkit: every
// browser tab is a register with its own cart, the signed-in cashier
// belongs to the whole browser session, and the sales belong to the shop,
// in a ledger of their own.
//
//	go run ./cmd/pos-demo -addr 127.0.0.1:8080 -pin-file pin.txt
//
// Open http://127.0.0.1:8080/, sign in with the PIN, and use "Open
// register" to add registers. The pages are plain HTML forms and work
// without JavaScript. With it, htmx (vendored, web/static) changes the
// cart in place (add, quantity, remove, rename: no reload, no scroll
// jump) and boosts navigation; /static/pos.js shows the refusals htmx
// does not swap (403, 409, 413, 429, 503) where the change was asked;
// /static/tabs.js gives a duplicated browser tab a register of its own.
//
// Flags:
//
//	-addr               listen address (default 127.0.0.1:8080; port 0 picks a free one)
//	-db                 bbolt file for -store bolt (default tabkit.db)
//	-store              bolt, bolt:PATH, memory, redis://host:port/db or postgres://… (default bolt)
//	-sales-db           bbolt file of the sales ledger (default: beside the
//	                    session file, tabkit.db → tabkit-sales.db; in the same
//	                    Redis with -store redis://; in memory with -store memory)
//	-secure             mark cookies Secure (serve over HTTPS)
//	-signing-keys-file  file of hex-encoded signing keys, one a line, newest first
//	-pin                the cashier PIN (default $POS_PIN, else 1234)
//	-pin-file           file holding the cashier PIN, instead of -pin
//	-trusted-proxy      addresses or CIDR prefixes, comma-separated, of proxies
//	                    whose X-Forwarded-For and X-Real-IP are believed
//	                    (default none: both headers are ignored)
//	-admin-addr         serve /metrics (Prometheus) and the admin API used by
//	                    "tabkit -admin URL" at this address, such as 127.0.0.1:9090
//	                    (default off; keep it on loopback)
//	-max-sessions       most sessions the store keeps (default 100000; 0 no limit)
//	-max-bytes          most bytes of session data, key names and values, the
//	                    store keeps (default 1 GiB; 0 no limit; not for redis)
//	-max-session-bytes  most bytes one session holds in the store (default 0:
//	                    the kit's own 1 MiB cap applies)
//	-when-full          refuse (default) or evict: a full store answers a new
//	                    session with 503 and Retry-After while existing sessions
//	                    keep working, or evicts the least recently seen sessions
//	                    (bolt only)
//
// The quota flags apply to the bolt and redis stores; the memory store
// has no quotas.
//
// Signing keys may also come from TABKIT_SIGNING_KEYS, hex keys separated
// by commas; the file wins when both are given. Each key is at least 32
// bytes (64 hex digits). With keys, the session cookie is signed.
//
// Sales: a checkout rings the cart up into the ledger, as a sale with a
// UUIDv7 receipt ID, and empties the cart. The checkout form carries the
// cart's key (a random cart ID and its version): of any number of posts
// of one form (a double click, Back and resubmit, a retry) exactly one
// rings a sale, and the others are shown its receipt. A post without the
// key takes whatever the cart holds. /sales lists the shop's latest
// sales, /sales.json the newest 1000, oldest first.
//
// Terminals: the cashier's name is the session's principal
// (kit.Session.SetPrincipal at sign-in; sign-out's Destroy removes it).
// The registers page lists the cashier's other signed-in terminals (other
// browsers: when each signed in, was last seen, and how many registers it
// has open; never a token) with "Sign out everywhere else"
// (kit.Session.EndOtherSessions), a CSRF-protected form answered in place
// with htmx. A terminal signed out that way, or by the operator through
// the admin endpoint, lands on the sign-in page at its next request (a
// page, a form, htmx; whichever register), which says who signed it out
// and when; a session that ended otherwise is said to have expired. The
// demo notes why each session ended, by its handle, when the kit reports
// it destroyed (kit.Config.Observe), in the sales ledger's store (bbolt
// file, Redis; in memory with -store memory): at most 10,000 notes, each
// kept 8 days.
//
// Cookies: the session cookie is a browser-session cookie (no Expires),
// so a shared till forgets its cashier when the browser closes, unless
// "Remember this till" is ticked at sign-in (kit.Session.RememberMe). A
// request that raced a sign-in in another tab of the same browser (its
// cookie was replaced meanwhile) is answered 409 with a link that reloads
// the page; htmx shows the message in place.
//
// Registers: "Close register" closes the browser tab's register
// (kit.Tab.Close) after a confirmation page when its cart holds
// anything. "Sign out" leads to a page listing what signing out drops
// (every register and its cart; never a sale) whose button posts to
// /logout; POST /logout itself signs out at once. A form sent from a tab
// left open after signing out lands on the sign-in page, which says so.
//
// # Security
//
// Every unsafe request carries a CSRF token: signed-in pages use a token
// stored in the session, compared in constant time, sent as the form field
// "csrf" or the X-CSRF-Token header; the sign-in form, which comes before
// any session, uses a double-submit cookie (HttpOnly, SameSite=Strict).
// Sign-in regenerates the session ID; sign-out destroys the session and
// with it every register of the browser. Carts and sales need a
// signed-in cashier.
//
// Wrong PINs are throttled with token buckets (golang.org/x/time/rate):
// five in a row per client (an IPv4 address or an IPv6 /64), then one
// every 20 s, and 30 then one every 2 s for all clients together. A
// throttled sign-in is answered 429 with Retry-After, its PIN unchecked,
// and logged once a minute per bucket. The client is the connection's
// peer: X-Forwarded-For and X-Real-IP count only from a -trusted-proxy. A
// PIN given by flag, file or environment is never logged (the built-in
// default is, as it is no secret); a wrong PIN redirects to the sign-in
// page (post, redirect, get), so reloading it sends nothing again.
//
// The pages allow no inline script or style (Content-Security-Policy);
// htmx runs with allowEval off and keeps no page snapshots in
// localStorage, where carts and form tokens would outlive a sign-out.
//
// The admin endpoint ends sessions through the kit's Manager
// (admin.Config.Ender), so the demo hears of each. It has no
// authentication and shows every session's data: keep -admin-addr on loopback (the demo warns loudly when it is
// not). It refuses unsafe requests without the X-Tabkit-Admin header,
// and it and /metrics refuse requests whose Host is a DNS name other than
// localhost, so a web page cannot drive or read them through a browser
// (DNS rebinding included).
//
// # Caveats
//
// The PIN is a demo: one shared PIN, throttled but short. GET
// /{n}/cart.json answers without sign-in, with the (then always empty)
// cart, so a monitoring check can read it; /sales.json needs a cashier
// and answers 401 otherwise.
//
// Any signed-in cashier sees every sale of the shop. The ledger keeps
// every sale; nothing prunes it. A sale whose recording fails puts its
// lines back in the cart; with Redis, a reply lost after the sale landed
// is told apart by its key, but a ledger that fails both the write and the
// lookup puts the lines back all the same, and a retry may then ring the
// sale twice.
//
// The throttle lives in each process: behind a load balancer, each
// process counts on its own. So does the knowledge of which sessions a
// request is ending and why: an operator ending a cashier's sessions at
// the very moment that cashier signs out their other terminals may have
// those terminals told the cashier did it. Cashiers who sign in without a
// name are all "Cashier", one principal: each sees the others as its
// other terminals.
//
// Duplicated browser tabs: with JavaScript, tabs.js forks the copy into a
// register of its own; without it they share one register. A closed
// register's browser tab shows /closed, outside any tab, from where the
// links to other registers load them afresh.
package main
