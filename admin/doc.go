// Package admin holds the operator's operations on a session store —
// list, show, delete, clear, stats, sweep, compact — once, for the tabkit
// command and for the admin endpoint an application serves. Admin runs
// them on a store in this process, Handler serves them over HTTP as
// JSON, and Client calls that endpoint with the same methods and errors.
//
//	a := admin.New(st)                        // st: any store.Store
//	list, err := a.Sessions(ctx)              // IDs shortened to 8 characters
//	d, err := a.Show(ctx, "Xy3_k9Qa")         // a unique prefix is enough
//	go http.ListenAndServe("127.0.0.1:9090", admin.Handler(st))
//	c, err := admin.NewClient("http://127.0.0.1:9090", nil) // same methods
//
// Listing needs store.Lister, stats store.Statser, gc store.Sweeper and
// compact a bbolt store (boltstore.Store.Compact); a store without one
// answers ErrUnsupported.
//
// # Security
//
// Session IDs are bearer secrets: listings show only their first eight
// characters, and Show and Delete take a prefix of at least eight. The
// values Show returns are the users' data. Handler has no authentication:
// serve it on a loopback address only. It refuses unsafe requests
// without the X-Tabkit-Admin header (no cross-site form or script can
// send it without a preflight) and requests whose Host is a DNS name
// other than localhost (DNS rebinding), and it never sends CORS headers.
//
// # Caveats
//
// Sessions, Clear, Stats (for its tab count) and prefix lookups walk
// every session. Clear deletes the sessions one by one: sessions created
// while it runs survive it. Compact makes every other call to the store
// wait until it is done. Show decodes values as JSON, kit's default
// codec; values in another codec appear as raw bytes. A session ID
// appears in the URL of Show and Delete requests, so do not log the
// admin endpoint's requests.
package admin
