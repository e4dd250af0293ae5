// Package storetest is the conformance suite for store.Store
// implementations. Every backend runs the same subtests, so a delta means
// the same thing, and loses nothing, whichever store holds the session.
//
// A backend's test runs it with a constructor for fresh, empty stores that
// take their time from the given clock:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now store.Clock) store.Store {
//			return mystore.New(mystore.Options{Path: filepath.Join(t.TempDir(), "s.db"), Now: now})
//		})
//	}
//
// Subtests are named (MissingID, RoundTrip, AtomicIncrements, ...) so a
// failure points at the rule broken and one rule can be rerun with
// -run 'TestStore/AtomicIncrements'. The optional interfaces (Sweeper,
// Lister, Statser, io.Closer) are tested when the store implements them;
// their subtests skip otherwise.
//
// Clock is the manual clock Run uses; it is exported for a backend's own
// tests of expiry.
//
// # Caveats
//
// The store must take every time decision (expiry, Created, tab 0's entry)
// from the clock it is given. The clock starts at the real time and only
// moves forward, often by hours at once, so a server-side TTL derived from
// the store's deadlines lies in the future and never fires during a
// subtest: the store itself must treat a session past its deadline as gone.
//
// Subtests run one after another, each with its own store, but the stores
// may be alive at once until the test ends; a backend that shares a server
// between them must give each its own key space. The concurrency subtests
// make about 6,600 commits in all, most of them contending for one key;
// a store that fsyncs every commit separately is slow here, by design.
//
// The suite checks behaviour through the Store interface only: it cannot
// see leftover storage that no Load returns, such as a deleted session's
// values still on disk. Backends test their own layout for that.
package storetest
