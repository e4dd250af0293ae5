package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/tabkit/tabkit/store"
)

type ctxKey struct{}

func TestLoneCommitLeadsAtOnce(t *testing.T) {
	s, _ := openTest(t, nil)
	create(t, s, "a", nil)
	var rounds [][]*op
	s.hooks.beforeRound = func(batch []*op) { rounds = append(rounds, slices.Clone(batch)) }
	before := s.writeTxs.Load()

	for i := range 3 {
		ctx := context.WithValue(context.Background(), ctxKey{}, i)
		if _, err := s.Commit(ctx, "a", setDelta(store.SessionKey("n"), fmt.Sprint(i))); err != nil {
			t.Fatalf("Commit #%d: %v", i, err)
		}
		// The round ran on the caller's own goroutine, with only its op,
		// and was over when Commit returned: nothing waited for company.
		if len(rounds) != i+1 || len(rounds[i]) != 1 || rounds[i][0].ctx.Value(ctxKey{}) != i {
			t.Fatalf("after commit #%d: got rounds %v, want one round of its own op", i, rounds)
		}
		s.commits.mu.Lock()
		leading, queued := s.commits.leading, len(s.commits.queue)
		s.commits.mu.Unlock()
		if leading || queued != 0 {
			t.Errorf("after commit #%d: leading=%v queued=%d, want an idle committer", i, leading, queued)
		}
	}
	if got := s.writeTxs.Load() - before; got != 3 {
		t.Errorf("write transactions for 3 sequential commits: got %d, want 3", got)
	}
}

func TestGroupCommitSharesTransactions(t *testing.T) {
	const clients = 64
	s, _ := openTest(t, nil)
	ids := make([]string, clients)
	for i := range ids {
		ids[i] = fmt.Sprintf("s%02d", i)
	}
	bulkCommit(t, s, ids, func(int) store.Delta { return store.Delta{Create: true} })
	g := holdFirstRound(s)
	before := s.writeTxs.Load()

	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for _, id := range ids {
		wg.Go(func() {
			if _, err := s.Commit(context.Background(), id, setDelta(store.SessionKey("k"), id)); err != nil {
				errs <- fmt.Errorf("%s: %w", id, err)
			}
		})
	}
	<-g.entered
	taken := g.roundSizes()[0]
	waitQueued(s, clients-taken)
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if got := s.writeTxs.Load() - before; got != 2 {
		t.Errorf("write transactions for %d concurrent commits: got %d, want 2", clients, got)
	}
	if got := g.roundSizes(); len(got) != 2 || got[0]+got[1] != clients {
		t.Errorf("round sizes: got %v, want two rounds carrying %d ops", got, clients)
	}
	for _, id := range ids {
		if got := load(t, s, id)["k"]; got != id {
			t.Errorf("%s: got %q, want %q", id, got, id)
		}
	}
}

func TestBatchCapped(t *testing.T) {
	const clients = maxBatch + 10
	s, _ := openTest(t, nil)
	g := holdFirstRound(s)
	wait := plug(t, s, g)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			if err := s.Delete(context.Background(), fmt.Sprintf("missing%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(s, clients)
	close(g.release)
	wg.Wait()
	wait()
	if got := g.roundSizes(); !slices.Equal(got, []int{1, maxBatch, 10}) {
		t.Errorf("round sizes: got %v, want [1 %d 10]", got, maxBatch)
	}
}

var errRefused = errors.New("refused by the caller")

// TestFailingOpFailsAlone puts deltas that fail in every way a delta can
// into one transaction with good ones: the good ones land, the failing
// ones write nothing at all.
func TestFailingOpFailsAlone(t *testing.T) {
	bad := []struct {
		name    string
		delta   store.Delta
		wantErr error
	}{
		{"too large", store.Delta{MaxBytes: 10, Set: map[store.Key][]byte{store.SessionKey("big"): make([]byte, 100)}}, store.ErrTooLarge},
		{"update error", store.Delta{
			Set:    map[store.Key][]byte{store.SessionKey("set"): []byte("x")},
			Update: map[store.Key]store.UpdateFunc{store.SessionKey("u"): func([]byte, bool) ([]byte, error) { return nil, errRefused }},
		}, errRefused},
		{"update panic", store.Delta{
			Set:    map[store.Key][]byte{store.SessionKey("set"): []byte("x")},
			Update: map[store.Key]store.UpdateFunc{store.SessionKey("u"): func([]byte, bool) ([]byte, error) { panic("bug in handler") }},
		}, nil},
		{"edit meta panic", store.Delta{
			EditMeta: func(*store.Meta) error { panic(errRefused) },
			Set:      map[store.Key][]byte{store.SessionKey("set"): []byte("x")},
		}, errRefused},
		{"tab not open", store.Delta{Set: map[store.Key][]byte{
			store.SessionKey("set"): []byte("x"),
			store.TabKey(9, "cart"): []byte("x"),
		}}, store.ErrNoTab},
		{"create existing", store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("set"): []byte("x")}}, store.ErrExists},
	}
	s, _ := openTest(t, nil)
	var ids []string
	for i := range bad {
		ids = append(ids, fmt.Sprintf("bad%d", i), fmt.Sprintf("good%d", i))
	}
	bulkCommit(t, s, ids, func(i int) store.Delta {
		return store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("old"): []byte("kept")}}
	})
	g := holdFirstRound(s)
	before := s.writeTxs.Load()
	wait := plug(t, s, g)

	errs := make([]error, len(bad))
	var wg sync.WaitGroup
	for i, b := range bad {
		wg.Go(func() {
			_, errs[i] = s.Commit(context.Background(), fmt.Sprintf("bad%d", i), b.delta)
		})
		wg.Go(func() {
			id := fmt.Sprintf("good%d", i)
			if _, err := s.Commit(context.Background(), id, setDelta(store.SessionKey("set"), id)); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		})
	}
	waitQueued(s, 2*len(bad))
	close(g.release)
	wg.Wait()
	wait()

	// The plug's transaction, then one for all the others.
	if got := s.writeTxs.Load() - before; got != 2 {
		t.Errorf("write transactions: got %d, want 2", got)
	}
	for i, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			switch {
			case errs[i] == nil:
				t.Errorf("Commit: got nil error, want one")
			case b.wantErr != nil && !errors.Is(errs[i], b.wantErr):
				t.Errorf("Commit: got %v, want %v", errs[i], b.wantErr)
			}
			if got := load(t, s, fmt.Sprintf("bad%d", i)); len(got) != 1 || got["old"] != "kept" {
				t.Errorf("failed session: got %v, want only old=kept", got)
			}
			id := fmt.Sprintf("good%d", i)
			if got := load(t, s, id)["set"]; got != id {
				t.Errorf("batch-mate %s: got %q, want %q", id, got, id)
			}
		})
	}
}

func TestHalfWrittenOpIsRolledBack(t *testing.T) {
	s, _ := openTest(t, nil)
	bulkCommit(t, s, []string{"a", "b", "c"}, func(int) store.Delta { return store.Delta{Create: true} })
	g := holdFirstRound(s)
	before := s.writeTxs.Load()
	wait := plug(t, s, g)
	broken := errors.New("write failed")
	s.hooks.afterApply = func(o *op) error {
		if o.id == "b" {
			return broken
		}
		return nil
	}

	errs := make(map[string]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b", "c"} {
		wg.Go(func() {
			_, err := s.Commit(context.Background(), id, setDelta(store.SessionKey("k"), id))
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		})
	}
	waitQueued(s, 3)
	close(g.release)
	wg.Wait()
	wait()

	if !errors.Is(errs["b"], broken) {
		t.Errorf("failing op: got %v, want %v", errs["b"], broken)
	}
	for _, id := range []string{"a", "c"} {
		if errs[id] != nil {
			t.Errorf("%s: got %v, want nil", id, errs[id])
		}
		if got := load(t, s, id)["k"]; got != id {
			t.Errorf("%s: got %q, want %q", id, got, id)
		}
	}
	if got := load(t, s, "b"); len(got) != 0 {
		t.Errorf("half-written op left %v behind", got)
	}
	// The plug's transaction, one rolled back, one without the failing op.
	if got := s.writeTxs.Load() - before; got != 3 {
		t.Errorf("write transactions: got %d, want 3", got)
	}
}

func TestDiskFull(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"ENOSPC", &os.PathError{Op: "write", Path: "sessions.db", Err: syscall.ENOSPC}},
		{"EDQUOT", &os.PathError{Op: "write", Path: "sessions.db", Err: syscall.EDQUOT}},
		// bbolt reports a failed grow with %s, losing the errno.
		{"grow", fmt.Errorf("file resize error: %s", syscall.ENOSPC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTest(t, nil)
			create(t, s, "a", map[string]string{"k": "old"})
			var fail sync.Once
			s.hooks.beforeCommit = func() (err error) {
				fail.Do(func() { err = tt.err })
				return err
			}
			_, err := s.Commit(context.Background(), "a", setDelta(store.SessionKey("k"), "new"))
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("Commit on a full disk: got %v, want ErrUnavailable", err)
			}
			if errno := (syscall.Errno(0)); errors.As(tt.err, &errno) && !errors.Is(err, errno) {
				t.Errorf("Commit on a full disk: got %v, want it to wrap %v", err, errno)
			}
			if got := load(t, s, "a")["k"]; got != "old" {
				t.Errorf("reading after the failure: got %q, want %q", got, "old")
			}
			if _, err := s.Commit(context.Background(), "a", setDelta(store.SessionKey("k"), "new")); err != nil {
				t.Errorf("Commit once space is back: got %v, want nil", err)
			}
		})
	}
}

func TestFailedTransactionFailsEveryOp(t *testing.T) {
	s, _ := openTest(t, nil)
	bulkCommit(t, s, []string{"a", "b", "c"}, func(int) store.Delta { return store.Delta{Create: true} })
	g := holdFirstRound(s)
	wait := plug(t, s, g)
	broken := errors.New("fsync failed")
	var rounds int
	s.hooks.beforeCommit = func() error {
		if rounds++; rounds == 2 {
			return broken
		}
		return nil
	}
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b", "c"} {
		wg.Go(func() {
			if _, err := s.Commit(context.Background(), id, setDelta(store.SessionKey("k"), id)); !errors.Is(err, broken) {
				t.Errorf("%s: got %v, want %v", id, err, broken)
			}
		})
	}
	waitQueued(s, 3)
	close(g.release)
	wg.Wait()
	wait()
	for _, id := range []string{"a", "b", "c"} {
		if got := load(t, s, id); len(got) != 0 {
			t.Errorf("%s: got %v after a failed transaction, want nothing", id, got)
		}
	}
}

func TestCancelledWhileQueued(t *testing.T) {
	s, _ := openTest(t, nil)
	create(t, s, "a", nil)
	g := holdFirstRound(s)
	wait := plug(t, s, g)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Commit(ctx, "a", setDelta(store.SessionKey("k"), "v"))
		done <- err
	}()
	waitQueued(s, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Commit cancelled in the queue: got %v, want context.Canceled", err)
	}
	close(g.release)
	wait()
	if got := load(t, s, "a"); len(got) != 0 {
		t.Errorf("cancelled op wrote %v", got)
	}
	// The committer is idle again and takes the next commit at once.
	if _, err := s.Commit(context.Background(), "a", setDelta(store.SessionKey("k"), "later")); err != nil {
		t.Fatal(err)
	}
	if got := load(t, s, "a")["k"]; got != "later" {
		t.Errorf("after cancellation: got %q, want %q", got, "later")
	}
}

func TestCancelledLeaderPassesOn(t *testing.T) {
	s, _ := openTest(t, nil)
	bulkCommit(t, s, []string{"a", "b"}, func(int) store.Delta { return store.Delta{Create: true} })
	g := holdFirstRound(s)
	wait := plug(t, s, g)

	// a queues first, so it is named leader of the next round; it is
	// cancelled before that round starts, and b must still be carried.
	ctx, cancel := context.WithCancel(context.Background())
	aDone := make(chan error, 1)
	go func() {
		_, err := s.Commit(ctx, "a", setDelta(store.SessionKey("k"), "a"))
		aDone <- err
	}()
	waitQueued(s, 1)
	bDone := make(chan error, 1)
	go func() {
		_, err := s.Commit(context.Background(), "b", setDelta(store.SessionKey("k"), "b"))
		bDone <- err
	}()
	waitQueued(s, 2)
	cancel()
	close(g.release)
	wait()
	if err := <-aDone; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled leader: got %v, want context.Canceled", err)
	}
	if err := <-bDone; err != nil {
		t.Errorf("follower of a cancelled leader: got %v, want nil", err)
	}
	if got := load(t, s, "a"); len(got) != 0 {
		t.Errorf("cancelled op wrote %v", got)
	}
	if got := load(t, s, "b")["k"]; got != "b" {
		t.Errorf("follower: got %q, want %q", got, "b")
	}
}

func TestCancelledAfterTakenCompletes(t *testing.T) {
	s, _ := openTest(t, nil)
	create(t, s, "a", nil)
	ctx, cancel := context.WithCancel(context.Background())
	// The op is in a round when its context ends: it completes.
	s.hooks.beforeRound = func([]*op) { cancel() }
	if _, err := s.Commit(ctx, "a", setDelta(store.SessionKey("k"), "v")); err != nil {
		t.Errorf("Commit cancelled after it was taken: got %v, want nil", err)
	}
	if got := load(t, s, "a")["k"]; got != "v" {
		t.Errorf("got %q, want %q", got, "v")
	}
}

func TestCancelledBeforeEnqueue(t *testing.T) {
	s, _ := openTest(t, nil)
	create(t, s, "a", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := s.writeTxs.Load()
	if _, err := s.Commit(ctx, "a", setDelta(store.SessionKey("k"), "v")); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit: got %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: got %v, want context.Canceled", err)
	}
	if got := s.writeTxs.Load() - before; got != 0 {
		t.Errorf("write transactions: got %d, want 0", got)
	}
}

// TestNoChangeNoWrite checks that a round in which every op failed, or
// found nothing to do, is rolled back instead of paying for an fsync.
func TestNoChangeNoWrite(t *testing.T) {
	s, _ := openTest(t, &Options{MaxSessions: 1})
	create(t, s, "a", nil)
	ctx := context.Background()
	stats := s.db.Stats()
	before := stats.TxStats.GetWrite()
	if _, err := s.Commit(ctx, "missing", setDelta(store.SessionKey("k"), "v")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Commit to a missing session: got %v, want ErrNotFound", err)
	}
	if _, err := s.Commit(ctx, "b", store.Delta{Create: true}); !errors.Is(err, store.ErrFull) {
		t.Errorf("Commit beyond the quota: got %v, want ErrFull", err)
	}
	if err := s.Delete(ctx, "missing"); err != nil {
		t.Errorf("Delete of a missing session: got %v, want nil", err)
	}
	stats = s.db.Stats()
	if got := stats.TxStats.GetWrite() - before; got != 0 {
		t.Errorf("page writes: got %d, want 0", got)
	}
}
