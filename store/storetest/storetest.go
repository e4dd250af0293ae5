package storetest

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// Run runs the conformance suite against stores made by newStore. Each
// subtest calls newStore for a fresh, empty store using the given clock for
// every time decision (expiry, Created...). The clock starts at the real
// current time (so backends that also use a server-side TTL, like Redis
// PEXPIREAT, see deadlines in the future) and only moves forward. Run
// closes stores that implement io.Closer at t.Cleanup.
//
// Subtests run one after the other, never in parallel, so backends that
// share a server can hand out stores that share it too.
func Run(t *testing.T, newStore func(t *testing.T, now store.Clock) store.Store) {
	t.Helper()
	for _, st := range subtests {
		t.Run(st.name, func(t *testing.T) {
			st.run(newHarness(t, newStore))
		})
	}
}

// subtests are in the order the docs cite them: the core contract first,
// then the rules of deltas and tabs, concurrency, and the optional
// interfaces last.
var subtests = []struct {
	name string
	run  func(h *harness)
}{
	{"MissingID", testMissingID},
	{"RoundTrip", testRoundTrip},
	{"DeltaLeavesOtherKeysAlone", testDeltaLeavesOtherKeysAlone},
	{"TabNamespaceIsolated", testTabNamespaceIsolated},
	{"IdleExpiry", testIdleExpiry},
	{"AbsoluteExpiry", testAbsoluteExpiry},
	{"DeleteIsIdempotent", testDeleteIsIdempotent},
	{"ReturnedValuesAreCopies", testReturnedValuesAreCopies},
	{"CreateExisting", testCreateExisting},
	{"CommitMissing", testCommitMissing},
	{"CreateOverExpired", testCreateOverExpired},
	{"InvalidID", testInvalidID},
	{"IDsAreDistinct", testIDsAreDistinct},
	{"TabNotOpen", testTabNotOpen},
	{"EditMetaDropsTabValues", testEditMetaDropsTabValues},
	{"TabNumbersNeverReused", testTabNumbersNeverReused},
	{"ByteAccounting", testByteAccounting},
	{"MaxBytes", testMaxBytes},
	{"UpdateDeletes", testUpdateDeletes},
	{"UpdateErrorWritesNothing", testUpdateErrorWritesNothing},
	{"EditMetaErrorWritesNothing", testEditMetaErrorWritesNothing},
	{"VersionGrows", testVersionGrows},
	{"DeadlinesTouch", testDeadlinesTouch},
	{"KeyNames", testKeyNames},
	{"ContextCancelled", testContextCancelled},
	{"ConcurrentDeltasLoseNothing", testConcurrentDeltasLoseNothing},
	{"AtomicIncrements", testAtomicIncrements},
	{"ConcurrentTabs", testConcurrentTabs},
	{"ConcurrentCreateAndDelete", testConcurrentCreateAndDelete},
	{"ExpectMet", testExpectMet},
	{"ExpectNotMet", testExpectNotMet},
	{"ExpectOnlyReadKeys", testExpectOnlyReadKeys},
	{"NaiveAppendsLoseNothing", testNaiveAppendsLoseNothing},
	{"MoveCarriesEverything", testMoveCarriesEverything},
	{"MoveRefusesLaterCommits", testMoveRefusesLaterCommits},
	{"MoveAfterDelete", testMoveAfterDelete},
	{"MoveOntoLive", testMoveOntoLive},
	{"MoveOntoExpired", testMoveOntoExpired},
	{"MoveFailureChangesNothing", testMoveFailureChangesNothing},
	{"MoveRacesCommits", testMoveRacesCommits},
	{"MoveBadArguments", testMoveBadArguments},
	{"MoveLeavesATrace", testMoveLeavesATrace},
	{"ValueTTL", testValueTTL},
	{"ValueTTLRules", testValueTTLRules},
	{"ValueTTLMoves", testValueTTLMoves},
	{"Principal", testPrincipal},
	{"Sweep", testSweep},
	{"List", testList},
	{"Stats", testStats},
	{"PrincipalIndex", testPrincipalIndex},
	{"PrincipalExpiry", testPrincipalExpiry},
	{"PrincipalSignInsAtOnce", testPrincipalSignInsAtOnce},
	{"PrincipalLimitRefuses", testPrincipalLimitRefuses},
	{"PrincipalLimitEvicts", testPrincipalLimitEvicts},
	{"Close", testClose},
}

// Lifetimes the suite gives sessions. They are long next to a subtest's
// real running time, so a server-side TTL derived from them never fires
// while a subtest runs: only the manual clock expires sessions.
const (
	idleTimeout = time.Hour
	absTimeout  = 24 * time.Hour
)

// errBoom is what the suite's failing EditMeta and Update functions return,
// to check that Commit hands the caller's error back.
var errBoom = errors.New("storetest: boom")

// harness is one subtest's store, clock and helpers.
type harness struct {
	t     *testing.T
	ctx   context.Context
	clock *Clock
	st    store.Store
}

func newHarness(t *testing.T, newStore func(t *testing.T, now store.Clock) store.Store) *harness {
	t.Helper()
	// Milliseconds, because that is what Redis deadlines carry; a store
	// that keeps less than that fails the suite's Equal checks, on purpose.
	clock := NewClock(time.Now().Truncate(time.Millisecond))
	st := newStore(t, clock.Now)
	if st == nil {
		t.Fatal("storetest: newStore returned a nil store")
	}
	// Registered after newStore's own cleanups, so it runs before them:
	// the store closes before its file or server connection goes away.
	if c, ok := st.(io.Closer); ok {
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Errorf("Close: got %v, want nil", err)
			}
		})
	}
	return &harness{t: t, ctx: t.Context(), clock: clock, st: st}
}

func (h *harness) now() time.Time { return h.clock.Now() }

// createDelta is the Create delta a fresh request would commit: default
// lifetimes and the given values.
func (h *harness) createDelta(set map[store.Key]string) store.Delta {
	now := h.now()
	return store.Delta{
		Create:       true,
		IdleDeadline: now.Add(idleTimeout),
		AbsDeadline:  now.Add(absTimeout),
		Set:          bytesOf(set),
	}
}

// create makes session id with the given values and default lifetimes.
func (h *harness) create(id string, set map[store.Key]string) store.Meta {
	h.t.Helper()
	return h.commit(id, h.createDelta(set))
}

// commit applies d and fails the subtest when the store refuses.
func (h *harness) commit(id string, d store.Delta) store.Meta {
	h.t.Helper()
	m, err := h.st.Commit(h.ctx, id, d)
	if err != nil {
		h.t.Fatalf("Commit(%q): got error %v, want nil", id, err)
	}
	return m
}

// commitErr applies d, which must fail with an error matching want, and
// checks that the session did not change.
func (h *harness) commitErr(id string, d store.Delta, want error) {
	h.t.Helper()
	before, found := h.lookup(id)
	_, err := h.st.Commit(h.ctx, id, d)
	if !errors.Is(err, want) {
		h.t.Fatalf("Commit(%q): got error %v, want %v", id, err, want)
	}
	after, stillFound := h.lookup(id)
	if stillFound != found {
		h.t.Fatalf("Commit(%q) failed with %v, yet the session's existence changed: got found=%v, want %v", id, err, stillFound, found)
	}
	if found {
		if diff := diffRecord(after, before); diff != "" {
			h.t.Fatalf("Commit(%q) failed with %v, yet the session changed: %s", id, err, diff)
		}
	}
}

// lookup loads id and checks the record's invariants when it is found.
func (h *harness) lookup(id string) (store.Record, bool) {
	h.t.Helper()
	rec, found, err := h.st.Load(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Load(%q): got error %v, want nil", id, err)
	}
	if found {
		checkRecord(h.t, id, rec)
	}
	return rec, found
}

// load loads id, which must be live.
func (h *harness) load(id string) store.Record {
	h.t.Helper()
	rec, found := h.lookup(id)
	if !found {
		h.t.Fatalf("Load(%q): got found=false, want true", id)
	}
	return rec
}

// gone checks that id is not live.
func (h *harness) gone(id string) {
	h.t.Helper()
	rec, found, err := h.st.Load(h.ctx, id)
	switch {
	case errors.Is(err, store.ErrMoved):
		// Moved away moments ago: gone, and saying so.
	case err != nil:
		h.t.Fatalf("Load(%q): got error %v, want nil", id, err)
	case found:
		h.t.Fatalf("Load(%q): got a live session (version %d, %d values), want none", id, rec.Meta.Version, len(rec.Values))
	}
}

// wantValues checks that id holds exactly want.
func (h *harness) wantValues(id string, want map[store.Key]string) store.Record {
	h.t.Helper()
	rec := h.load(id)
	if diff := diffValues(rec.Values, bytesOf(want)); diff != "" {
		h.t.Fatalf("Load(%q) values: %s", id, diff)
	}
	return rec
}

// openTab opens the next tab of id with label and returns its number and
// the session's meta.
func (h *harness) openTab(id, label string) (uint32, store.Meta) {
	h.t.Helper()
	var n uint32
	m := h.commit(id, store.Delta{EditMeta: openTabEdit(h.now(), label, &n)})
	if _, ok := m.Tabs[n]; !ok {
		h.t.Fatalf("Commit(%q) opening tab %d: got tabs %v, want it open", id, n, tabNumbers(m))
	}
	return n, m
}

// openTabEdit is an EditMeta that opens the session's next tab and records
// its number in *opened, the way a "new tab" request does.
func openTabEdit(now time.Time, label string, opened *uint32) func(m *store.Meta) error {
	return func(m *store.Meta) error {
		if m.Tabs == nil {
			return errors.New("storetest: EditMeta got a nil tab table, want a map it can write to")
		}
		n := m.NextTab
		m.Tabs[n] = store.TabInfo{Created: now, LastSeen: now, Label: label}
		m.NextTab = n + 1
		*opened = n
		return nil
	}
}

// closeTabEdit is an EditMeta that closes tab n.
func closeTabEdit(n uint32) func(m *store.Meta) error {
	return func(m *store.Meta) error {
		delete(m.Tabs, n)
		return nil
	}
}

func bytesOf(values map[store.Key]string) map[store.Key][]byte {
	if values == nil {
		return nil
	}
	b := make(map[store.Key][]byte, len(values))
	for k, v := range values {
		b[k] = []byte(v)
	}
	return b
}
