package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tabkit/tabkit/store"
)

// valueSize is the size of each test session's big value.
const valueSize = 16 << 10

// fillAndThin stores n sessions of about 16 KiB each, then deletes all but
// every tenth, so the file is mostly free pages. Commits run concurrently
// to share fsyncs.
func fillAndThin(t *testing.T, s *Store, n int) (kept []string) {
	t.Helper()
	ctx := context.Background()
	value := bytes.Repeat([]byte("x"), valueSize)
	each := func(fn func(id string) error) {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				if err := fn(fmt.Sprintf("session-%04d", i)); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	each(func(id string) error {
		d := store.Delta{Create: true, Set: map[store.Key][]byte{store.SessionKey("v"): value, store.TabKey(0, "n"): []byte(id)}}
		_, err := s.Commit(ctx, id, d)
		return err
	})
	for i := 0; i < n; i += 10 {
		kept = append(kept, fmt.Sprintf("session-%04d", i))
	}
	each(func(id string) error {
		if slices.Contains(kept, id) {
			return nil
		}
		return s.Delete(ctx, id)
	})
	return kept
}

func checkKept(t *testing.T, s *Store, kept []string) {
	t.Helper()
	for _, id := range kept {
		rec, found, err := s.Load(context.Background(), id)
		if err != nil || !found {
			t.Fatalf("Load %s after compaction: found %v, err %v; want found", id, found, err)
		}
		if got := string(rec.Values[store.TabKey(0, "n")]); got != id {
			t.Errorf("Load %s: value %q, want %q", id, got, id)
		}
		if got := len(rec.Values[store.SessionKey("v")]); got != valueSize {
			t.Errorf("Load %s: value of %d bytes, want %d", id, got, valueSize)
		}
	}
}

func checkSessions(t *testing.T, s *Store, want int) {
	t.Helper()
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Sessions != int64(want) {
		t.Errorf("Stats.Sessions = %d, want %d", st.Sessions, want)
	}
}

func TestCompactShrinksAndKeepsData(t *testing.T) {
	s, _ := openTest(t, nil)
	kept := fillAndThin(t, s, 200)
	res, err := s.Compact(context.Background())
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if res.After >= res.Before/2 {
		t.Errorf("Compact: %d bytes before, %d after; want less than half", res.Before, res.After)
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != res.After {
		t.Errorf("file has %d bytes, Compact said %d", fi.Size(), res.After)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	checkKept(t, s, kept)
	checkSessions(t, s, len(kept))
	// The store keeps working on the new file.
	if _, err := s.Commit(context.Background(), "after", store.Delta{Create: true}); err != nil {
		t.Errorf("Commit after Compact: %v", err)
	}
	leftovers, _ := filepath.Glob(s.Path() + ".compact-*")
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestCompactReopenedFileKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := Open(path, &Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	kept := fillAndThin(t, s, 100)
	if _, err := s.Compact(context.Background()); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, &Options{SweepInterval: -1})
	if err != nil {
		t.Fatalf("Open after Compact: %v", err)
	}
	defer s.Close()
	checkKept(t, s, kept)
	checkSessions(t, s, len(kept))
}

func TestCompactWhileCommitting(t *testing.T) {
	s, _ := openTest(t, nil)
	kept := fillAndThin(t, s, 50)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			id := fmt.Sprintf("busy-%02d", i)
			if _, err := s.Commit(ctx, id, store.Delta{Create: true}); err != nil {
				errs <- fmt.Errorf("Commit %s: %w", id, err)
			}
		})
	}
	if _, err := s.Compact(ctx); err != nil {
		t.Errorf("Compact: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkKept(t, s, kept)
	checkSessions(t, s, len(kept)+40)
}

func TestCompactClosed(t *testing.T) {
	s, _ := openTest(t, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Compact(context.Background()); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Compact after Close: got %v, want ErrClosed", err)
	}
}
