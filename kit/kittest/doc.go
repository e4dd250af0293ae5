// Package kittest is the kit's model test, for stores to run: random
// rounds of requests from several browsers and tabs, driven over HTTP
// through kit (Echo and net/http), checked against a reference model of
// plain maps after every step.
//
//	func TestModel(t *testing.T) {
//		kittest.RunModel(t, "mystore", func(t *testing.T, clock *storetest.Clock) (store.Store, func()) {
//			st := mystore.New(mystore.Options{Now: clock.Now})
//			return st, func() { st.Close() }
//		})
//	}
//
// After every step it checks that every acknowledged write is visible
// where it should be, that no read crosses a tab or a browser, that no
// ended, expired or regenerated-away token answers, and that no tab table
// exceeds MaxTabs; and it reads the store directly to compare values,
// deadlines, tab tables and notices with the model. A failure prints its
// seed, a command to rerun it and a shrunk sequence of steps.
// Flags: -model.seed, -model.ops (10,000 per store by default),
// -model.len, -model.shrink, -model.relax.
//
// # Caveats
//
// The model reads the kit's own keys in the store (flash lists, notices),
// so it knows that private layout; a change there shows as a failing
// check here. Concurrent rounds are judged by every ordering the kit's
// promise allows; a failure found under a race may not repeat from its
// seed alone, so the printed shrunk sequence is the record.
package kittest
