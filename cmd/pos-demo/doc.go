// Command pos-demo is a point-of-sale terminal built on tabkit: every
// browser tab is a register with its own cart, while the signed-in
// cashier and the day's sales belong to the whole browser session.
//
//	go run ./cmd/pos-demo -addr 127.0.0.1:8080 -pin 1234
//
// Open http://127.0.0.1:8080/, sign in with the PIN printed at start-up,
// and use "Open register" to add registers. The pages are plain HTML
// forms and work without JavaScript; /static/tabs.js only gives a
// duplicated browser tab a register of its own.
//
// Flags:
//
//	-addr               listen address (default 127.0.0.1:8080; port 0 picks a free one)
//	-db                 bbolt file for -store bolt (default tabkit.db)
//	-store              bolt, bolt:PATH, memory, redis://host:port/db or postgres://… (default bolt)
//	-secure             mark cookies Secure (serve over HTTPS)
//	-signing-keys-file  file of hex-encoded signing keys, one a line, newest first
//	-pin                the cashier PIN (default 1234)
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
// The admin endpoint has no authentication and shows every session's
// data: keep -admin-addr on loopback (the demo warns loudly when it is
// not). It refuses unsafe requests without the X-Tabkit-Admin header and
// requests whose Host is a DNS name other than localhost, so a web page
// cannot drive it through a browser.
//
// # Caveats
//
// The PIN is a demo: one shared PIN, no rate limit. GET /{n}/cart.json
// answers without sign-in, with the (then always empty) cart, so a
// monitoring check can read it; /sales.json needs a cashier and answers
// 401 otherwise.
package main
