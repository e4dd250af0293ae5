// Package admin holds the operator's operations on a session store —
// list, show, delete, clear, stats, sweep, compact, find and end a
// principal's sessions, re-key sessions stored under their cookie token —
// once, for the tabkit command and for the admin endpoint an application
// serves. Admin runs them on a store in this process, its Handler serves
// them over HTTP as JSON, and Client calls that endpoint with the same
// methods and errors.
//
//	a := admin.New(st)                        // st: any store.Store
//	list, err := a.Sessions(ctx)              // IDs shortened to 8 characters
//	d, err := a.Show(ctx, "Xy3_.k9Q")         // a unique prefix is enough
//	n, err := a.EndSessionsOf(ctx, "alice")   // sign alice out everywhere
//	go http.ListenAndServe("127.0.0.1:9090", a.Handler())
//	c, err := admin.NewClient("http://127.0.0.1:9090", nil) // same methods
//
// Listing needs store.Lister, stats store.Statser, gc store.Sweeper, a
// principal's sessions store.PrincipalIndex and compact a bbolt store
// (boltstore.Store.Compact); a store without one answers ErrUnsupported.
//
// Admin deletes from the store, so an application's kit.Config.Observe
// does not hear of the sessions an operator ends. To have it hear,
// make the Admin with NewWith and the application's *kit.Manager as
// Config.Ender: sessions are then ended through the Manager, which
// reports each (kit.EventSessionDestroyed).
//
// # Security
//
// Stores key a session by a hash of its cookie's token
// (store.HashToken), never by the token, so a session ID works as no
// cookie: listings show its first PrefixLength characters for width and
// the whole of it in Session.Handle, the handle kit's events and
// SessionInfo carry. A store written before IDs were hashed still holds
// sessions under their tokens, which are cookies: of those IDs only the
// prefix is ever shown (Session.KeyedByToken marks them), and Rekey
// moves them to their hashes. The values Show returns are the users'
// data. Handler has no authentication: serve it on a loopback address
// only. It refuses unsafe requests without the X-Tabkit-Admin header
// (no cross-site form or script can send it without a preflight) and
// requests whose Host is a DNS name other than localhost (DNS
// rebinding), and it never sends CORS headers.
//
// # Caveats
//
// Sessions, Clear, Rekey, Stats (for its tab count) and prefix lookups
// walk every session. Clear deletes the sessions one by one: sessions
// created while it runs survive it. EndSessionsOf ends the sessions the
// index lists at the time, one by one, and counts them: a session
// signed in as the principal while it runs survives it. Compact makes
// every other call to the store wait until it is done. Rekey is a copy
// and a delete, not one atomic step: run it with no process of a
// version that keys sessions by token using the store. Show decodes
// values as JSON, kit's default codec; values in another codec appear
// as raw bytes. A principal appears in the URL of the endpoint's
// principal requests, and a prefix of a token-keyed ID in the URL of
// Show and Delete requests, so do not log the admin endpoint's
// requests.
package admin
